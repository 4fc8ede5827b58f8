import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, statSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareTorrentPaths, listFiles } from '../../src/torrent/files.js';
import { hashPieces } from '../../src/torrent/hash.js';
import { createTorrent } from '../../src/torrent/create.js';
import { referencePieces, rejection, tempTrees } from '../helpers/hash-fixtures.js';

const trees = tempTrees('qshare-torrent-unit-');
const tree = trees.tree;

describe('compareTorrentPaths (mktorrent = strcmp on the joined path)', () => {
  it('sorts bytewise over "a/b" strings, not per component', () => {
    const paths = [['a0'], ['a', 'x'], ['a-b'], ['a b', 'x'], ['B'], ['é'], ['z'], ['.h'], ['a', 'x', 'y']];
    expect([...paths].sort(compareTorrentPaths).map((p) => p.join('/'))).toEqual([
      '.h',
      'B',
      'a b/x',
      'a-b',
      'a/x',
      'a/x/y',
      'a0',
      'z',
      'é',
    ]);
  });
});

describe('listFiles', () => {
  it('a single file: one entry named after it', async () => {
    const root = tree({ 'one file.bin': 1234 });
    const l = await listFiles(path.join(root, 'one file.bin'));
    expect(l).toEqual({
      kind: 'file',
      files: [
        {
          path: ['one file.bin'],
          length: 1234,
          absPath: path.join(root, 'one file.bin'),
          mtimeMs: statSync(path.join(root, 'one file.bin')).mtimeMs,
        },
      ],
      totalBytes: 1234,
      skipped: [],
    });
  });

  it('a folder: regular files recursively, sorted, zero-length and hidden included, links and FIFOs skipped', async () => {
    const root = tree({ 'z.bin': 3, 'a b/x': 5, 'a-b': 0, 'a/x/y': 7, '.hidden': 1, 'é/ü': 2, B: 4 });
    symlinkSync(path.join(root, 'z.bin'), path.join(root, 'link-to-file'));
    symlinkSync(path.join(root, 'a'), path.join(root, 'link-to-dir'));
    symlinkSync('/nonexistent', path.join(root, 'a', 'dangling'));
    execFileSync('mkfifo', ['--', path.join(root, 'fifo')]);
    mkdirSync(path.join(root, 'empty dir'));
    const l = await listFiles(root + '/');
    expect(l.kind).toBe('dir');
    expect(l.files.map((f) => [f.path.join('/'), f.length])).toEqual([
      ['.hidden', 1],
      ['B', 4],
      ['a b/x', 5],
      ['a-b', 0],
      ['a/x/y', 7],
      ['z.bin', 3],
      ['é/ü', 2],
    ]);
    expect(l.files.every((f) => f.absPath === path.join(root, ...f.path))).toBe(true);
    expect(l.totalBytes).toBe(22);
    expect(l.skipped).toEqual([
      'a/dangling (symbolic link)',
      'fifo (named pipe)',
      'link-to-dir (symbolic link)',
      'link-to-file (symbolic link)',
    ]);
  });

  it('a name that is not UTF-8 is skipped and reported', async () => {
    const root = tree({ ok: 1 });
    writeFileSync(Buffer.concat([Buffer.from(root + '/bad-'), Buffer.from([0xff, 0xfe])]), 'x');
    const l = await listFiles(root);
    expect(l.files.map((f) => f.path.join('/'))).toEqual(['ok']);
    expect(l.skipped).toHaveLength(1);
    expect(l.skipped[0]).toMatch(/^bad-.*\(name is not valid UTF-8\)$/);
  });

  it('a missing path → INPUT', async () => {
    const e = await rejection(listFiles(path.join(trees.dir(), 'nope')));
    expect(e.code).toBe('INPUT');
    expect(e.message).toContain('does not exist');
  });
});

