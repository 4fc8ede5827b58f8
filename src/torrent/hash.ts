/** Piece hashing (BEP 3, SHA-1): streaming, constant memory, the one place that reads file contents. */
import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { QshareError } from '../errors.js';
import type { TorrentFileEntry } from './metainfo.js';

export interface HashOptions {
  signal?: AbortSignal;
  /** called at most every `progressIntervalMs` (on piece boundaries) and once at the end with doneBytes = totalBytes */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  /** clock for progress throttling; default performance.now */
  now?: () => number;
  progressIntervalMs?: number;
  /** upper bound of one read (and of the one reused buffer); default 4 MiB */
  maxReadBytes?: number;
}

const DEFAULT_MAX_READ = 4 * 1024 * 1024;

function interrupted(): QshareError {
  return new QshareError('INTERRUPTED', 'Creating the torrent was interrupted; nothing was written. Run the command again to start over.');
}

function changed(p: string): QshareError {
  return new QshareError('INPUT', `${p} changed while it was being read; wait until nothing is writing to it, then run the command again.`);
}

async function openForHashing(p: string): Promise<FileHandle> {
  try {
    return await open(p, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new QshareError('INPUT', `${p} disappeared while the torrent was being created; run the command again.`, { cause: e });
    if (code === 'EACCES' || code === 'EPERM') throw new QshareError('INPUT', `Cannot read ${p}: permission denied; fix its permissions or leave it out.`, { cause: e });
    if (code === 'EISDIR') throw changed(p);
    throw e;
  }
}

/**
 * SHA-1 of every piece of the concatenation of `files`, in order: pieces span file boundaries, the last one may be
 * short, zero-length files contribute nothing. Reads with positional reads into one reused buffer of
 * min(pieceLength, 4 MiB), so memory stays constant whatever the size. A file whose size (or mtime) differs from the
 * listing while it is read → QshareError INPUT; an aborted signal → QshareError INTERRUPTED.
 */
export async function hashPieces(files: TorrentFileEntry[], pieceLength: number, opts: HashOptions = {}): Promise<Buffer> {
  if (!Number.isSafeInteger(pieceLength) || pieceLength <= 0) throw new Error(`invalid piece length: ${pieceLength}`);
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
      if (!before.isFile() || before.size !== f.length) throw changed(f.absPath);
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
