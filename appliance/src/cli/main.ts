import { Command } from 'commander';
import { SOFTWARE } from '../gateway/index.js';
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

/** `nqgw`: every operator and lab command. Each sub-command lives in its own file here. */
const program = new Command('nqgw')
  .description('NEEQ trading gateway DR appliance (股转系统交易网关)')
  .version(SOFTWARE);
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

await program.parseAsync(process.argv);