describe('hashPieces', () => {
  const layouts: [string, Record<string, number>][] = [
    ['one file, partial last piece', { f: 40000 }],
    ['one file, exact multiple', { f: 32768 }],
    ['one byte', { f: 1 }],
    ['zero-length files first, middle and last', { a: 0, b: 20000, c: 0, d: 30000, e: 0 }],
    ['many small files in one piece', { a: 1, b: 2, c: 3, d: 4000, e: 5 }],
    ['files ending exactly on piece boundaries', { a: 16384, b: 16384, c: 100 }],
    ['a piece spanning three files', { a: 16000, b: 500, c: 40000 }],
  ];
  for (const [label, layout] of layouts) {
    for (const pieceLength of [16384, 32768]) {
      for (const maxReadBytes of [undefined, 4096, 1000]) {
        it(`${label}, piece ${pieceLength}, read ≤ ${maxReadBytes ?? 'default'}`, async () => {
          const { files } = await listFiles(tree(layout));
          const got = await hashPieces(files, pieceLength, { maxReadBytes });
          expect(got.equals(referencePieces(files, pieceLength))).toBe(true);
          expect(got.length).toBe(20 * Math.ceil(files.reduce((s, f) => s + f.length, 0) / pieceLength));
        });
      }
    }
  }

  it('reports progress, ending at total/total, never going backwards', async () => {
    const { files, totalBytes } = await listFiles(tree({ a: 100000, b: 50000 }));
    const seen: [number, number][] = [];
    await hashPieces(files, 16384, { progressIntervalMs: 0, onProgress: (d, t) => seen.push([d, t]) });
    expect(seen.length).toBeGreaterThan(5);
    expect(seen.at(-1)).toEqual([totalBytes, totalBytes]);
    for (let i = 1; i < seen.length; i++) expect(seen[i]![0]).toBeGreaterThanOrEqual(seen[i - 1]![0]);
  });

  it('throttles progress with the clock it is given', async () => {
    const { files } = await listFiles(tree({ a: 200000 }));
    let calls = 0;
    await hashPieces(files, 16384, { now: () => 0, onProgress: () => calls++ });
    expect(calls).toBe(1); // only the final call: the clock never advanced
  });

  it('an already aborted signal → INTERRUPTED', async () => {
    const { files } = await listFiles(tree({ a: 100000 }));
    const ac = new AbortController();
    ac.abort();
    const e = await rejection(hashPieces(files, 16384, { signal: ac.signal }));
    expect(e.code).toBe('INTERRUPTED');
  });

  it('aborting mid-way → INTERRUPTED, promptly', async () => {
    const { files } = await listFiles(tree({ a: 100000, b: 100000 }));
    const ac = new AbortController();
    let progressCalls = 0;
    const e = await rejection(
      hashPieces(files, 16384, {
        signal: ac.signal,
        progressIntervalMs: 0,
        onProgress: () => {
          progressCalls++;
          ac.abort();
        },
      }),
    );
    expect(e.code).toBe('INTERRUPTED');
    expect(progressCalls).toBe(1);
  });

  it.each([
    ['grew', (p: string) => appendFileSync(p, 'more')],
    ['shrank', (p: string) => truncateSync(p, 10)],
    ['was replaced by a folder', (p: string) => (unlinkSync(p), mkdirSync(p))],
  ])('a file that %s after listing → INPUT "changed while it was being read"', async (_l, mutate) => {
    const root = tree({ a: 30000, b: 30000 });
    const { files } = await listFiles(root);
    mutate(path.join(root, 'b'));
    const e = await rejection(hashPieces(files, 16384));
    expect(e.code).toBe('INPUT');
    expect(e.message).toContain(`${path.join(root, 'b')} changed while it was being read`);
  });

  it('a file deleted after listing → INPUT', async () => {
    const root = tree({ a: 30000, b: 30000 });
    const { files } = await listFiles(root);
    unlinkSync(path.join(root, 'b'));
    const e = await rejection(hashPieces(files, 16384));
    expect(e.code).toBe('INPUT');
    expect(e.message).toContain(path.join(root, 'b'));
  });

  it.each([
    ['grows', (p: string) => appendFileSync(p, 'more')],
    ['shrinks', (p: string) => truncateSync(p, 20000)],
  ])('a file that %s while it is being read → INPUT', async (_l, mutate) => {
    const root = tree({ a: 100000 });
    const { files } = await listFiles(root);
    let done = false;
    const e = await rejection(
      hashPieces(files, 16384, {
        progressIntervalMs: 0,
        onProgress: () => {
          if (!done) mutate(path.join(root, 'a'));
          done = true;
        },
      }),
    );
    expect(e.code).toBe('INPUT');
    expect(e.message).toContain('changed while it was being read');
  });
});

describe('createTorrent (input checks)', () => {
  it.each([
    ['an empty file', () => tree({ e: 0 }) + '/e'],
    ['an empty folder', () => tree({})],
    ['a folder of empty files', () => tree({ a: 0, 'b/c': 0 })],
  ])('%s → INPUT', async (_l, make) => {
    const e = await rejection(createTorrent({ root: make(), trackers: [], private: false }));
    expect(e.code).toBe('INPUT');
    expect(e.message).toContain('nothing to share');
  });

  it.each([
    ['a bad piece length', { pieceLength: 3000 }],
    ['a name with a slash', { name: 'a/b' }],
  ])('%s → USAGE', async (_l, over) => {
    const e = await rejection(createTorrent({ root: tree({ a: 1 }), trackers: [], private: false, ...over }));
    expect(e.code).toBe('USAGE');
  });

  it('defaults: name = basename, piece length chosen, counts and skipped returned', async () => {
    const root = tree({ 'x/a': 1000, b: 2000 });
    symlinkSync('b', path.join(root, 'l'));
    const r = await createTorrent({ root, trackers: [], private: false });
    expect(r).toMatchObject({
      name: path.basename(root),
      pieceLength: 16384,
      totalBytes: 3000,
      fileCount: 2,
      skipped: ['l (symbolic link)'],
    });
    expect(r.torrent.includes(Buffer.from('announce'))).toBe(false);
  });
});
