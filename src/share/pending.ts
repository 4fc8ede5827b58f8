/**
 * `qshare add` runs in flight. When a run has chosen its share name it creates `<data>/pending/<name>.json`
 * (exclusively: two runs cannot make the same name) listing the files it is about to make, and removes it once the
 * share is recorded, or once everything it made is deleted after a failure or Ctrl-C. A run that was killed in
 * between (SIGKILL, a crash, power loss) leaves its entry behind; the next `qshare add` then removes what that dead
 * run made: the listed archive and .torrent and their partial files (`.<file>.partial-…`), except a file a recorded
 * share holds. Entries of live runs, and of runs on another machine sharing the data folder, are left alone (the
 * latter until they are a day old).
 */
import { hostname } from 'node:os';
import { link, lstat, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { QshareError } from '../errors.js';
import { diskFull, partialName } from '../fsx/atomic.js';
import { alive } from '../fsx/lock.js';
import { cleanLeftovers, partialTarget } from './leftovers.js';

export interface PendingEntry {
  name: string;
  pid: number;
  host: string;
  startedAt: string;
  /** the final paths this run makes (archive, .torrent); their partial files go with them */
  files: string[];
}

export interface PendingRun {
  /** the run is over (recorded, or everything it made is gone): forget it */
  release(): Promise<void>;
}

export interface PendingEnv {
  pid: number;
  host: string;
  alive: (pid: number) => boolean;
  now: number;
}

const FOREIGN_STALE_MS = 24 * 60 * 60 * 1000;

export function currentRun(now: number = Date.now()): PendingEnv {
  return { pid: process.pid, host: hostname(), alive, now };
}

/** Pure: whether an entry belongs to a run that is certainly over. */
export function isDead(e: Pick<PendingEntry, 'pid' | 'host' | 'startedAt'>, env: PendingEnv): boolean {
  if (e.host !== env.host) return env.now - Date.parse(e.startedAt) > FOREIGN_STALE_MS;
  return e.pid !== env.pid && !env.alive(e.pid);
}

/** Names reserved by runs still in flight (and by dead runs not cleaned yet). */
export async function pendingNames(dir: string): Promise<Set<string>> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return new Set(
    names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => n.slice(0, -'.json'.length)),
  );
}

/** Reserves `name` for this run. USAGE when a live run is making a share of that name. */
export async function reservePending(
  dir: string,
  entry: Pick<PendingEntry, 'name' | 'files'>,
  env: PendingEnv = currentRun(),
): Promise<PendingRun> {
  const file = join(dir, `${entry.name}.json`);
  const full: PendingEntry = { ...entry, pid: env.pid, host: env.host, startedAt: new Date(env.now).toISOString() };
  // written under a temporary name, then hard-linked to its own: the entry appears whole, and only if it is new
  const tmp = partialName(file);
  try {
    await writeFile(tmp, JSON.stringify(full) + '\n', { flag: 'wx', mode: 0o600 });
  } catch (e) {
    await rm(tmp, { force: true });
    throw diskFull(e, file);
  }
  try {
    await link(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    throw new QshareError(
      'USAGE',
      `another qshare is making a share named "${entry.name}" right now; choose another --name`,
    );
  } finally {
    await rm(tmp, { force: true });
  }
  return { release: () => rm(file, { force: true }) };
}

/**
 * Removes what dead runs made (see the top of this file). `held(path)`: a recorded share holds that file, keep it.
 * Returns the paths removed. An entry that cannot be parsed (not written by qshare) is left alone.
 */
export async function cleanDeadRuns(
  dir: string,
  held: (path: string) => boolean,
  env: PendingEnv = currentRun(),
): Promise<string[]> {
  const removed: string[] = [];
  for (const n of await readdir(dir).catch(() => [] as string[])) {
    if (!n.endsWith('.json') || n.startsWith('.')) continue;
    const file = join(dir, n);
    const entry = await readFile(file, 'utf8').then(parseEntry, () => undefined);
    if (!entry || !isDead(entry, env)) continue;
    for (const f of entry.files) {
      if (!held(f) && (await lstat(f).catch(() => null))) {
        await rm(f, { force: true });
        removed.push(f);
      }
      for (const p of await partialsOf(f)) {
        await rm(p, { force: true, recursive: true });
        removed.push(p);
      }
    }
    await rm(file, { force: true });
  }
  // the temporary file of an entry whose run died while writing it (an hour old: never one being written now)
  await cleanLeftovers([{ dir, owned: new Set() }], { now: env.now });
  return removed;
}

export function parseEntry(text: string): PendingEntry | undefined {
  try {
    const e = JSON.parse(text) as Partial<PendingEntry>;
    if (
      typeof e.name !== 'string' ||
      typeof e.pid !== 'number' ||
      typeof e.host !== 'string' ||
      typeof e.startedAt !== 'string' ||
      !Array.isArray(e.files)
    )
      return undefined;
    if (!e.files.every((f) => typeof f === 'string' && f.startsWith('/'))) return undefined;
    return e as PendingEntry;
  } catch {
    return undefined;
  }
}

/** `.<base>.partial-…` siblings of `file` (7-Zip's partial archive, an atomic write's temp file). */
async function partialsOf(file: string): Promise<string[]> {
  const base = basename(file);
  const names = await readdir(dirname(file)).catch(() => [] as string[]);
  return names.filter((n) => partialTarget(n) === base).map((n) => join(dirname(file), n));
}

/** `<data folder>/pending` */
export function pendingDir(dataDir: string): string {
  return join(dataDir, 'pending');
}
