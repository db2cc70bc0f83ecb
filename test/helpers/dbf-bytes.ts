import fs from 'node:fs';

/**
 * Raw edits of a dBase file in place, as a broker's program or a write torn by a crash leaves
 * it: no checks, no header update unless asked.
 */
export function writeBytes(file: string, bytes: Buffer, position: number): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, bytes, 0, bytes.length, position);
  } finally {
    fs.closeSync(fd);
  }
}

/** The header's record count (bytes 4-7, little-endian) set to `count`, whatever the file holds. */
export function setCount(file: string, count: number): void {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(count, 0);
  writeBytes(file, b, 4);
}
