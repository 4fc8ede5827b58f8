/**
 * The in-process header check (src/archive/header-check.ts) against archives the real 7zz makes: it opens what 7-Zip
 * opens with the password, refuses any other password, and hands what it does not read back to 7-Zip.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkHeaders,
  deriveKey,
  parseAesProps,
  parseEncodedHeader,
  SEVEN_ZIP_ROUNDS_POWER,
} from '../../src/archive/header-check.js';

const run = promisify(execFile);
let dir: string;
let src: string;

/** 7zz a with the password on stdin (as qshare runs it), extra switches added */
async function make(name: string, password: string, extra: string[]): Promise<string> {
  const out = join(dir, name);
  const child = execFile('7zz', ['a', '-t7z', '-mx0', '-mhe=on', '-p', ...extra, '-bso0', '-bsp0', '--', out, src]);
  child.stdin!.end(`${password}\n`);
  await new Promise<void>((resolve, reject) =>
    child.on('close', (c) => (c === 0 ? resolve() : reject(new Error(`7zz ${c}`)))),
  );
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qshare-header-check-'));
  src = join(dir, 'Photos');
  await mkdir(join(src, 'day 1'), { recursive: true });
  for (let i = 0; i < 300; i++) await writeFile(join(src, 'day 1', `IMG_${i}.jpg`), `photo ${i} `.repeat(50));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('checkHeaders (real 7zz archives)', () => {
  it('-mhc=off: the right password → ok, with a key derived beforehand or not; any other → wrong-password', async () => {
    const a = await make('a.7z', 'correct horse ünïcode', ['-mhc=off']);
    const key = deriveKey('correct horse ünïcode', Buffer.alloc(0), SEVEN_ZIP_ROUNDS_POWER);
    expect(await checkHeaders(a, 'correct horse ünïcode', key)).toBe('ok');
    expect(await checkHeaders(a, 'correct horse ünïcode')).toBe('ok');
    expect(await checkHeaders(a, 'correct horse unicode')).toBe('wrong-password');
    expect(await checkHeaders(a, '')).toBe('wrong-password');
    // what the old 7za's danger looks like from here: a key for another password
    expect(await checkHeaders(a, 'x', deriveKey('', Buffer.alloc(0), SEVEN_ZIP_ROUNDS_POWER))).toBe('wrong-password');
    // and 7-Zip agrees with both answers
    await expect(run('7zz', ['t', '-pcorrect horse ünïcode', '--', a])).resolves.toBeDefined();
    await expect(run('7zz', ['t', '-pcorrect horse unicode', '--', a])).rejects.toThrow();
  });

  it('a compressed header (7-Zip’s default for many names) → unsupported, so 7-Zip is asked instead', async () => {
    const b = await make('b.7z', 'pw', []);
    expect(await checkHeaders(b, 'pw')).toEqual({ unsupported: expect.stringMatching(/compressed header|coder/) });
  });

  it('a file that is not a 7z, or a damaged header → unsupported', async () => {
    const c = join(dir, 'c.7z');
    await writeFile(c, Buffer.alloc(64));
    expect(await checkHeaders(c, 'pw')).toEqual({ unsupported: 'not a 7z archive' });
    const a = await make('d.7z', 'pw', ['-mhc=off']);
    const bytes = await readFile(a);
    bytes[bytes.length - 3]! ^= 0xff; // inside the encoded header
    await writeFile(a, bytes);
    expect(await checkHeaders(a, 'pw')).toEqual({ unsupported: 'the encoded header is damaged' });
  });
});

describe('header-check pure parts', () => {
  it.each([
    // rounds 19, IV only (what 7-Zip writes): 0x40 | 19, then (salt 0, iv 16-1)
    [
      Buffer.from([0x53, 0x0f, ...Array.from({ length: 16 }, (_, i) => i)]),
      { power: 19, saltLen: 0, iv0: 0, iv15: 15 },
    ],
    // a salt of 2 and an IV of 8 (padded to 16 with zeros)
    [Buffer.from([0xc0 | 5, 0x17, 9, 9, 1, 2, 3, 4, 5, 6, 7, 8]), { power: 5, saltLen: 2, iv0: 1, iv15: 0 }],
    [Buffer.from([19]), { power: 19, saltLen: 0, iv0: 0, iv15: 0 }],
  ])('parseAesProps %#', (props, want) => {
    const p = parseAesProps(props)!;
    expect({ power: p.power, saltLen: p.salt.length, iv0: p.iv[0], iv15: p.iv[15] }).toEqual(want);
  });

  it('parseAesProps refuses sizes that do not add up', () => {
    expect(parseAesProps(Buffer.from([0x53, 0x0f, 1, 2]))).toBeUndefined();
    expect(parseAesProps(Buffer.alloc(0))).toBeUndefined();
  });

  it.each([
    [Buffer.from([0x01]), /not encoded/],
    [Buffer.from([0x17, 0x06]), /ends early/],
    [Buffer.from([0x17, 0x06, 0x00, 0x02]), /more than one packed stream/],
  ])('parseEncodedHeader %#', (b, why) => {
    expect(parseEncodedHeader(b)).toEqual({ unsupported: expect.stringMatching(why) });
  });

  it('deriveKey: the 0x3F special case is salt + password, no hashing', async () => {
    const k = await deriveKey('ab', Buffer.from([1, 2]), 0x3f);
    expect([...k.subarray(0, 6)]).toEqual([1, 2, 0x61, 0, 0x62, 0]);
    expect(k.length).toBe(32);
  });
});
