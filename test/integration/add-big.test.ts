/**
 * Big input to `qshare add` (issue #7): 100,000 small files, and one file over 4 GiB (sparse, so it costs no disk).
 * The built CLI with the real 7-Zip. Durations are printed: these are the cases where a quadratic step or a 32-bit
 * offset would show.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import bencode from 'bencode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { sevenZip } from '../helpers/seven-zip.js';

const have7zz = existsSync('/usr/bin/7zz');
const isRoot = process.getuid?.() === 0;

async function setup(base: string) {
  const dir = await mkdtemp(join(base, 'qshare-big-'));
  const home = join(dir, 'home');
  const configFile = join(dir, 'config.json');
  await writeFile(configFile, JSON.stringify({ trackers: ['http://127.0.0.1:9/announce'] }));
  return {
    dir,
    home,
    env: cliEnv({
      QSHARE_HOME: home,
      QSHARE_CONFIG: configFile,
      QSHARE_QBIT_URL: `http://127.0.0.1:${await freePort()}`,
    }),
  };
}

async function timed<T>(what: string, f: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  const r = await f();
  console.log(`${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return r;
}

describe.skipIf(!have7zz)('qshare add: big input', () => {
  // a tmpfs (as root) keeps 100,000 files off the disk; elsewhere the system temp folder
  let base = tmpdir();
  let mounted: string | undefined;
  beforeAll(async () => {
    if (!isRoot) return;
    const m = await mkdtemp(join(tmpdir(), 'qshare-tmpfs-'));
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1g', 'tmpfs', m]).status === 0) base = mounted = m;
  });
  afterAll(async () => {
    if (mounted) spawnSync('umount', [mounted]);
  });

  it(
    '100,000 small files: every one is in the archive (and in a --no-encrypt torrent), in reasonable time',
    { timeout: 240_000 },
    async () => {
      const { dir, env } = await setup(base);
      const src = join(dir, 'many');
      await timed('creating 100,000 files', async () => {
        mkdirSync(src);
        for (let d = 0; d < 100; d++) {
          mkdirSync(join(src, `d${d}`));
          for (let i = 0; i < 1000; i++) writeFileSync(join(src, `d${d}`, `f${i}.txt`), `file ${d}/${i}\n`);
        }
      });

      const r = await timed('qshare add (encrypted)', () =>
        runCli(['add', src, '--no-seed', '--json'], { env, timeoutMs: 200_000 }),
      );
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      const listing = await sevenZip(['l', '-slt', '--', out.archive], `${out.password}\n`);
      expect(listing.code).toBe(0);
      const names = [...listing.out.matchAll(/^Path = many\/d(\d+)\/f(\d+)\.txt$/gm)];
      expect(names).toHaveLength(100_000);
      expect(new Set(names.map((m) => `${m[1]}/${m[2]}`)).size).toBe(100_000);

      const plain = await timed('qshare add --no-encrypt', () =>
        runCli(['add', src, '--no-seed', '--no-encrypt', '--json'], { env, timeoutMs: 200_000 }),
      );
      expect(plain.code, plain.stderr).toBe(0);
      const meta = bencode.decode(await readFile(JSON.parse(plain.stdout).torrentFile)) as {
        info: { files: unknown[] };
      };
      expect(meta.info.files).toHaveLength(100_000);
      await rm(dir, { recursive: true, force: true });
    },
  );

  it(
    'one sparse file over 4 GiB: the torrent pieces past 4 GiB are right (--no-encrypt), and the encrypted archive holds it whole (its size and the CRC of every byte)',
    { timeout: 240_000 },
    async () => {
      const { dir, env } = await setup(tmpdir());
      const file = join(dir, 'huge.bin');
      const size = 4 * 1024 ** 3 + 16 * 1024 ** 2 + 12_345; // past 2^32, not a multiple of any piece length
      await writeFile(file, '');
      await truncate(file, size);
      const markerAt = 4 * 1024 ** 3 + 9 * 1024 ** 2 + 7; // past 2^32
      const fh = await open(file, 'r+');
      await fh.write(Buffer.from('data past four gibibytes'), 0, 24, markerAt);
      await fh.write(Buffer.from('the last bytes'), 0, 14, size - 14);
      await fh.close();

      const plain = await timed('qshare add --no-encrypt (4 GiB sparse)', () =>
        runCli(['add', file, '--no-seed', '--no-encrypt', '--json'], { env, timeoutMs: 200_000 }),
      );
      expect(plain.code, plain.stderr).toBe(0);
      const out = JSON.parse(plain.stdout);
      expect(out.size).toBe(size);
      const meta = bencode.decode(await readFile(out.torrentFile)) as {
        info: { length: number; 'piece length': number; pieces: Uint8Array };
      };
      expect(meta.info.length).toBe(size);
      const pl = meta.info['piece length'];
      const pieces = Buffer.from(meta.info.pieces);
      expect(pieces.length).toBe(Math.ceil(size / pl) * 20);
      // check the pieces holding the marker, the last one and one of zeros, hashed here independently
      const fd = await open(file, 'r');
      for (const index of [Math.floor(markerAt / pl), Math.ceil(size / pl) - 1, 3]) {
        const len = Math.min(pl, size - index * pl);
        const buf = Buffer.alloc(len);
        await fd.read(buf, 0, len, index * pl);
        expect(pieces.subarray(index * 20, index * 20 + 20).toString('hex'), `piece ${index}`).toBe(
          createHash('sha1').update(buf).digest('hex'),
        );
      }
      await fd.close();

      // encrypted, compressed (--level 1: zeros shrink to almost nothing, so no 4 GiB archive is written)
      const enc = await timed('qshare add --level 1 (4 GiB sparse)', () =>
        runCli(['add', file, '--no-seed', '--level', '1', '--json'], { env, timeoutMs: 200_000 }),
      );
      expect(enc.code, enc.stderr).toBe(0);
      const e = JSON.parse(enc.stdout);
      const listing = await sevenZip(['l', '-slt', '--', e.archive], `${e.password}\n`);
      expect(listing.code).toBe(0);
      expect(listing.out).toContain(`\nPath = huge.bin\nSize = ${size}\n`);
      expect(listing.out).toMatch(/^Encrypted = \+$/m);
      // the CRC 7-Zip stored is that of every byte of the file, computed here independently
      const stored = /\nPath = huge\.bin\n(?:.+\n)*?CRC = ([0-9A-F]{8})\n/.exec(listing.out)?.[1];
      let crc = 0;
      const rd = await open(file, 'r');
      const chunk = Buffer.alloc(64 * 1024 * 1024);
      for (let pos = 0; pos < size; pos += chunk.length) {
        const { bytesRead } = await rd.read(chunk, 0, Math.min(chunk.length, size - pos), pos);
        crc = crc32(chunk.subarray(0, bytesRead), crc);
      }
      await rd.close();
      expect(stored).toBe(crc.toString(16).toUpperCase().padStart(8, '0'));
      await rm(dir, { recursive: true, force: true });
    },
  );
});
