/**
 * The EKey slot probe's own process (forked by slot-probe.ts): answers "is the token in its slot?"
 * with pkcs11js, one question at a time over Node IPC. It exists so that a token driver that
 * hangs in C_GetSlotList/C_GetTokenInfo (a misbehaving USB device behind pcscd can take seconds)
 * stalls this process, which the gateway kills, and never the gateway's own event loop, where
 * orders and heartbeats run. The module's environment ([ekey] module_env) is inherited.
 */
import { Pkcs11Module, type TokenSelector } from './token.js';

export interface ProbeRequest {
  id: number;
  module: string;
  selector: TokenSelector;
}

export interface ProbeAnswer {
  id: number;
  present: boolean;
}

let module: Pkcs11Module | null = null;

process.on('message', (req: ProbeRequest) => {
  module ??= new Pkcs11Module(req.module);
  let present = false;
  try {
    present = module.present(req.selector);
  } catch {
    present = false; // a module that cannot even load: no token to use
  }
  const answer: ProbeAnswer = { id: req.id, present };
  process.send?.(answer);
});

// The gateway went away: nothing left to answer.
process.on('disconnect', () => process.exit(0));
