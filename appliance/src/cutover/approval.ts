/**
 * Approval and record for the DR duty's actions (cutover, drill, lock take-over, fail-back,
 * softkey): seed 002 §4.3 switches over only on the approval of the emergency command group's
 * leader or an authorised IT head, and §4.1.2 has duty work done by two people with a detailed
 * record. Each action names its operator and approver and is written to the append-only audit
 * log (state_dir/audit.log, the same file the ops API's control calls go to).
 */
import path from 'node:path';
import { AuditLog, operatorName, personKey, type AuditEntry } from '../ops/index.js';
import { AppError } from '../shared/index.js';

/** The refusal's words (both languages, as TWO_PERSON_WORDS in ops/control.ts). */
export const APPROVAL_WORDS =
  '需要批准人 (approver), 且不能与操作员相同 / an approver other than the operator is required';

export class ApprovalError extends AppError {}

export interface Approval {
  operator: string;
  /** null: none named (allowed only while tw.ini does not require one). */
  approver: string | null;
}

/**
 * Who acts and who approved. With `[management] require_checker = yes` the operator must be
 * named and an approver who is another person (compared as the ops API compares a checker:
 * case, spaces and an appended @address ignored) is required: else ApprovalError NQ620/NQ621.
 * Without it, a missing approver is recorded as "no approver"; one equal to the operator is
 * still refused (a person cannot approve their own switch-over).
 */
export function checkApproval(
  requireApprover: boolean,
  operator: string | undefined,
  approver: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Approval {
  const op = operator?.trim() ?? '';
  const ap = approver?.trim() ?? '';
  if (requireApprover && op === '') {
    throw new ApprovalError(
      'NQ620',
      `${APPROVAL_WORDS}: no operator named`,
      'tw.ini [management] require_checker = yes: give --operator NAME and --approver NAME (another person)',
    );
  }
  if (requireApprover && ap === '') {
    throw new ApprovalError(
      'NQ620',
      `${APPROVAL_WORDS}: no approver named`,
      'tw.ini [management] require_checker = yes: give --approver NAME (the person who approved, not the operator)',
    );
  }
  const who = op !== '' ? op : operatorName(undefined, env);
  if (ap !== '' && personKey(ap) === personKey(who)) {
    throw new ApprovalError(
      'NQ621',
      `${APPROVAL_WORDS}: approver ${ap} is the operator`,
      'the approver is another person: the emergency command group leader or an authorised IT head',
    );
  }
  return { operator: who, approver: ap === '' ? null : ap };
}

/** Where the action came from: the SSH client's address through the bastion, or local. */
export function cliSource(env: NodeJS.ProcessEnv = process.env): string {
  const ssh = env['SSH_CONNECTION']?.split(' ')[0];
  return ssh ? `cli ssh ${ssh}` : 'cli local';
}

/** The audit entry's people, in the shape every entry of these actions has. */
export function approvalFields(a: Approval): Pick<AuditEntry, 'operator' | 'approver' | 'approval'> {
  return a.approver === null
    ? { operator: a.operator, approval: 'no approver' }
    : { operator: a.operator, approver: a.approver, approval: 'approved' };
}

/**
 * Append one entry to state_dir/audit.log (opened O_APPEND, fsynced; ops/audit.ts). Throws
 * AuditWriteError NQ622 when it cannot be written: an action that cannot be recorded must say so.
 */
export function writeAudit(stateDir: string, entry: AuditEntry): string {
  const file = path.join(stateDir, 'audit.log');
  let log: AuditLog | null = null;
  try {
    log = new AuditLog(file);
    log.append(entry);
    return file;
  } catch (err) {
    throw new ApprovalError(
      'NQ622',
      `audit log ${file} not written: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'the state directory must be writable by the operator running nqgw (user nqgw or root)',
    );
  } finally {
    log?.close();
  }
}

/** A check before acting: the audit log can be opened for appending (created when missing). */
export function auditWritable(stateDir: string): string {
  const file = path.join(stateDir, 'audit.log');
  try {
    new AuditLog(file).close();
    return file;
  } catch (err) {
    throw new ApprovalError(
      'NQ622',
      `audit log ${file} cannot be opened: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'nothing was done: an action that cannot be recorded is not taken. Check the state directory',
    );
  }
}
