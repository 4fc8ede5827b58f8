import { readFile, rename, rm, open, stat } from 'node:fs/promises';
import { QshareError } from '../errors.js';
import { writeFileAtomic } from '../fsx/atomic.js';
import type { ShareRecord, StateFile } from './types.js';

export interface StateStore {
  list(): Promise<ShareRecord[]>;
  /** by id, id prefix (≥ 4 chars), name, or info hash */
  find(ref: string): Promise<ShareRecord | undefined>;
  /** read-modify-write under a lock; the whole file is replaced atomically */
  update<T>(fn: (state: StateFile) => T | Promise<T>): Promise<T>;
}

const LOCK_STALE_MS = 30_000;

/**
 * The state file (JSON, written atomically, 0600) guarded by a lock file so two qshare processes (`add` while
 * `watch` runs) never lose each other's writes. A damaged state file is never emptied: it is reported.
 */
export function createStateStore(file: string, opts: { now?: () => number; lockWaitMs?: number } = {}): StateStore {
  const now = opts.now ?? Date.now;
  const lockFile = `${file}.lock`;

  async function read(): Promise<StateFile> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, shares: [] };
      throw e;
    }
    try {
      const parsed = JSON.parse(text) as StateFile;
      if (parsed?.version !== 1 || !Array.isArray(parsed.shares)) throw new Error('unexpected shape');
      return parsed;
    } catch (e) {
      throw new QshareError('STATE', `qshare's state file ${file} is damaged (${(e as Error).message}); it was left untouched`, {
        hint: `move it aside (mv "${file}" "${file}.bad") to start a fresh list of shares; your archives and torrents stay where they are`,
      });
    }
  }

  async function lock(): Promise<() => Promise<void>> {
    const deadline = now() + (opts.lockWaitMs ?? 10_000);
    for (;;) {
      try {
        const fh = await open(lockFile, 'wx', 0o600);
        await fh.writeFile(`${process.pid}\n`);
        await fh.close();
        return () => rm(lockFile, { force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      if (await isStale()) {
        // Take the stale lock over by renaming it away first: only one contender wins the rename.
        await rename(lockFile, `${lockFile}.stale-${process.pid}`).then(
          () => rm(`${lockFile}.stale-${process.pid}`, { force: true }),
          () => {},
        );
        continue;
      }
      if (now() > deadline) throw new QshareError('STATE', `another qshare process holds ${lockFile}; try again in a moment`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function isStale(): Promise<boolean> {
    try {
      const [text, st] = await Promise.all([readFile(lockFile, 'utf8'), stat(lockFile)]);
      const pid = Number.parseInt(text, 10);
      if (Number.isInteger(pid) && pid > 0 && !alive(pid)) return true;
      return now() - st.mtimeMs > LOCK_STALE_MS && !(Number.isInteger(pid) && alive(pid));
    } catch {
      return false;
    }
  }

  return {
    async list() {
      return (await read()).shares;
    },
    async find(ref) {
      return findShare((await read()).shares, ref);
    },
    async update(fn) {
      const release = await lock();
      try {
        const state = await read();
        const result = await fn(state);
        await writeFileAtomic(file, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
        return result;
      } finally {
        await release();
      }
    },
  };
}

export function findShare(shares: ShareRecord[], ref: string): ShareRecord | undefined {
  const r = ref.trim().toLowerCase();
  return (
    shares.find((s) => s.id === r || s.name.toLowerCase() === r || s.infoHash === r) ??
    (r.length >= 4 ? uniquePrefix(shares, r) : undefined)
  );
}

function uniquePrefix(shares: ShareRecord[], r: string): ShareRecord | undefined {
  const hits = shares.filter((s) => s.id.startsWith(r) || s.infoHash.startsWith(r));
  return hits.length === 1 ? hits[0] : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
