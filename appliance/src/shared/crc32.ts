/**
 * CRC-32 (IEEE 802.3 polynomial), used to seal each journal and spool record so a torn or
 * damaged line is recognised after a crash (QuickFIX/J#1081: a checksum on each stored record).
 * Node 20 has no zlib.crc32 (it arrived in 22.2), hence this table-driven version.
 */
const TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c >>> 0;
}

export function crc32(data: Buffer | string): number {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let crc = 0xffffffff;
  for (let i = 0; i < buf.length; i++) crc = TABLE[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
