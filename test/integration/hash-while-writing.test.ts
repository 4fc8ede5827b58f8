/**
 * Hashing the archive while 7-Zip writes it, with the real 7zz (and p7zip's 7za, where it is not done): the
 * torrent must be exactly what an independent hasher makes of the finished archive — mktorrent (C, its own SHA-1
 * and bencode), and our plain single-thread hasher.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sevenBin from '7zip-bin';
import bencode from 'bencode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSevenZip, type SevenZip } from '../../src/archive/find.js';
import { dataPaths, type Paths } from '../../src/config/paths.js';
import { createLogger } from '../../src/log.js';
import { noProgress, type ShareDeps } from '../../src/share/deps.js';
import { archiveAndHashStep, torrentStep } from '../../src/share/steps.js';
import { createTorrent } from '../../src/torrent/create.js';
import { pseudoRandom } from '../helpers/tree.js';

const TRACKER = 'http://127.0.0.1:9/announce';
const have = existsSync('/usr/bin/7zz') && existsSync('/usr/bin/mktorrent');

let base: string;
let source: string;
let n = 0;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'qshare-hww-'));
  source = join(base, 'src');
  await mkdir(join(source, 'sub'), { recursive: true });
  // 6 MiB, incompressible, several files; with -mx1 7-Zip writes it at a few tens of MB/s, so many pieces are hashed
  // while it is still writing
  await writeFile(join(source, 'a.bin'), pseudoRandom(3 * 1024 * 1024, 7));
  await writeFile(join(source, 'sub', 'b.bin'), pseudoRandom(3 * 1024 * 1024 - 5, 9));
  await writeFile(join(source, 'sub', 'c.txt'), 'hello\n'.repeat(1000));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

function deps(
  paths: Paths,
  sz: SevenZip,
  debug: string[],
): Pick<ShareDeps, 'paths' | 'log' | 'progress' | 'signal' | 'sevenZip' | 'createdBy'> {
  return {
    paths,
    log: createLogger({ write: (l) => debug.push(l), json: true, level: 'debug', color: false }),
    progress: noProgress,
    signal: new AbortController().signal,
    sevenZip: async () => sz,
    createdBy: 'qshare test',
  };
}

async function freshPaths(): Promise<Paths> {
  const home = join(base, `home${n++}`);
  const paths = dataPaths(join(home, 'config.json'), home);
  await mkdir(paths.archivesDir, { recursive: true });
  await mkdir(paths.torrentsDir, { recursive: true });
  return paths;
}

function mktorrentHash(file: string, pieceLength: number, name: string): string {
  const out = join(base, `mk${n++}.torrent`);
  execFileSync(
    'mktorrent',
    ['-l', String(Math.log2(pieceLength)), '-t', '2', '-n', name, '-a', TRACKER, '-o', out, '--', file],
    { stdio: 'pipe' },
  );
  const info = (bencode.decode(execFileSync('cat', [out])) as Record<string, unknown>).info;
  return createHash('sha1').update(bencode.encode(info)).digest('hex');
}

describe.skipIf(!have)('hash while 7-Zip writes', () => {
  it.each([
    ['-mx1 (slow writer)', 1],
    ['-mx0 (store)', 0],
  ])(
    '7zz %s: pieces hashed while writing, the info hash = mktorrent = our plain hasher on the finished archive',
    async (_l, level) => {
      const sz = await findSevenZip({ cacheDir: join(base, 'cache'), env: { PATH: '/usr/bin' } });
      expect(sz.legacy).toBe(false);
      const paths = await freshPaths();
      const log: string[] = [];
      const d = deps(paths, sz, log);
      const pieceLength = 32768;
      const made = await archiveAndHashStep(d, {
        sourcePath: source,
        sourceBytes: 6 << 20,
        name: `share${n}`,
        password: 'correct horse battery',
        level,
        hashWhileWriting: { pieceLength },
      });
      expect(made.pieces, log.join('')).not.toBeNull();
      if (level === 1) expect(made.pieces!.hashedWhileWriting).toBeGreaterThan(0);
      expect(made.pieces!.pieceLength).toBe(pieceLength);

      const name = `share${n}.7z`;
      const t = await torrentStep(d, {
        contentPath: made.archive,
        torrentName: name,
        name: `share${n}`,
        trackers: [TRACKER],
        private: false,
        pieceLength,
        pieces: made.pieces,
      });
      expect(t.infoHash).toBe(mktorrentHash(made.archive, pieceLength, name));
      const plain = await createTorrent({
        root: made.archive,
        name,
        trackers: [TRACKER],
        private: false,
        pieceLength,
        threads: 1,
      });
      expect(t.infoHash).toBe(plain.infoHash);
      expect(
        (await readFile(t.torrentFile)).equals(
          Buffer.from(bencode.encode({ ...(bencode.decode(plain.torrent) as object), 'created by': 'qshare test' })),
        ),
      ).toBe(true);
    },
  );

  it('torrentStep does not trust pieces of a file that changed since: it hashes the archive again', async () => {
    const sz = await findSevenZip({ cacheDir: join(base, 'cache'), env: { PATH: '/usr/bin' } });
    const paths = await freshPaths();
    const d = deps(paths, sz, []);
    const made = await archiveAndHashStep(d, {
      sourcePath: source,
      sourceBytes: 6 << 20,
      name: 'changed',
      password: 'correct horse battery',
      level: 0,
      hashWhileWriting: { pieceLength: 32768 },
    });
    expect(made.pieces).not.toBeNull();
    // one byte of the archive changes after it was hashed (same inode, new mtime): the pieces must not be used
    const buf = await readFile(made.archive);
    buf[1000] = (buf[1000]! + 1) & 0xff;
    await writeFile(made.archive, buf);
    const t = await torrentStep(d, {
      contentPath: made.archive,
      torrentName: 'changed.7z',
      name: 'changed',
      trackers: [TRACKER],
      private: false,
      pieceLength: 32768,
      pieces: made.pieces,
    });
    expect(t.infoHash).toBe(mktorrentHash(made.archive, 32768, 'changed.7z'));
  });

  it('p7zip 16.02 (7za): not hashed while writing (pieces null), the torrent is still right', async () => {
    const copy = join(base, '7za-copy');
    await copyFile(sevenBin.path7za, copy);
    const sz = await findSevenZip({ cacheDir: join(base, 'cache-7za'), env: { PATH: '' }, bundled: copy });
    expect(sz.legacy).toBe(true);
    const paths = await freshPaths();
    const log: string[] = [];
    const d = deps(paths, sz, log);
    const made = await archiveAndHashStep(d, {
      sourcePath: source,
      sourceBytes: 6 << 20,
      name: 'old',
      password: 'correct horse battery',
      level: 0,
      hashWhileWriting: { pieceLength: 32768 },
    });
    expect(made.pieces).toBeNull();
    expect(log.join('')).toContain('not hashing while 7-Zip writes');
    const t = await torrentStep(d, {
      contentPath: made.archive,
      torrentName: 'old.7z',
      name: 'old',
      trackers: [TRACKER],
      private: false,
      pieceLength: 32768,
      pieces: made.pieces,
    });
    expect(t.infoHash).toBe(mktorrentHash(made.archive, 32768, 'old.7z'));
  });
});
