/**
 * The drop-folder journal: every item `qshare watch` has taken on, and how far it got. One JSON file in qshare's
 * data folder, replaced atomically (temp file, fsync, rename) after every change, so a process killed at any moment
 * (SIGKILL included) leaves either the previous or the next version, never a torn one. Only one watcher may own it
 * at a time (lockWatcher). Never holds a password.
 *
 *   queued → archiving → hashing → adding → seeding
 *      │         │          │         │
 *      └─────────┴──────────┴─────────┴──→ failed (reason)   waiting (reason; `next` says which step it waits for)
 */
import { open, readFile, rename, rm } from 'node:fs/promises';
import { QshareError } from '../errors.js';
import { alive } from '../fsx/lock.js';
import { writeFileAtomic } from '../fsx/atomic.js';

export type WatchItemState = 'queued' | 'archiving' | 'hashing' | 'adding' | 'seeding' | 'failed' | 'waiting';

export interface WatchItem {
  /** the share's id in state.json, chosen when the item is queued */
  id: string;
  /** the share's name (three random words), reserved when the item is queued */
  name: string;
  /** the drop folder and the item's top-level name in it */
  dropDir: string;
  entry: string;
  /** join(dropDir, entry) */
  source: string;
  /** identity of the top-level entry when it was queued: edited in place keeps it, a new copy does not */
  dev: number;
  ino: number;
  /** tree fingerprint when it was queued (or last re-queued) */
  fingerprint: string;
  bytes: number;
  /** queue order */
  seq: number;
  state: WatchItemState;
  /** for `waiting`: the step it waits to start */
  next?: 'archiving' | 'adding';
  /** for `failed` and `waiting`: in words, for the person */
  reason?: string;
  /** the QshareError code behind `reason` */
  code?: string;
  /** for `waiting`: when to try again (ISO); absent = not before qshare watch is restarted */
  retryAt?: string;
  /** failed tries of the current step */
  attempts: number;
  /** the share is in qshare's list (state.json): from here on it is "shared" and is never dropped */
  recorded: boolean;
  infoHash?: string;
  magnet?: string;
  torrentFile?: string;
  archive?: string;
  size?: number;
  /** the source left the drop folder after it was shared (the share goes on) */
  sourceGone?: boolean;
  /** a fingerprint already reported as "changed after it was shared" (logged once) */
  changedNoticed?: string;
  queuedAt: string;
  updatedAt: string;
}

export interface JournalFile {
  version: 1;
  nextSeq: number;
  items: WatchItem[];
}

export interface Journal {
  readonly file: string;
  /** the current items (a live view: do not modify, use change()) */
  items(): readonly WatchItem[];
  get(id: string): WatchItem | undefined;
  /** applies `fn` to the in-memory journal and writes it atomically before resolving; changes are serialised */
  change<T>(fn: (j: JournalFile) => T): Promise<T>;
}

export async function openJournal(file: string): Promise<Journal> {
  const data = await readJournal(file);
  let chain: Promise<unknown> = Promise.resolve();
  return {
    file,
    items: () => data.items,
    get: (id) => data.items.find((i) => i.id === id),
    change<T>(fn: (j: JournalFile) => T): Promise<T> {
      const run = chain.then(async () => {
        const result = fn(data);
        await writeFileAtomic(file, JSON.stringify(data, null, 2) + '\n', { mode: 0o600 });
        return result;
      });
      chain = run.catch(() => {});
      return run;
    },
  };
}

export async function readJournal(file: string): Promise<JournalFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, nextSeq: 1, items: [] };
    throw e;
  }
  try {
    const parsed = JSON.parse(text) as JournalFile;
    if (parsed?.version !== 1 || !Array.isArray(parsed.items) || typeof parsed.nextSeq !== 'number')
      throw new Error('unexpected shape');
    return parsed;
  } catch (e) {
    throw new QshareError(
      'STATE',
      `the drop-folder journal ${file} is damaged (${(e as Error).message}); it was left untouched`,
      {
        hint: `move it aside (mv "${file}" "${file}.bad") and start qshare watch again: items already shared stay in qshare's list, the others are taken on again`,
      },
    );
  }
}

/**
 * Makes this process the only drop-folder watcher for the data folder: a lock file holding our pid, created
 * exclusively. A lock left by a dead process is taken over. Returns the release function.
 */
export async function lockWatcher(lockFile: string, pid: number = process.pid): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(lockFile, 'wx', 0o600);
      await fh.writeFile(`${pid}\n`);
      await fh.close();
      return () => rm(lockFile, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = Number.parseInt(await readFile(lockFile, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && holder > 0 && holder !== pid && alive(holder)) {
      throw new QshareError(
        'STATE',
        `another qshare watch (process ${holder}) is already running for this data folder`,
        {
          hint: `stop it first (kill ${holder}, or systemctl --user stop qshare-watch); two watchers would share the same items twice`,
        },
      );
    }
    // stale: rename it away so only one contender takes it over
    await rename(lockFile, `${lockFile}.stale-${pid}`).then(
      () => rm(`${lockFile}.stale-${pid}`, { force: true }),
      () => {},
    );
  }
  throw new QshareError('STATE', `could not take the watcher lock ${lockFile}; try again`);
}
