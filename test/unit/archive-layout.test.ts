import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseStartHeader, SEVEN_ZIP_SIGNATURE } from '../../src/archive/layout.js';

/** a start header as 7-Zip writes it at the end: signature, version 0.4, CRC of bytes 12–31, offset, size, CRC */
function startHeader(
  offset: bigint,
  size: bigint,
  nextCrc: number,
  opts: { badCrc?: boolean; sig?: Buffer } = {},
): Buffer {
  const b = Buffer.alloc(32);
  (opts.sig ?? SEVEN_ZIP_SIGNATURE).copy(b, 0);
  b[6] = 0;
  b[7] = 4;
  b.writeBigUInt64LE(offset, 12);
  b.writeBigUInt64LE(size, 20);
  b.writeUInt32LE(nextCrc, 28);
  b.writeUInt32LE((crc32(b.subarray(12, 32)) + (opts.badCrc ? 1 : 0)) >>> 0, 8);
  return b;
}

describe('parseStartHeader', () => {
  it.each<[string, Buffer, unknown]>([
    [
      'a valid header',
      startHeader(1000n, 90n, 0xdeadbeef),
      { nextHeaderOffset: 1000, nextHeaderSize: 90, nextHeaderCrc: 0xdeadbeef },
    ],
    [
      'the 32 placeholder bytes 7-Zip writes first (CRC of zeros does not match)',
      Buffer.concat([SEVEN_ZIP_SIGNATURE, Buffer.from([0, 4]), Buffer.alloc(24)]),
      'start header CRC mismatch',
    ],
    ['a wrong start header CRC', startHeader(1000n, 90n, 1, { badCrc: true }), 'start header CRC mismatch'],
    ['no signature', startHeader(1000n, 90n, 1, { sig: Buffer.from('PK\x03\x04\x00\x00') }), 'no 7z signature'],
    ['too short', Buffer.alloc(10), 'shorter than a 7z start header'],
    ['an offset beyond 2^53', startHeader(1n << 60n, 90n, 1), 'header offset out of range'],
  ])('%s', (_l, buf, want) => {
    expect(parseStartHeader(buf)).toEqual(want);
  });
});
