import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AnswerMatcher, FileJournal } from '../../../appliance/src/gateway/journal.js';
import { tempDir } from '../../helpers/tempdir.js';
import { dirsSyncedBy, inode } from '../shared/dirsync.js';

describe('the day journal is durable from its creation', () => {
  it('syncs the journal folder and the state folder when the day file is created, not on every reopen', async () => {
    const state = tempDir('nqgw-jdur-');
    const journal = FileJournal.forDay(state, '20260105');
    const synced = await dirsSyncedBy(() => journal.open(new AnswerMatcher()));
    expect(synced.has(await inode(path.join(state, 'journal')))).toBe(true);
    expect(synced.has(await inode(state))).toBe(true);
    await journal.append([{ k: 'm', next: 2 }], true);
    await journal.close();

    const again = FileJournal.forDay(state, '20260105');
    const resynced = await dirsSyncedBy(() => again.open(new AnswerMatcher()));
    expect(resynced.size).toBe(0);
    await again.close();
  });
});
