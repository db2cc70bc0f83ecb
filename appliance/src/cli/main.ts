import { Command } from 'commander';
import { software } from '../shared/index.js';
import { registerRunCommands } from './run.js';
import { registerStatusCommand } from './status.js';
import { registerFeedCommand } from './feed.js';
import { registerLabCommands } from './lab.js';
import { registerConfigCommands } from './config.js';
import { registerClockCommands } from './clock.js';
import { registerCutoverCommand } from './cutover.js';
import { registerOpsCommands } from './ops.js';
import { registerLogsCommands } from './logs.js';
import { registerCalendarCommands } from './calendar.js';
import { registerSoftkeyCommands } from './softkey.js';
import { registerEkeyCommands } from './ekey.js';
import { registerOrdersCommand } from './orders.js';
import { registerReportCommands } from './report.js';
import { registerFleetCommands } from './fleet.js';
import { reportFailure } from './output.js';
import { defaultConfigEverywhere } from './usage.js';

/** `nqgw`: every operator and lab command. Each sub-command lives in its own file here. */
const program = new Command('nqgw')
  .description('NEEQ trading gateway DR appliance (股转系统交易网关)')
  .version(software().text)
  // Usage errors surface as CommanderError (not process.exit(1)) for the one handler at the end;
  // set before the sub-commands are made, which copy it.
  .exitOverride();
registerRunCommands(program);
registerStatusCommand(program);
registerFeedCommand(program);
registerLabCommands(program);
registerConfigCommands(program);
registerClockCommands(program);
registerCutoverCommand(program);
registerOpsCommands(program);
registerLogsCommands(program);
registerCalendarCommands(program);
registerSoftkeyCommands(program);
registerEkeyCommands(program);
registerOrdersCommand(program);
registerReportCommands(program);
registerFleetCommands(program);

// tw.ini by default for every command's --config (usage.ts), whatever is registered above.
defaultConfigEverywhere(program);

// The one place a failure is printed and turned into the exit code (output.ts): usage errors and a
// wrong tw.ini exit 2 with one line and a hint, never a stack trace.
try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = reportFailure(err);
}
