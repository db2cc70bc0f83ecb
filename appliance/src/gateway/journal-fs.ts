import { promises as fsp } from 'node:fs';
import { fsyncDir } from '../shared/index.js';

/**
 * The few file operations the file journal makes, as a seam: production passes Node's own
 * (nodeJournalFs); a test passes one that fails on cue (EIO, ENOSPC, a short write, a failed
 * fsync), so the journal's answer to each fault is tested, not assumed.
 */
export interface JournalHandle {
  /** One positional write; it may take fewer bytes than asked (POSIX allows it). */
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

export interface JournalFs {
  /** The whole file as UTF-8; rejects with code ENOENT when there is none. */
  readFile(file: string): Promise<string>;
  open(file: string, flags: 'r+' | 'w+', mode: number): Promise<JournalHandle>;
  /** fsync of a directory, so a new file's name survives a power cut. */
  syncDir(dir: string): Promise<void>;
}

export const nodeJournalFs: JournalFs = {
  readFile: (file) => fsp.readFile(file, 'utf8'),
  open: (file, flags, mode) => fsp.open(file, flags, mode),
  syncDir: fsyncDir,
};
