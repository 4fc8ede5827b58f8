import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { QshareError } from '../errors.js';

/** A fresh, hidden sibling name for a file being written: `.name.partial-<random>`. */
export function partialName(finalPath: string): string {
  return join(dirname(finalPath), `.${basename(finalPath)}.partial-${randomBytes(4).toString('hex')}`);
}

/**
 * Writes `data` to `path` atomically: a temp file in the same folder, fsync, rename over the target.
 * `exclusive` refuses to replace an existing file (checked again at rename time is not possible on POSIX, so the
 * caller owns name uniqueness; this guards against the common case).
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: { mode?: number } = {},
): Promise<void> {
  const tmp = partialName(path);
  const fh = await open(tmp, 'wx', opts.mode ?? 0o644).catch((e: unknown) => Promise.reject(diskFull(e, path)));
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw diskFull(e, path);
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** ENOSPC / EDQUOT as DISK_FULL naming the file; anything else as it is. */
export function diskFull(e: unknown, path: string): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return e;
  return new QshareError(
    'DISK_FULL',
    `the disk is full: could not write ${path}${code === 'EDQUOT' ? ' (disk quota reached)' : ''}; nothing was changed`,
    {
      hint: 'free some space there, then run the same command again',
      cause: e,
    },
  );
}

/** Creates qshare's private folders: 0700, since they hold archives, torrents and state. */
export async function ensurePrivateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
}
