export { OpsServer, type OpsServerOptions } from './server.js';
export { SESSION_COOKIE, SESSION_TTL_MS, Sessions } from './auth.js';
export {
  ApiCertificateError,
  certificateCovers,
  ensureApiCertificate,
  spkiSha256,
  type ApiCertificate,
} from './cert.js';
export { AlertEngine, type Alert, type AlertEngineOptions } from './alerts.js';
export { ALERT_KINDS, LINE_ALERTS, SEVERITY_WORDS, type AlertCode, type Severity } from './catalogue.js';
export { AuditLog, readAuditLog, AUDIT_FILE, type AuditEntry } from './audit.js';
export { ensureTokenFile, readTokenFile, tokenMatches, TokenFileError } from './token.js';
export { WebhookSink, renderWebhookTemplate, type WebhookOptions } from './webhook.js';
export {
  AlertChannels,
  parseChannelSettings,
  alertFields,
  alertMail,
  AlertChannelSettingsError,
  type ChannelSettings,
} from './channels.js';
export { sendMail, formatMail, MailDeliveryError, type MailSettings, type MailMessage } from './mail.js';
export { createMetrics, type MetricsSource } from './metrics.js';
export { EventRing, type EventLine, type EventPage } from './events.js';
export { renderStatusPage } from './page.js';
export { TWO_PERSON_WORDS, personKey } from './control.js';
export { OPERATOR_HOLD, serverIndexOf, type OpsSource } from './source.js';
export { OpsClient, OpsApiError, operatorName } from './client.js';
