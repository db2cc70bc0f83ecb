import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { decodeIniBytes } from '../../../appliance/src/config/index.js';

/** tw.ini as a Windows editor saves it: GBK (code page 936) or UTF-8, with or without a BOM. */
const TEXT =
  '; 股转交易网关 灾备\n[servers]\nserver1 = 172.50.101.30:7043\nserver1_name = 南方\nserver2_name = 福田\n';

describe('tw.ini encodings', () => {
  it('reads UTF-8, with and without a BOM', () => {
    expect(decodeIniBytes(Buffer.from(TEXT, 'utf8'))).toEqual({ text: TEXT, encoding: 'UTF-8' });
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(TEXT, 'utf8')]);
    expect(decodeIniBytes(bom)).toEqual({ text: TEXT, encoding: 'UTF-8 with BOM' });
  });

  it('reads GBK as GBK: the Chinese names come out as written, not garbled', () => {
    const gbk = iconv.encode(TEXT, 'gbk');
    expect(gbk.includes(Buffer.from('南方', 'utf8'))).toBe(false); // really not UTF-8 bytes
    expect(decodeIniBytes(gbk)).toEqual({ text: TEXT, encoding: 'GBK' });
  });

  it('ASCII only is UTF-8', () => {
    expect(decodeIniBytes(Buffer.from('[station]\nid = W888888T\n'))).toMatchObject({ encoding: 'UTF-8' });
  });

  it('refuses bytes that are neither UTF-8 nor GBK, naming the line (NQ251)', () => {
    const bytes = Buffer.concat([
      Buffer.from('[station]\nid = W888888T\nunits = '),
      Buffer.from([0xff, 0xff, 0x0a]),
    ]);
    const r = decodeIniBytes(bytes);
    expect(r).toMatchObject({ problem: { code: 'NQ251', line: 3 } });
    expect('problem' in r && r.problem.message).toMatch(/neither UTF-8 nor GBK/);
  });

  it('refuses UTF-16 ("Unicode" in Notepad), saying how to convert it (NQ252)', () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(TEXT, 'utf16le')]);
    const r = decodeIniBytes(bytes);
    expect(r).toMatchObject({ problem: { code: 'NQ252', line: 1 } });
    expect('problem' in r && r.problem.hint).toMatch(/iconv -f UTF-16 -t UTF-8/);
  });
});
