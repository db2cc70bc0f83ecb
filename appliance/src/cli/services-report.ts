import type { TwConfig } from '../config/index.js';
import type { Gateway, GatewayStatus } from '../gateway/index.js';
import { AlertChannels, parseChannelSettings, type Alert, type AlertEngine } from '../ops/index.js';
import { DayRecorder } from '../report/index.js';
import type { Service } from './service.js';

/**
 * Beside the ops API, on its alert engine (the same alerts the API shows): the day record the
 * daily report reads (alerts raised and cleared, clock offsets: report/recorder.ts) and the
 * alert channels for people ([alerts]: SMS gateway webhook, mail relay: ops/channels.ts).
 * A bad [alerts] section stops `nqgw run` at start (NQ840), like any other tw.ini problem.
 */
export function startAlertRecordAndChannels(
  gateway: Gateway,
  config: TwConfig,
  alerts: AlertEngine,
): Service[] {
  const settings = parseChannelSettings(config);
  const recorder = new DayRecorder({
    stateDir: config.files.stateDir,
    onError: (err) => gateway.log.warn(`日报记录写入失败 (state_dir/report): ${err.message}`, 'NQ832'),
  });
  const channels =
    settings.webhook || settings.mail
      ? new AlertChannels(settings, config.station.id, (channel, error) =>
          gateway.log.warn(`告警${channel === 'mail' ? '邮件' : '短信 webhook'}投递失败: ${error}`, 'NQ841'),
        )
      : null;
  const raised = (a: Alert): void => {
    recorder.alert('raised', a);
    channels?.notify('raised', a);
  };
  const cleared = (a: Alert): void => {
    recorder.alert('cleared', a);
    channels?.notify('cleared', a);
  };
  const onStatus = (s: GatewayStatus): void => recorder.clockSeen(s.clock);
  alerts.on('raised', raised);
  alerts.on('cleared', cleared);
  gateway.on('status', onStatus);
  return [
    {
      name: 'day record and alert channels',
      stop: async () => {
        alerts.off('raised', raised);
        alerts.off('cleared', cleared);
        gateway.off('status', onStatus);
        channels?.stop();
        await recorder.flush();
      },
    },
  ];
}
