/** Shared fixtures for the hashing tests: throwaway trees of random files, an in-memory reference, typed rejections. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { QshareError } from '../../src/errors.js';
import type { TorrentFileEntry } from '../../src/torrent/metainfo.js';

/**
 * A temp folder for this test file (made before, removed after all its tests) and `tree()`, which makes a fresh
 * folder in it with the given files (relative path → size of random bytes) and returns its path.
 */
export function tempTrees(prefix: string): {
  dir: () => string;
  fresh: (stem: string) => string;
  tree: (files: Record<string, number>) => string;
} {
  let dir = '';
  let n = 0;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), prefix));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const fresh = (stem: string) => path.join(dir, `${stem}${n++}`);
  return {
    dir: () => dir,
    fresh,
    tree(files) {
      const root = fresh('t');
      mkdirSync(root);
      for (const [rel, size] of Object.entries(files)) {
        const p = path.join(root, rel);
        mkdirSync(path.dirname(p), { recursive: true });
        writeFileSync(p, randomBytes(size));
      }
      return root;
    },
  };
}

/** The obvious, in-memory reference: concatenate everything, SHA-1 each slice. */
export function referencePieces(files: TorrentFileEntry[], pieceLength: number): Buffer {
  const all = Buffer.concat(files.map((f) => readFileSync(f.absPath)));
  const out: Buffer[] = [];
  for (let i = 0; i < all.length; i += pieceLength)
    out.push(
      createHash('sha1')
        .update(all.subarray(i, i + pieceLength))
        .digest(),
    );
  return Buffer.concat(out);
}

/** Awaits a promise that must reject with a QshareError, and returns it. */
export async function rejection(p: Promise<unknown>): Promise<QshareError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(QshareError);
  return e as QshareError;
}
