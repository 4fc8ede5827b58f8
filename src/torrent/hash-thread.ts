/**
 * The entry module of a piece-hashing worker thread (started by hash-parallel.ts): hash until no piece is left, the
 * stop flag is up or a file fails, then tell the main thread how it ended.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { makePieceHasher, type HashWorkerData, type HashWorkerMessage } from './hash-worker.js';

const r = makePieceHasher(workerData as HashWorkerData).run(() => false);
const message: HashWorkerMessage =
  r.state === 'failed'
    ? { type: 'error', kind: r.kind, path: r.path, message: r.message }
    : { type: 'done', pieces: r.state === 'done' ? r.pieces : 0 };
parentPort?.postMessage(message);
