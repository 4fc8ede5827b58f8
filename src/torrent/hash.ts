/**
 * Piece hashing (BEP 3, SHA-1), the one place that reads file contents for a torrent. Two engines, one result:
 * - one thread per core (hash-parallel.ts): the main thread plus worker threads, for anything big enough to pay
 *   for starting them;
 * - this single-thread streaming hasher for small inputs (and when one thread is asked for).
 * Both read with positional reads into one reused buffer, so memory stays constant whatever the size.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { availableParallelism } from 'node:os';
import { changed, denied, disappeared, interrupted } from './hash-errors.js';
import { hashPiecesParallel } from './hash-parallel.js';
import type { TorrentFileEntry } from './metainfo.js';

export interface HashOptions {
  signal?: AbortSignal;
  /** called at most every `progressIntervalMs` and once at the end with doneBytes = totalBytes */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  /** clock for progress throttling of the single-thread hasher; default performance.now */
  now?: () => number;
  progressIntervalMs?: number;
  /** upper bound of one read (and of the one reused buffer per thread); default 4 MiB */
  maxReadBytes?: number;
  /**
   * threads to hash with, this one included (so threads − 1 workers); 1 = the single-thread streaming hasher.
   * Default: one per core (os.availableParallelism(), at most 8) when there are at least PARALLEL_MIN_BYTES to hash
   * or PARALLEL_MIN_FILES files, else 1.
   */
  threads?: number;
}

const DEFAULT_MAX_READ = 4 * 1024 * 1024;
/** Below this (and PARALLEL_MIN_FILES), starting worker threads (~25 ms each) costs more than it saves. */
export const PARALLEL_MIN_BYTES = 64 * 1024 * 1024;
/**
 * The single-thread hasher pays five async round trips per file (open, stat, read, stat, close: ~0.3 ms each under
 * load); the workers use synchronous calls. From this many files on, the workers win whatever the size.
 */
export const PARALLEL_MIN_FILES = 128;

/** How many threads hashPieces uses for `totalBytes` in `fileCount` files when not told. */
export function defaultHashThreads(totalBytes: number, fileCount: number, cores = availableParallelism()): number {
  return totalBytes >= PARALLEL_MIN_BYTES || fileCount >= PARALLEL_MIN_FILES ? Math.max(1, Math.min(cores, 8)) : 1;
}

/**
 * SHA-1 of every piece of the concatenation of `files`, in order: pieces span file boundaries, the last one may be
 * short, zero-length files contribute nothing. A file whose size (or mtime, compared with the listing's when it has
 * one) differs while it is read → QshareError INPUT; an aborted signal → QshareError INTERRUPTED.
 */
export async function hashPieces(
  files: TorrentFileEntry[],
  pieceLength: number,
  opts: HashOptions = {},
): Promise<Buffer> {
  if (!Number.isSafeInteger(pieceLength) || pieceLength <= 0) throw new Error(`invalid piece length: ${pieceLength}`);
  const totalBytes = files.reduce((n, f) => n + f.length, 0);
  const threads = opts.threads ?? defaultHashThreads(totalBytes, files.length);
  if (threads > 1 && totalBytes > 0) {
    return hashPiecesParallel(files, pieceLength, {
      threads,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.progressIntervalMs !== undefined ? { progressIntervalMs: opts.progressIntervalMs } : {}),
      ...(opts.maxReadBytes !== undefined ? { maxReadBytes: opts.maxReadBytes } : {}),
    });
  }
  return hashPiecesSerial(files, pieceLength, opts);
}

async function openForHashing(p: string): Promise<FileHandle> {
  try {
    return await open(p, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw disappeared(p);
    if (code === 'EACCES' || code === 'EPERM') throw denied(p);
    if (code === 'EISDIR') throw changed(p);
    throw e;
  }
}

/** The single-thread engine: one file open at a time, streaming through one reused buffer. */
export async function hashPiecesSerial(
  files: TorrentFileEntry[],
  pieceLength: number,
  opts: HashOptions = {},
): Promise<Buffer> {
  const { signal, onProgress } = opts;
  const now = opts.now ?? (() => performance.now());
  const interval = opts.progressIntervalMs ?? 100;
  const totalBytes = files.reduce((n, f) => n + f.length, 0);
  const pieceCount = Math.ceil(totalBytes / pieceLength);
  const out = Buffer.alloc(pieceCount * 20);
  const buf = Buffer.allocUnsafe(Math.max(1, Math.min(pieceLength, opts.maxReadBytes ?? DEFAULT_MAX_READ, totalBytes)));

  let hash: Hash = createHash('sha1');
  let inPiece = 0;
  let piece = 0;
  let done = 0;
  let lastReport = now();

  const finishPiece = () => {
    hash.digest().copy(out, piece * 20);
    piece++;
    hash = createHash('sha1');
    inPiece = 0;
    if (onProgress && now() - lastReport >= interval) {
      lastReport = now();
      onProgress(done, totalBytes);
    }
  };

  for (const f of files) {
    if (signal?.aborted) throw interrupted();
    const fh = await openForHashing(f.absPath);
    try {
      const before: Stats = await fh.stat();
      if (!before.isFile() || before.size !== f.length || (f.mtimeMs !== undefined && before.mtimeMs !== f.mtimeMs))
        throw changed(f.absPath);
      let pos = 0;
      while (pos < f.length) {
        if (signal?.aborted) throw interrupted();
        const want = Math.min(buf.length, pieceLength - inPiece, f.length - pos);
        const { bytesRead } = await fh.read(buf, 0, want, pos);
        if (bytesRead === 0) throw changed(f.absPath); // shrank
        hash.update(buf.subarray(0, bytesRead));
        pos += bytesRead;
        inPiece += bytesRead;
        done += bytesRead;
        if (inPiece === pieceLength) finishPiece();
      }
      const after = await fh.stat();
      if (after.size !== f.length || after.mtimeMs !== before.mtimeMs) throw changed(f.absPath);
    } finally {
      await fh.close();
    }
  }
  if (signal?.aborted) throw interrupted();
  if (inPiece > 0) finishPiece();
  if (piece !== pieceCount) throw new Error(`internal: hashed ${piece} pieces, expected ${pieceCount}`);
  onProgress?.(totalBytes, totalBytes);
  return out;
}
