/**
 * Piece hashing on several threads (one per core by default): the main thread and `threads − 1` worker threads run
 * the same hasher (hash-worker.ts), claiming pieces from a shared counter and writing digests into shared memory.
 * The main thread hashes in slices of a few milliseconds and yields between them, so its timers (progress), an
 * abort and whatever else it runs meanwhile (createTorrent bencodes the .torrent) still get their turn; it would
 * otherwise sit idle while a worker it had to start (~25 ms each) did that share.
 * This side also reports progress from the shared "done" counter, turns an abort into the shared stop flag (every
 * thread closes its file and stops within one read), and turns a failure into the same QshareError the
 * single-thread hasher gives.
 */
import { stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { QshareError } from '../errors.js';
import { changed, denied, disappeared, interrupted } from './hash-errors.js';
import {
  CTRL_DONE,
  CTRL_LENGTH,
  CTRL_STOP,
  makePieceHasher,
  type HashWorkerData,
  type HashWorkerMessage,
  type PieceRun,
} from './hash-worker.js';
import type { TorrentFileEntry } from './metainfo.js';

export interface ParallelHashOptions {
  /** threads hashing, the main thread included (so threads − 1 workers are started) */
  threads: number;
  signal?: AbortSignal;
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  progressIntervalMs?: number;
  /** the one reused read buffer per worker; default min(pieceLength, 4 MiB) */
  maxReadBytes?: number;
}

const DEFAULT_MAX_READ = 4 * 1024 * 1024;
/** How long the main thread hashes before it yields to its event loop. */
const MAIN_SLICE_MS = 8;

/**
 * The worker threads' entry module, hash-thread.js next to this one: in build/ (tsc) and in dist/ (the bundle makes
 * it an entry of its own, rolldown.config.mjs). Run from the TypeScript sources (the tests), this module is a .ts
 * file and Node 20 cannot start a .ts worker, so the threads run the compiled one `npm run build` left in build/.
 */
export function hashThreadUrl(moduleUrl: string = import.meta.url): URL {
  return moduleUrl.endsWith('.ts')
    ? new URL('../../build/torrent/hash-thread.js', moduleUrl)
    : new URL('./hash-thread.js', moduleUrl);
}

/** The main thread's share: hash in slices, yielding to the event loop between them. */
async function hashOnMainThread(data: HashWorkerData): Promise<PieceRun> {
  const hasher = makePieceHasher(data);
  for (;;) {
    // first yield: let the caller's synchronous work after the call (and the workers' start) go first
    await new Promise((r) => setImmediate(r));
    const until = performance.now() + MAIN_SLICE_MS;
    const r = hasher.run(() => performance.now() >= until);
    if (r.state !== 'paused') return r;
  }
}

/** The mtime each file must keep while it is hashed: from the listing, or stat'ed now. */
async function listedMtimes(files: TorrentFileEntry[]): Promise<number[]> {
  const out = new Array<number>(files.length);
  const missing: number[] = [];
  files.forEach((f, i) => {
    if (f.mtimeMs === undefined) missing.push(i);
    else out[i] = f.mtimeMs;
  });
  for (let k = 0; k < missing.length; k += 64) {
    await Promise.all(
      missing.slice(k, k + 64).map(async (i) => {
        const f = files[i] as TorrentFileEntry;
        try {
          const st = await stat(f.absPath);
          if (!st.isFile() || st.size !== f.length) throw changed(f.absPath);
          out[i] = st.mtimeMs;
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') throw disappeared(f.absPath);
          if (code === 'EACCES' || code === 'EPERM') throw denied(f.absPath);
          throw e;
        }
      }),
    );
  }
  return out;
}

export async function hashPiecesParallel(
  files: TorrentFileEntry[],
  pieceLength: number,
  o: ParallelHashOptions,
): Promise<Buffer> {
  if (o.signal?.aborted) throw interrupted();
  const totalBytes = files.reduce((n, f) => n + f.length, 0);
  const pieceCount = Math.ceil(totalBytes / pieceLength);
  if (pieceCount === 0) {
    o.onProgress?.(0, 0);
    return Buffer.alloc(0);
  }
  // with a listing's mtimes (the usual case) the threads start before this function first waits, so a caller can
  // do other work while they run (createTorrent bencodes the .torrent meanwhile)
  const mtimes = files.every((f) => f.mtimeMs !== undefined)
    ? files.map((f) => f.mtimeMs as number)
    : await listedMtimes(files);
  if (o.signal?.aborted) throw interrupted();

  const control = new SharedArrayBuffer(CTRL_LENGTH * 4);
  const ctrl = new Int32Array(control);
  const digests = new SharedArrayBuffer(pieceCount * 20);
  const data: HashWorkerData = {
    paths: files.map((f) => f.absPath),
    lengths: files.map((f) => f.length),
    mtimes,
    pieceLength,
    pieceCount,
    bufferBytes: Math.max(1, Math.min(pieceLength, o.maxReadBytes ?? DEFAULT_MAX_READ, totalBytes)),
    control,
    digests,
  };
  const threads = Math.max(1, Math.min(o.threads, pieceCount));
  const entry = hashThreadUrl();

  let failure: HashWorkerMessage | undefined;
  let crash: unknown;
  const onAbort = () => Atomics.compareExchange(ctrl, CTRL_STOP, 0, 1);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const report = () => o.onProgress?.(Math.min(totalBytes, Atomics.load(ctrl, CTRL_DONE) * pieceLength), totalBytes);
  const timer = o.onProgress ? setInterval(report, Math.max(1, o.progressIntervalMs ?? 100)) : undefined;
  try {
    const workers = Array.from(
      { length: threads - 1 },
      () =>
        new Promise<void>((resolve) => {
          const w = new Worker(entry, { workerData: data, stdout: false, stderr: false });
          w.on('message', (m: HashWorkerMessage) => {
            if (m.type === 'error' && failure === undefined) failure = m;
          });
          w.on('error', (e) => {
            // a crash (out of memory, a bug): stop the others too
            Atomics.store(ctrl, CTRL_STOP, 2);
            crash ??= e;
          });
          w.on('exit', () => resolve());
        }),
    );
    const mine = await hashOnMainThread(data).catch((e: unknown) => {
      Atomics.store(ctrl, CTRL_STOP, 2);
      crash ??= e;
      return undefined;
    });
    if (mine?.state === 'failed' && failure === undefined)
      failure = { type: 'error', kind: mine.kind, path: mine.path, message: mine.message };
    await Promise.all(workers);
  } finally {
    if (timer) clearInterval(timer);
    o.signal?.removeEventListener('abort', onAbort);
  }

  if (failure?.type === 'error') {
    if (failure.kind === 'changed') throw changed(failure.path);
    if (failure.kind === 'gone') throw disappeared(failure.path);
    if (failure.kind === 'denied') throw denied(failure.path);
    throw new QshareError('INPUT', `Cannot read ${failure.path}: ${failure.message}`);
  }
  if (crash !== undefined) throw crash instanceof Error ? crash : new Error(String(crash));
  if (o.signal?.aborted || Atomics.load(ctrl, CTRL_STOP) !== 0) throw interrupted();
  const done = Atomics.load(ctrl, CTRL_DONE);
  if (done !== pieceCount) throw new Error(`internal: hashed ${done} pieces, expected ${pieceCount}`);
  o.onProgress?.(totalBytes, totalBytes);
  // a plain (non-shared) copy: 20 bytes per piece
  return Buffer.from(new Uint8Array(digests));
}
