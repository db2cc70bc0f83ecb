import { AppError } from '../shared/index.js';

/**
 * The fleet view could not be taken (NQ660 the inventory, NQ661 the SSH options). A replica that
 * cannot be reached is not an error of the command: it is a finding in its report (NQ670...).
 */
export class FleetError extends AppError {
  constructor(code: 'NQ660' | 'NQ661', message: string, hint: string) {
    super(code, message, hint);
  }
}
