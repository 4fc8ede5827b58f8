/**
 * The worker-thread hasher: the same pieces as the in-memory reference and the single-thread hasher for every
 * layout (pieces spanning files, many small files, zero-length files), and the failure paths (abort, files that
 * change, vanish or cannot be read), with real threads and real files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listFiles } from '../../src/torrent/files.js';
import {
  defaultHashThreads,
  hashPieces,
  hashPiecesSerial,
  PARALLEL_MIN_BYTES,
  PARALLEL_MIN_FILES,
} from '../../src/torrent/hash.js';
import { hashPiecesParallel, hashThreadUrl } from '../../src/torrent/hash-parallel.js';
import { referencePieces, rejection, tempTrees } from '../helpers/hash-fixtures.js';

const trees = tempTrees('qshare-hash-par-');
const tree = trees.tree;

const openFds = () => readdirSync('/proc/self/fd').length;

describe('defaultHashThreads', () => {
  it.each([
    [0, 1, 2, 1],
    [PARALLEL_MIN_BYTES - 1, 20, 2, 1],
    [PARALLEL_MIN_BYTES, 1, 2, 2],
    [1000, PARALLEL_MIN_FILES - 1, 2, 1],
    [1000, PARALLEL_MIN_FILES, 2, 2],
    [10 * PARALLEL_MIN_BYTES, 1, 1, 1],
    [10 * PARALLEL_MIN_BYTES, 1, 64, 8],
  ])('%d bytes in %d files on %d cores → %d threads', (bytes, files, cores, want) => {
    expect(defaultHashThreads(bytes, files, cores)).toBe(want);
  });
});

describe('hashPieces on worker threads', () => {
  it('the threads start from a real module file: next to the compiled module, or build/ when run from the .ts sources', () => {
    expect(hashThreadUrl('file:///app/dist/cli/chunk-x.js').pathname).toBe('/app/dist/cli/hash-thread.js');
    expect(hashThreadUrl('file:///app/build/torrent/hash-parallel.js').pathname).toBe(
      '/app/build/torrent/hash-thread.js',
    );
    expect(hashThreadUrl('file:///repo/src/torrent/hash-parallel.ts').pathname).toBe(
      '/repo/build/torrent/hash-thread.js',
    );
    // what npm test built, and what ships
    expect(existsSync(hashThreadUrl())).toBe(true);
    expect(existsSync(new URL('../../dist/cli/hash-thread.js', import.meta.url))).toBe(true);
  });

  const layouts: [string, Record<string, number>][] = [
    ['one file, partial last piece', { f: 40000 }],
    ['one byte', { f: 1 }],
    ['zero-length files first, middle and last', { a: 0, b: 20000, c: 0, d: 30000, e: 0 }],
    ['files ending exactly on piece boundaries', { a: 16384, b: 16384, c: 100 }],
    ['a piece spanning three files', { a: 16000, b: 500, c: 40000 }],
    ['nested folders', { 'x/y/z': 17000, 'x/a': 3, 'b/c': 40000, 'é/ü': 5 }],
  ];
  for (const [label, layout] of layouts) {
    for (const threads of [2, 3]) {
      for (const maxReadBytes of [undefined, 1000]) {
        it(`${label}, ${threads} threads, read ≤ ${maxReadBytes ?? 'default'}`, async () => {
          const { files } = await listFiles(tree(layout));
          const got = await hashPieces(files, 16384, { threads, maxReadBytes });
          expect(got.equals(referencePieces(files, 16384))).toBe(true);
        });
      }
    }
  }

  it('many small files (600 files of 0–3000 bytes, pieces spanning dozens of them) agree with the single-thread hasher', async () => {
    const layout: Record<string, number> = {};
    for (let i = 0; i < 600; i++) layout[`d${i % 7}/f${i}`] = (i * 7919) % 3001;
    const { files } = await listFiles(tree(layout));
    const ref = referencePieces(files, 16384);
    expect(ref.length).toBeGreaterThan(20 * 10);
    const fds = openFds();
    expect((await hashPieces(files, 16384, { threads: 2 })).equals(ref)).toBe(true);
    expect((await hashPiecesSerial(files, 16384)).equals(ref)).toBe(true);
    expect(openFds()).toBe(fds);
  });

  it('the main thread hashes its share in slices: alone (no worker), it gets the same pieces, and its timers still run while it hashes', async () => {
    const root = trees.fresh('main-only');
    mkdirSync(root);
    writeFileSync(path.join(root, 'a'), randomBytes(3 << 20));
    truncateSync((writeFileSync(path.join(root, 'b'), ''), path.join(root, 'b')), 24 << 20);
    const { files } = await listFiles(root);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const seen: number[] = [];
    try {
      const got = await hashPiecesParallel(files, 1 << 20, {
        threads: 1,
        maxReadBytes: 4096,
        progressIntervalMs: 1,
        onProgress: (d) => seen.push(d),
      });
      expect(got.equals(referencePieces(files, 1 << 20))).toBe(true);
    } finally {
      clearInterval(timer);
    }
    // 27 MiB in 4 KiB reads takes far longer than one 8 ms slice: the event loop turned in between
    expect(ticks).toBeGreaterThan(2);
    expect(seen.filter((d) => d > 0 && d < 27 << 20).length).toBeGreaterThan(0);
  });

  it('reports progress from the workers, ending at total/total', async () => {
    const { files, totalBytes } = await listFiles(tree({ a: 300000, b: 200000 }));
    const seen: number[] = [];
    await hashPieces(files, 16384, {
      threads: 2,
      progressIntervalMs: 1,
      maxReadBytes: 512,
      onProgress: (d, t) => (expect(t).toBe(totalBytes), seen.push(d)),
    });
    expect(seen.at(-1)).toBe(totalBytes);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
  });

  it('an already aborted signal → INTERRUPTED, no thread started', async () => {
    const { files } = await listFiles(tree({ a: 100000 }));
    const ac = new AbortController();
    ac.abort();
    expect((await rejection(hashPieces(files, 16384, { threads: 2, signal: ac.signal }))).code).toBe('INTERRUPTED');
  });

  it('aborting mid-way → INTERRUPTED promptly, every file closed', async () => {
    // 64 MiB of holes read 4 KiB at a time: far longer than the abort takes
    const root = trees.fresh('sparse');
    mkdirSync(root);
    for (const f of ['a', 'b'])
      truncateSync((writeFileSync(path.join(root, f), ''), path.join(root, f)), 32 * 1024 * 1024);
    const { files } = await listFiles(root);
    const fds = openFds();
    const ac = new AbortController();
    const t0 = performance.now();
    let progressAtAbort = -1;
    const e = await rejection(
      hashPieces(files, 1 << 20, {
        threads: 2,
        maxReadBytes: 4096,
        signal: ac.signal,
        progressIntervalMs: 5,
        onProgress: (d) => {
          if (progressAtAbort < 0 && d > 0) {
            progressAtAbort = d;
            ac.abort();
          }
        },
      }),
    );
    expect(e.code).toBe('INTERRUPTED');
    expect(progressAtAbort).toBeGreaterThan(0);
    expect(progressAtAbort).toBeLessThan(64 * 1024 * 1024);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(openFds()).toBe(fds);
  });

  it.each([
    ['grew', (p: string) => writeFileSync(p, randomBytes(30001))],
    ['shrank', (p: string) => truncateSync(p, 10)],
    [
      'was rewritten in place (same size, new mtime)',
      (p: string) => (writeFileSync(p, randomBytes(30000)), utimesSync(p, new Date(), new Date(Date.now() + 5000))),
    ],
    ['was replaced by a folder', (p: string) => (rmSync(p), mkdirSync(p))],
  ])('a file that %s after listing → INPUT "changed while it was being read"', async (_l, mutate) => {
    const root = tree({ a: 30000, b: 30000 });
    const { files } = await listFiles(root);
    mutate(path.join(root, 'b'));
    for (const threads of [1, 2]) {
      const e = await rejection(hashPieces(files, 16384, { threads }));
      expect(e.code).toBe('INPUT');
      expect(e.message).toContain(`${path.join(root, 'b')} changed while it was being read`);
    }
  });

  it('a file deleted after listing → INPUT naming it', async () => {
    const root = tree({ a: 30000, b: 30000 });
    const { files } = await listFiles(root);
    rmSync(path.join(root, 'b'));
    const e = await rejection(hashPieces(files, 16384, { threads: 2 }));
    expect(e.code).toBe('INPUT');
    expect(e.message).toContain(`${path.join(root, 'b')} disappeared`);
  });

  it('a file written to while the workers read it → INPUT "changed while it was being read", files closed', async () => {
    const root = tree({ a: 4 << 20, b: 4 << 20 });
    const target = path.join(root, 'b');
    const { files } = await listFiles(root);
    // another process keeps rewriting b in place (same size, new mtime each time) during the whole hash
    const writer: ChildProcess = spawn(
      'sh',
      ['-c', `while :; do printf x | dd of="$1" bs=1 seek=100 conv=notrunc status=none; done`, 'sh', target],
      { stdio: 'ignore' },
    );
    try {
      await new Promise((r) => setTimeout(r, 100));
      const fds = openFds();
      const e = await rejection(hashPieces(files, 16384, { threads: 2, maxReadBytes: 4096 }));
      expect(e.message).toContain(`${target} changed while it was being read`);
      expect(openFds()).toBe(fds);
    } finally {
      writer.kill('SIGKILL');
    }
  });
});
