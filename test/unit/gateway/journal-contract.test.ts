import path from 'node:path';
import { FileJournal } from '../../../appliance/src/gateway/journal.js';
import { tempDir } from '../../helpers/tempdir.js';
import { journalContract } from './journal-contract.js';
import { FaultyFs } from './journal-faults.js';

/** Every Journal the appliance has runs the one contract (journal-contract.ts). */
journalContract('FileJournal', () => {
  const file = path.join(tempDir('nqgw-jc-'), 'day.jnl');
  return { journal: () => new FileJournal(file), store: file };
});

journalContract(
  'FileJournal with write and fsync faults injected',
  () => {
    const file = path.join(tempDir('nqgw-jcf-'), 'day.jnl');
    const fs = new FaultyFs();
    return { journal: () => new FileJournal(file, { fs }), store: file, faults: fs };
  },
  { faults: true },
);
