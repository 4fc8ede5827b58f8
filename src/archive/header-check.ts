/**
 * Checks, in this process, that a new 7z archive's encrypted headers open with the password: the same proof as
 * `7zz t -x!*` (which it replaces for archives made by 7-Zip ≥ 21), without starting 7-Zip again after it finished.
 *
 * What it reads (7z format, docs/7zip.md): the 32-byte signature header points to the encoded header, which names
 * one folder whose only coder is AES-256 (archives are made with `-mhc=off`, so the header is encrypted but not
 * compressed), with the AES parameters (key-derivation rounds, salt, IV), the packed stream's place and size, and
 * the CRC32 of the plain header. The key is 7-Zip's: SHA-256 over 2^rounds blocks of salt + password (UTF-16LE) + an
 * 8-byte counter. The header is decrypted with AES-256-CBC and its CRC compared: with any other key (the old 7za
 * that silently used an empty password, for one) the CRC does not match.
 *
 * The key depends only on the password, the salt (7-Zip writes none) and the rounds (2^19), so it is derived while
 * 7-Zip is still writing (deriveKey) and the check after it is a read of a few hundred bytes and one decryption.
 * Anything this reader does not expect (another layout, a compressed header) → 'unsupported': the caller asks 7-Zip.
 */
import { createDecipheriv, createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { parseStartHeader, SEVEN_ZIP_SIGNATURE, START_HEADER_BYTES } from './layout.js';

const AES_ID = '06f10701';
/** the rounds 7-Zip uses (2^19), so the key can be derived before the header says so */
export const SEVEN_ZIP_ROUNDS_POWER = 19;
/** larger headers are not read into memory here (a header of 100,000 names is a few MB) */
const MAX_HEADER_BYTES = 64 << 20;

export type HeaderCheck = 'ok' | 'wrong-password' | { unsupported: string };

export interface AesParams {
  power: number;
  salt: Buffer;
  iv: Buffer;
}

/** 7-Zip's AES key: SHA-256 over 2^power blocks of salt + password (UTF-16LE) + an 8-byte little-endian counter. */
export async function deriveKey(password: string, salt: Buffer, power: number): Promise<Buffer> {
  const pw = Buffer.from(password, 'utf16le');
  if (power === 0x3f) {
    const key = Buffer.alloc(32);
    Buffer.concat([salt, pw]).copy(key, 0, 0, 32);
    return key;
  }
  // first let the caller's synchronous work go (createArchive starts 7-Zip right after asking for the key)
  await new Promise((r) => setImmediate(r));
  const unit = salt.length + pw.length + 8;
  const rounds = 2 ** power;
  // about 1 MB per update, yielding between them: derived while 7-Zip writes, next to the other work of this thread
  const perChunk = Math.max(1, Math.floor((1 << 20) / unit));
  const chunk = Buffer.alloc(perChunk * unit);
  salt.copy(chunk, 0);
  pw.copy(chunk, salt.length);
  // the same unit in every slot, by doubling (the counters are written below)
  for (let filled = unit; filled < chunk.length; filled *= 2)
    chunk.copy(chunk, filled, 0, Math.min(filled, chunk.length - filled));
  const hash = createHash('sha256');
  for (let done = 0; done < rounds; done += perChunk) {
    const n = Math.min(perChunk, rounds - done);
    for (let i = 0; i < n; i++) {
      const at = i * unit + salt.length + pw.length;
      const counter = done + i;
      chunk.writeUInt32LE(counter % 0x100000000, at);
      chunk.writeUInt32LE(Math.floor(counter / 0x100000000), at + 4);
    }
    hash.update(n === perChunk ? chunk : chunk.subarray(0, n * unit));
    await new Promise((r) => setImmediate(r));
  }
  return hash.digest();
}

/** A reader of 7z's header fields: bytes and 7z's variable-length numbers. Throws RangeError past the end. */
class Reader {
  pos = 0;
  constructor(private readonly b: Buffer) {}
  byte(): number {
    if (this.pos >= this.b.length) throw new RangeError('the header ends early');
    return this.b[this.pos++] as number;
  }
  bytes(n: number): Buffer {
    if (this.pos + n > this.b.length) throw new RangeError('the header ends early');
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  /** 7z NUMBER: the first byte's leading 1 bits say how many bytes follow (little-endian) */
  number(): number {
    const first = this.byte();
    let mask = 0x80;
    let value = 0;
    let i = 0;
    for (; i < 8 && first & mask; i++, mask >>= 1) value += this.byte() * 2 ** (8 * i);
    if (i < 8) value += (first & (mask - 1)) * 2 ** (8 * i);
    if (!Number.isSafeInteger(value)) throw new RangeError('a number in the header is too large');
    return value;
  }
}

export interface EncodedHeader {
  packPos: number;
  packSize: number;
  unpackSize: number;
  crc: number;
  aes: AesParams;
}

/**
 * Reads the encoded header's streams info (what follows 0x17), for the one layout 7-Zip writes with `-mhc=off`:
 * one packed stream, one folder with AES alone, the plain header's size and CRC. Pure.
 */
export function parseEncodedHeader(b: Buffer): EncodedHeader | { unsupported: string } {
  try {
    const r = new Reader(b);
    if (r.byte() !== 0x17) return { unsupported: 'the header is not encoded' };
    if (r.byte() !== 0x06) return { unsupported: 'no pack info' };
    const packPos = r.number();
    if (r.number() !== 1) return { unsupported: 'more than one packed stream' };
    if (r.byte() !== 0x09) return { unsupported: 'no pack sizes' };
    const packSize = r.number();
    for (let id = r.byte(); id !== 0x00; id = r.byte()) {
      if (id !== 0x0a) return { unsupported: `pack info property ${id}` };
      if (r.byte() !== 1) return { unsupported: 'pack CRCs not all defined' };
      r.bytes(4);
    }
    if (r.byte() !== 0x07 || r.byte() !== 0x0b) return { unsupported: 'no folder' };
    if (r.number() !== 1 || r.byte() !== 0) return { unsupported: 'not one inline folder' };
    if (r.number() !== 1) return { unsupported: 'the header has more than one coder (a compressed header)' };
    const flags = r.byte();
    if (flags & 0xd0) return { unsupported: 'a complex coder' };
    const id = r.bytes(flags & 0x0f).toString('hex');
    if (id !== AES_ID) return { unsupported: `coder ${id} is not AES` };
    if (!(flags & 0x20)) return { unsupported: 'AES without properties' };
    const props = r.bytes(r.number());
    const aes = parseAesProps(props);
    if (!aes) return { unsupported: 'unreadable AES properties' };
    if (r.byte() !== 0x0c) return { unsupported: 'no unpack size' };
    const unpackSize = r.number();
    if (r.byte() !== 0x0a || r.byte() !== 1) return { unsupported: 'no CRC of the header' };
    const crc = r.bytes(4).readUInt32LE(0);
    if (r.byte() !== 0x00) return { unsupported: 'more unpack info' };
    if (r.byte() !== 0x00) return { unsupported: 'more streams info' };
    return { packPos, packSize, unpackSize, crc, aes };
  } catch (e) {
    return { unsupported: e instanceof Error ? e.message : String(e) };
  }
}

/** 7-Zip's AES coder properties: rounds power, then the salt and IV sizes, then the salt and the IV. Pure. */
export function parseAesProps(p: Buffer): AesParams | undefined {
  if (p.length < 1) return undefined;
  const first = p[0] as number;
  const power = first & 0x3f;
  if ((first & 0xc0) === 0) return { power, salt: Buffer.alloc(0), iv: Buffer.alloc(16) };
  if (p.length < 2) return undefined;
  const second = p[1] as number;
  const saltSize = ((first >> 7) & 1) + (second >> 4);
  const ivSize = ((first >> 6) & 1) + (second & 0x0f);
  if (p.length !== 2 + saltSize + ivSize || ivSize > 16) return undefined;
  const iv = Buffer.alloc(16);
  p.copy(iv, 0, 2 + saltSize);
  return { power, salt: Buffer.from(p.subarray(2, 2 + saltSize)), iv };
}

/**
 * Opens `file`'s encrypted header with the password. `key` may be a key already derived for 7-Zip's usual
 * parameters (SEVEN_ZIP_ROUNDS_POWER, no salt); it is derived again if the archive says otherwise.
 */
export async function checkHeaders(file: string, password: string, key?: Promise<Buffer>): Promise<HeaderCheck> {
  const fh = await open(file, 'r');
  try {
    const start = Buffer.alloc(START_HEADER_BYTES);
    await fh.read(start, 0, START_HEADER_BYTES, 0);
    if (!start.subarray(0, 6).equals(SEVEN_ZIP_SIGNATURE)) return { unsupported: 'not a 7z archive' };
    const s = parseStartHeader(start);
    if (typeof s === 'string') return { unsupported: `the start header: ${s}` };
    const nextSize = s.nextHeaderSize;
    if (nextSize <= 0 || nextSize > MAX_HEADER_BYTES) return { unsupported: `a header of ${nextSize} bytes` };
    const next = Buffer.alloc(nextSize);
    await fh.read(next, 0, nextSize, START_HEADER_BYTES + s.nextHeaderOffset);
    if (crc32(next) !== s.nextHeaderCrc) return { unsupported: 'the encoded header is damaged' };
    const h = parseEncodedHeader(next);
    if ('unsupported' in h) return h;
    if (h.packSize % 16 !== 0 || h.unpackSize > h.packSize || h.packSize > MAX_HEADER_BYTES)
      return { unsupported: 'odd header sizes' };
    const packed = Buffer.alloc(h.packSize);
    await fh.read(packed, 0, h.packSize, START_HEADER_BYTES + h.packPos);
    const usual = h.aes.power === SEVEN_ZIP_ROUNDS_POWER && h.aes.salt.length === 0;
    const k = usual && key ? await key : await deriveKey(password, h.aes.salt, h.aes.power);
    const d = createDecipheriv('aes-256-cbc', k, h.aes.iv).setAutoPadding(false);
    const plain = Buffer.concat([d.update(packed), d.final()]).subarray(0, h.unpackSize);
    // a header starts with kHeader (0x01); its CRC is the proof
    return plain[0] === 0x01 && crc32(plain) === h.crc ? 'ok' : 'wrong-password';
  } finally {
    await fh.close();
  }
}
