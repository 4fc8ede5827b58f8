import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { QshareError } from '../errors.js';

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

async function isStale(lockFile: string): Promise<boolean> {
  try {
    const [text, st] = await Promise.all([readFile(lockFile, 'utf8'), stat(lockFile)]);
    const pid = Number.parseInt(text, 10);
    if (Number.isInteger(pid) && pid > 0) return !alive(pid);
    return Date.now() - st.mtimeMs > STALE_MS;
  } catch {
    return false;
  }
}

/**
 * Runs `fn` while holding `lockFile` (created exclusively, holding our pid). A lock whose process is gone is taken
 * over. Throws `onTimeout()` when another live process holds it longer than `waitMs`, and INTERRUPTED when `signal`
 * is aborted while waiting (a free lock is still taken after an abort: cleaning up may need it).
 */
export async function withFileLock<T>(lockFile: string, fn: () => Promise<T>, opts: { waitMs?: number; onTimeout: () => Error; signal?: AbortSignal }): Promise<T> {
  const deadline = Date.now() + (opts.waitMs ?? 10_000);
  for (;;) {
    try {
      const fh = await open(lockFile, 'wx', 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (await isStale(lockFile)) {
      const aside = `${lockFile}.stale-${process.pid}`;
      await rename(lockFile, aside).then(() => rm(aside, { force: true }), () => {});
      continue;
    }
    if (opts.signal?.aborted) throw new QshareError('INTERRUPTED', `interrupted while waiting for ${lockFile}`);
    if (Date.now() > deadline) throw opts.onTimeout();
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    return await fn();
  } finally {
    await rm(lockFile, { force: true });
  }
}
