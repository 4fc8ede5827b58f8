import { createHash } from 'node:crypto';
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isOsNoiseName } from './ignore.js';

/** What the watcher knows about one item of the drop folder when it looks at it. */
export interface ItemInfo {
  /** identity of the top-level entry: an item edited in place keeps it, a new copy gets a new one */
  dev: number;
  ino: number;
  kind: 'file' | 'dir' | 'link' | 'other';
  /** bytes of regular files in the tree */
  bytes: number;
  files: number;
  /**
   * SHA-1 over every path, type, size, mtime and permission bits in the tree (OS noise files left out): making an
   * unreadable file readable is a change too, so an item that failed for it is tried again
   */
  fingerprint: string;
  /** a link at the top that leads nowhere: it dangles, or loops */
  dangling?: true;
}

/**
 * Walks an item's tree with lstat (links are read, never followed) and sums it up. Returns undefined when the item
 * no longer exists. A file that vanishes during the walk is skipped (its removal is an event of its own).
 */
export async function fingerprintItem(path: string): Promise<ItemInfo | undefined> {
  let top;
  try {
    top = await lstat(path);
  } catch (e) {
    if (isGone(e)) return undefined;
    throw e;
  }
  const h = createHash('sha1');
  const info: ItemInfo = { dev: top.dev, ino: top.ino, kind: kindOf(top), bytes: 0, files: 0, fingerprint: '' };
  const line = (rel: string, kind: string, size: number, mtimeMs: number, extra = '') =>
    h.update(`${rel}\0${kind}\0${size}\0${mtimeMs}\0${extra}\n`);

  if (top.isSymbolicLink()) {
    // a link dropped at the top is shared as its target (like `qshare add`): watch the target's size and mtime
    const target = await readlink(path).catch(() => '');
    const t = await stat(path).catch(() => null);
    line('', 'link', t?.size ?? -1, t?.mtimeMs ?? -1, target);
    if (t?.isFile()) {
      info.bytes = t.size;
      info.files = 1;
    } else if (t?.isDirectory()) {
      await walk(path, '', info, line);
    } else if (!t) info.dangling = true;
  } else if (top.isDirectory()) {
    line('', 'dir', 0, top.mtimeMs, modeOf(top));
    await walk(path, '', info, line);
  } else {
    line('', info.kind, top.size, top.mtimeMs, modeOf(top));
    if (top.isFile()) {
      info.bytes = top.size;
      info.files = 1;
    }
  }
  info.fingerprint = h.digest('hex');
  return info;
}

type Line = (rel: string, kind: string, size: number, mtimeMs: number, extra?: string) => void;

async function walk(dir: string, rel: string, info: ItemInfo, line: Line): Promise<void> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (e) {
    if (isGone(e)) return;
    line(rel, 'unreadable', 0, 0, (e as NodeJS.ErrnoException).code ?? 'error');
    return;
  }
  for (const name of names) {
    if (isOsNoiseName(name)) continue;
    const p = join(dir, name);
    const r = rel === '' ? name : `${rel}/${name}`;
    let st;
    try {
      st = await lstat(p);
    } catch (e) {
      if (isGone(e)) continue;
      throw e;
    }
    const kind = kindOf(st);
    if (kind === 'dir') {
      line(r, 'dir', 0, st.mtimeMs, modeOf(st));
      await walk(p, r, info, line);
    } else if (kind === 'link') {
      line(r, 'link', st.size, st.mtimeMs, await readlink(p).catch(() => ''));
    } else {
      line(r, kind, st.size, st.mtimeMs, modeOf(st));
      if (kind === 'file') {
        info.files++;
        info.bytes += st.size;
      }
    }
  }
}

function modeOf(st: { mode: number }): string {
  return (st.mode & 0o7777).toString(8);
}

function kindOf(st: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): ItemInfo['kind'] {
  return st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
}

function isGone(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
