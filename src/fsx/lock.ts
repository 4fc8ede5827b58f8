import { randomBytes } from 'node:crypto';
import { link, open, rm, stat, writeFile } from 'node:fs/promises';
import { QshareError } from '../errors.js';
import { diskFull } from './atomic.js';

/** A lock whose content is not a pid (written by an older qshare, or damaged) is stale after this long. */
const STALE_MS = 30_000;

/** Whether a process with this pid exists on this machine (EPERM: it does, but belongs to another user). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface Held {
  dev: number;
  ino: number;
}

/**
 * Creates `path` whole, holding our pid: the pid goes into a private temp file, which is then hard-linked to the
 * name (link fails with EEXIST when the name is taken). Such a file is never seen empty, even when its writer is
 * killed. Returns what identifies it (its inode), or null when the name is taken.
 */
async function createHolding(path: string): Promise<Held | null> {
  const tmp = `${path}.new-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(tmp, `${process.pid}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    await rm(tmp, { force: true });
    throw diskFull(e, path);
  }
  try {
    await link(tmp, path);
    const st = await stat(tmp);
    return { dev: st.dev, ino: st.ino };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw diskFull(e, path);
  } finally {
    await rm(tmp, { force: true });
  }
}

/** The file as it is now: which one (inode) and whether its holder is gone. Null when there is none. */
async function inspect(path: string): Promise<(Held & { stale: boolean }) | null> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return null;
  }
  try {
    // content and identity from the same open file: what is judged is what would be taken over
    const st = await fh.stat();
    const pid = Number.parseInt(await fh.readFile('utf8'), 10);
    const stale = Number.isInteger(pid) && pid > 0 ? !alive(pid) : Date.now() - st.mtimeMs > STALE_MS;
    return { dev: st.dev, ino: st.ino, stale };
  } finally {
    await fh.close();
  }
}

/**
 * Removes a stale lock. Several processes may judge the same lock stale at once, and a plain remove-then-create
 * lets one of them remove the lock another has just made. So a takeover of the lock file with inode N first
 * creates the guard `<lock>.break-N` exclusively; under it the lock is looked at again and removed only if it is
 * still that file and still stale. Nothing else can change it meanwhile: its holder is dead, its name is taken (no
 * one can create it), and only the guard's holder removes it. A guard whose own holder died is removed.
 */
async function takeOver(lockFile: string, judged: Held): Promise<void> {
  const guard = `${lockFile}.break-${judged.dev}-${judged.ino}`;
  const got = await createHolding(guard);
  if (!got) {
    if ((await inspect(guard))?.stale) await rm(guard, { force: true });
    return;
  }
  try {
    const now = await inspect(lockFile);
    if (now && now.stale && now.dev === judged.dev && now.ino === judged.ino) await rm(lockFile, { force: true });
  } finally {
    await rm(guard, { force: true });
  }
}

/** Removes our lock, and only ours. */
async function release(lockFile: string, held: Held): Promise<void> {
  const st = await stat(lockFile).catch(() => null);
  if (st && st.dev === held.dev && st.ino === held.ino) await rm(lockFile, { force: true });
}

/**
 * Runs `fn` while holding `lockFile` (created whole and exclusively, holding our pid). A lock whose process is gone
 * is taken over at once. Throws `onTimeout()` when another live process holds it longer than `waitMs`, INTERRUPTED
 * when `signal` is aborted while waiting (a free lock is still taken after an abort: cleaning up may need it), and
 * DISK_FULL when the lock cannot be written.
 */
export async function withFileLock<T>(
  lockFile: string,
  fn: () => Promise<T>,
  opts: { waitMs?: number; onTimeout: () => Error; signal?: AbortSignal },
): Promise<T> {
  const deadline = Date.now() + (opts.waitMs ?? 10_000);
  let held: Held | null;
  for (;;) {
    held = await createHolding(lockFile);
    if (held) break;
    const now = await inspect(lockFile);
    if (now === null) continue; // released meanwhile
    if (now.stale) {
      await takeOver(lockFile, now);
      continue;
    }
    if (opts.signal?.aborted) throw new QshareError('INTERRUPTED', `interrupted while waiting for ${lockFile}`);
    if (Date.now() > deadline) throw opts.onTimeout();
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    return await fn();
  } finally {
    await release(lockFile, held);
  }
}
