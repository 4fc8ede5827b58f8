import { link, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { QshareError } from '../errors.js';
import { writeFileAtomic } from '../fsx/atomic.js';
import { withFileLock } from '../fsx/lock.js';
import type { Logger } from '../log.js';
import type { ShareRecord, StateFile } from './types.js';

export interface StateStore {
  list(): Promise<ShareRecord[]>;
  /** by id, id prefix (≥ 4 chars), name, or info hash */
  find(ref: string): Promise<ShareRecord | undefined>;
  /** read-modify-write under a lock; the whole file is replaced atomically */
  update<T>(fn: (state: StateFile) => T | Promise<T>): Promise<T>;
}

export interface StateStoreOptions {
  /** where a damaged state file is reported (it is kept aside, see below) */
  log: Pick<Logger, 'warn'>;
  /** how long to wait for another qshare holding the lock (default 10 s) */
  lockWaitMs?: number;
  /** Ctrl-C: stop waiting for the lock (INTERRUPTED) */
  signal?: AbortSignal;
  now?: () => Date;
}

const EMPTY = (): StateFile => ({ version: 1, shares: [] });

/**
 * The state file (JSON, written atomically, 0600) guarded by a lock file so two qshare processes (`add` while
 * `watch` runs) never lose each other's writes. A damaged state file (not JSON, or not qshare's shape) is never
 * emptied or overwritten: under the lock it is moved aside to `state.json.damaged-<time>`, that is reported, and a
 * new, empty list starts. One written by a newer qshare is left alone (an error says to upgrade).
 */
export function createStateStore(file: string, opts: StateStoreOptions): StateStore {
  const lockFile = `${file}.lock`;
  const now = opts.now ?? (() => new Date());

  const locked = <T>(fn: () => Promise<T>): Promise<T> =>
    withFileLock(lockFile, fn, {
      waitMs: opts.lockWaitMs ?? 10_000,
      ...(opts.signal ? { signal: opts.signal } : {}),
      onTimeout: () => new QshareError('STATE', `another qshare process holds ${lockFile}; try again in a moment`),
    });

  /** the state, or why it is damaged */
  async function load(): Promise<StateFile | { damaged: string }> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY();
      throw e;
    }
    return parseState(text, file);
  }

  /** Under the lock: the state, with a damaged file moved aside (and reported) first. */
  async function loadLocked(): Promise<StateFile> {
    const got = await load();
    if (!('damaged' in got)) return got;
    const aside = await keepAside(file, now());
    opts.log.warn(
      `qshare's list of shares ${file} was damaged (${got.damaged}): it was kept as ${aside} and a new, empty list was started. ` +
        'Shares made before are no longer listed; their archives and .torrent files were not touched, and qBittorrent keeps seeding what it seeds',
    );
    return EMPTY();
  }

  async function read(): Promise<StateFile> {
    const got = await load();
    return 'damaged' in got ? locked(loadLocked) : got;
  }

  return {
    async list() {
      return (await read()).shares;
    },
    async find(ref) {
      return findShare((await read()).shares, ref);
    },
    async update(fn) {
      return locked(async () => {
        await removeDeadWrites(file);
        const state = await loadLocked();
        const result = await fn(state);
        await writeFileAtomic(file, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
        return result;
      });
    },
  };
}

/** Pure: the parsed state, `{damaged: why}`, or STATE when a newer qshare wrote it. */
export function parseState(text: string, file: string): StateFile | { damaged: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { damaged: text.trim() === '' ? 'it is empty' : `not JSON: ${(e as Error).message}` };
  }
  const v = (parsed as { version?: unknown } | null)?.version;
  if (typeof v === 'number' && v > 1) {
    throw new QshareError(
      'STATE',
      `${file} was written by a newer qshare (state version ${v}); it was left untouched`,
      { hint: 'upgrade qshare (npm install -g qshare)' },
    );
  }
  const shares = (parsed as { shares?: unknown } | null)?.shares;
  if (v !== 1 || !Array.isArray(shares)) return { damaged: 'not a qshare list of shares' };
  if (!shares.every(isRecordLike)) return { damaged: 'a share in it is not complete' };
  return parsed as StateFile;
}

function isRecordLike(r: unknown): boolean {
  const o = r as Partial<ShareRecord> | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.id === 'string' &&
    typeof o.name === 'string' &&
    typeof o.infoHash === 'string' &&
    typeof o.torrentFile === 'string'
  );
}

/** Moves the damaged file to a new `<file>.damaged-<time>` name (never over another file). Returns that name. */
async function keepAside(file: string, at: Date): Promise<string> {
  const stamp = at.toISOString().replace(/[:.]/g, '-');
  for (let i = 0; ; i++) {
    const aside = `${file}.damaged-${stamp}${i ? `-${i}` : ''}`;
    try {
      await link(file, aside);
      await unlink(file);
      return aside;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && i < 100) continue;
      if (code === 'EEXIST' || code === 'ENOENT') throw e;
      // a filesystem without hard links: check, then rename
      if (
        await readFile(aside).then(
          () => true,
          () => false,
        )
      )
        continue;
      await rename(file, aside);
      return aside;
    }
  }
}

/** Temp files of state writes that died (`.state.json.partial-…`): only the lock holder writes, and that is us. */
async function removeDeadWrites(file: string): Promise<void> {
  const prefix = `.${basename(file)}.partial-`;
  for (const n of await readdir(dirname(file)).catch(() => [] as string[]))
    if (n.startsWith(prefix)) await rm(join(dirname(file), n), { force: true });
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
