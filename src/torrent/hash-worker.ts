/**
 * One piece-hashing thread's work, shared by the worker threads (hash-thread.ts, their entry module) and the main
 * thread (see hash-parallel.ts).
 *
 * What a hasher does: claims the next unhashed piece from a shared counter (so a thread slowed by other work, like
 * the main thread, simply takes fewer pieces), reads the piece's bytes — across as many files as it spans — with
 * positional reads into ONE reused buffer, SHA-1s them with `crypto`, writes the 20-byte digest into the shared
 * digest array, and counts it done. Memory: one buffer of `bufferBytes`, one open file at a time, whatever the
 * input size.
 *
 * A file whose size or mtime differs from the listing when it is opened or closed → a 'changed' failure; the hasher
 * then raises the stop flag so the others stop too. The stop flag (set by the main thread on abort) is checked
 * before every read, so an abort takes effect within one read (≤ bufferBytes).
 */

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';

/** Indices into the shared Int32 control array: the next piece to claim, pieces done, the stop flag. */
const CTRL_NEXT = 0;
export const CTRL_DONE = 1;
/** 0 = run; 1 = aborted by the main thread; 2 = a worker failed */
export const CTRL_STOP = 2;
export const CTRL_LENGTH = 3;

export interface HashWorkerData {
  paths: string[];
  lengths: number[];
  /** mtimeMs each file must still have (from the listing) */
  mtimes: number[];
  pieceLength: number;
  pieceCount: number;
  bufferBytes: number;
  /** Int32Array(CTRL_LENGTH) */
  control: SharedArrayBuffer;
  /** pieceCount × 20 bytes */
  digests: SharedArrayBuffer;
}

export type HashWorkerFailure = 'changed' | 'gone' | 'denied' | 'other';

export type HashWorkerMessage =
  { type: 'done'; pieces: number } | { type: 'error'; kind: HashWorkerFailure; path: string; message: string };

/** What one call of PieceHasher.run ended with. */
export type PieceRun =
  | { state: 'paused' }
  | { state: 'done'; pieces: number }
  | { state: 'failed'; kind: HashWorkerFailure; path: string; message: string };

export interface PieceHasher {
  /**
   * Hashes pieces until none is left or the stop flag is up ('done': its file closed), until `pause()` says so
   * after a piece ('paused': call again to go on), or until a file fails ('failed': the stop flag is raised for
   * the others and its file closed).
   */
  run(pause: () => boolean): PieceRun;
}

export function makePieceHasher(data: HashWorkerData): PieceHasher {
  const [NEXT, DONE, STOP] = [CTRL_NEXT, CTRL_DONE, CTRL_STOP];
  const ctrl = new Int32Array(data.control);
  const out = Buffer.from(data.digests);
  const buf = Buffer.allocUnsafe(data.bufferBytes);
  const { paths, lengths, mtimes, pieceLength, pieceCount } = data;
  const count = paths.length;
  const starts: number[] = new Array<number>(count);
  let total = 0;
  for (let i = 0; i < count; i++) {
    starts[i] = total;
    total += lengths[i] as number;
  }

  class Failure extends Error {
    constructor(
      readonly kind: 'changed' | 'gone' | 'denied' | 'other',
      readonly path: string,
      message: string,
    ) {
      super(message);
    }
  }
  const changed = (i: number) => new Failure('changed', paths[i] as string, 'changed');
  const fromErrno = (e: unknown, i: number): Failure => {
    const code = (e as { code?: string } | null)?.code;
    const p = paths[i] as string;
    if (code === 'ENOENT') return new Failure('gone', p, String(code));
    if (code === 'EACCES' || code === 'EPERM') return new Failure('denied', p, String(code));
    if (code === 'EISDIR') return changed(i);
    return new Failure('other', p, e instanceof Error ? e.message : String(e));
  };

  let openIndex = -1;
  let fd = -1;
  const sameAsListed = (i: number, st: import('node:fs').Stats) =>
    st.isFile() && st.size === lengths[i] && st.mtimeMs === mtimes[i];

  const closeCurrent = (check: boolean) => {
    if (fd < 0) return;
    const f = fd;
    const i = openIndex;
    fd = -1;
    openIndex = -1;
    try {
      if (check && !sameAsListed(i, fs.fstatSync(f))) throw changed(i);
    } finally {
      fs.closeSync(f);
    }
  };

  const openFile = (i: number): number => {
    if (openIndex === i) return fd;
    closeCurrent(true);
    let f: number;
    try {
      f = fs.openSync(paths[i] as string, 'r');
    } catch (e) {
      throw fromErrno(e, i);
    }
    fd = f;
    openIndex = i;
    if (!sameAsListed(i, fs.fstatSync(f))) throw changed(i);
    return f;
  };

  /** the last file starting at or before pos: always a non-empty file holding pos, for 0 ≤ pos < total */
  const fileAt = (pos: number): number => {
    let lo = 0;
    let hi = count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((starts[mid] as number) <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };

  /** false when stopped before the piece was complete */
  const hashPiece = (p: number): boolean => {
    let pos = p * pieceLength;
    const end = Math.min(pos + pieceLength, total);
    let i = fileAt(pos);
    const h = crypto.createHash('sha1');
    while (pos < end) {
      const fileStart = starts[i] as number;
      const fileEnd = fileStart + (lengths[i] as number);
      if (pos >= fileEnd) {
        i++;
        continue;
      }
      const f = openFile(i);
      const stop = Math.min(end, fileEnd);
      while (pos < stop) {
        if (Atomics.load(ctrl, STOP) !== 0) return false;
        let got: number;
        try {
          got = fs.readSync(f, buf, 0, Math.min(buf.length, stop - pos), pos - fileStart);
        } catch (e) {
          throw fromErrno(e, i);
        }
        if (got === 0) throw changed(i); // shrank under us
        h.update(buf.subarray(0, got));
        pos += got;
      }
    }
    h.digest().copy(out, p * 20);
    Atomics.add(ctrl, DONE, 1);
    return true;
  };

  let mine = 0;
  const run = (pause: () => boolean): PieceRun => {
    try {
      for (;;) {
        if (Atomics.load(ctrl, STOP) !== 0) break;
        const p = Atomics.add(ctrl, NEXT, 1);
        if (p >= pieceCount) break;
        if (!hashPiece(p)) break;
        mine++;
        if (pause()) return { state: 'paused' };
      }
      closeCurrent(Atomics.load(ctrl, STOP) === 0);
      return { state: 'done', pieces: mine };
    } catch (e) {
      Atomics.store(ctrl, STOP, 2);
      try {
        closeCurrent(false);
      } catch {
        // already failing
      }
      const f = e instanceof Failure ? e : new Failure('other', '', e instanceof Error ? e.message : String(e));
      return { state: 'failed', kind: f.kind, path: f.path, message: f.message };
    }
  };
  return { run };
}
