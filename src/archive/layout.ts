/**
 * Checking that a finished 7z file has the layout that makes hashing-while-writing sound (docs/7zip.md):
 * a 32-byte start header, the packed streams, and the (encoded) header at the very end, with the start header
 * pointing exactly at that end header. 7-Zip writes the file front to back and only then rewrites bytes 8–31 of
 * the start header; a file that passes this check was written in one sequential pass with the header last.
 */
import { crc32 } from 'node:zlib';
import type { FileHandle } from 'node:fs/promises';

export const SEVEN_ZIP_SIGNATURE = Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]);
export const START_HEADER_BYTES = 32;
/** a header bigger than this is not what `7zz a` writes for a share; refuse to read it (keeps memory small) */
const MAX_NEXT_HEADER = 64 * 1024 * 1024;

export interface StartHeader {
  nextHeaderOffset: number;
  nextHeaderSize: number;
  nextHeaderCrc: number;
}

/** Parses and checks the 32-byte start header. Pure. Returns a reason string when it is not a valid one. */
export function parseStartHeader(b: Buffer): StartHeader | string {
  if (b.length < START_HEADER_BYTES) return 'shorter than a 7z start header';
  if (!b.subarray(0, 6).equals(SEVEN_ZIP_SIGNATURE)) return 'no 7z signature';
  if (crc32(b.subarray(12, 32)) !== b.readUInt32LE(8)) return 'start header CRC mismatch';
  const offset = b.readBigUInt64LE(12);
  const size = b.readBigUInt64LE(20);
  if (offset > BigInt(Number.MAX_SAFE_INTEGER) || size > BigInt(Number.MAX_SAFE_INTEGER))
    return 'header offset out of range';
  return { nextHeaderOffset: Number(offset), nextHeaderSize: Number(size), nextHeaderCrc: b.readUInt32LE(28) };
}

/**
 * Reads the start header and the end header of an open 7z of `fileSize` bytes: undefined when the layout is the
 * sequential one (end header exactly at the end, both CRCs right), else the reason it is not.
 */
export async function checkSequentialLayout(fh: FileHandle, fileSize: number): Promise<string | undefined> {
  const start = Buffer.alloc(START_HEADER_BYTES);
  const { bytesRead } = await fh.read(start, 0, START_HEADER_BYTES, 0);
  const h = parseStartHeader(start.subarray(0, bytesRead));
  if (typeof h === 'string') return h;
  if (START_HEADER_BYTES + h.nextHeaderOffset + h.nextHeaderSize !== fileSize)
    return 'the end header does not end the file';
  if (h.nextHeaderSize === 0 || h.nextHeaderSize > MAX_NEXT_HEADER)
    return `unexpected end header size ${h.nextHeaderSize}`;
  const end = Buffer.alloc(h.nextHeaderSize);
  const got = await fh.read(end, 0, h.nextHeaderSize, START_HEADER_BYTES + h.nextHeaderOffset);
  if (got.bytesRead !== h.nextHeaderSize) return 'the end header is cut short';
  if (crc32(end) !== h.nextHeaderCrc) return 'end header CRC mismatch';
  return undefined;
}
