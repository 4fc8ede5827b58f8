import { accessSync, constants, type Stats } from 'node:fs';
import { access, lstat, realpath, statfs } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { QshareError } from '../errors.js';
import { isInside } from '../fsx/paths.js';
import { displayPath, isUtf8, kindOf, stateOf, walkTree, type TreeStates, type WalkEntry } from '../fsx/tree.js';
import type { FileList, TorrentFileEntry } from '../torrent/index.js';

export interface SourceInfo {
  /** absolute, symlinks in the path resolved */
  path: string;
  kind: 'file' | 'dir';
  /** bytes of regular files (links counted as links, never followed) */
  totalBytes: number;
  fileCount: number;
  dirCount: number;
  linkCount: number;
  /** entries whose own name is not valid UTF-8 (shown with `\xNN` escapes): 7-Zip keeps them, a torrent cannot */
  nonUtf8: string[];
  /**
   * with `{ states: true }`: every entry's state as inspected (fsx/tree.ts treeStates, from the same walk); the
   * archive step compares the tree after 7-Zip with it, so what was checked here is what must still be there
   */
  states?: TreeStates;
  /**
   * with `{ files: true }`: what a torrent of the source as it is holds (torrent/files.ts listFiles' result), from the
   * same walk — a folder shared with --no-encrypt is not walked a second time. Names that are not valid UTF-8 are
   * left out of it (see nonUtf8: such a source cannot be shared that way).
   */
  files?: FileList;
}

export interface InspectOptions {
  states?: boolean;
  files?: boolean;
}

/**
 * Checks what the user asked to share before anything is written: it exists, is readable, is not empty, and is
 * neither inside qshare's data folder nor contains it. Walks the tree with lstat (links are never followed).
 */
export async function inspectSource(input: string, dataDir: string, opts: InspectOptions = {}): Promise<SourceInfo> {
  const { path, top } = await checkSourceTop(input, dataDir);
  if (top.isFile()) {
    const files: FileList = {
      kind: 'file',
      files: [{ path: [basename(path)], length: top.size, absPath: path, mtimeMs: top.mtimeMs }],
      totalBytes: top.size,
      skipped: [],
    };
    return {
      path,
      kind: 'file',
      totalBytes: top.size,
      fileCount: 1,
      dirCount: 0,
      linkCount: 0,
      nonUtf8: [],
      ...(opts.states ? { states: new Map([['', stateOf(kindOf(top), top, path)]]) } : {}),
      ...(opts.files ? { files } : {}),
    };
  }
  const info: SourceInfo = {
    path,
    kind: 'dir',
    totalBytes: 0,
    fileCount: 0,
    dirCount: 0,
    linkCount: 0,
    nonUtf8: [],
    ...(opts.states ? { states: new Map([['', stateOf(kindOf(top), top, path)]]) } : {}),
  };
  const listed = opts.files ? new TorrentListing() : undefined;
  await walk(path, info, listed);
  if (info.fileCount === 0 && info.linkCount === 0)
    throw new QshareError('INPUT', `${path} is empty: it holds no files to share`);
  if (listed) info.files = listed.result();
  return info;
}

/**
 * The part of inspectSource that needs no walk: the path exists, is a readable file that is not empty or a folder,
 * and is neither inside qshare's data folder nor contains it. A few system calls: `add` runs it before anything else
 * (before it connects to qBittorrent), so a wrong path is said first.
 */
export async function checkSourceTop(input: string, dataDir: string): Promise<{ path: string; top: Stats }> {
  const given = resolve(input);
  let st;
  try {
    st = await lstat(given);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      // Node decodes argv as UTF-8, turning bytes that are not into U+FFFD: such a name cannot be found again
      if (given.includes('\uFFFD'))
        throw new QshareError(
          'INPUT',
          `${displayPath(given)} does not exist, or its name is not valid UTF-8 (qshare cannot be given such a name on the command line)`,
          {
            hint: 'rename it to a UTF-8 name (names inside it may stay as they are), or share the folder that holds it',
          },
        );
      throw new QshareError('INPUT', `${displayPath(given)} does not exist`);
    }
    if (code === 'EACCES') throw new QshareError('INPUT', `${displayPath(given)} cannot be read (permission denied)`);
    throw e;
  }
  const path = await resolveTop(given);
  const top = st.isSymbolicLink() ? await lstat(path) : st;
  const data = await realpath(dataDir).catch(() => resolve(dataDir));
  if (isInside(path, data))
    throw new QshareError('INPUT', `${path} is inside qshare's own data folder (${data}); share a folder of your own`);
  if (top.isDirectory() && isInside(data, path))
    throw new QshareError(
      'INPUT',
      `${path} contains qshare's own data folder (${data}); share a folder below it, or set QSHARE_HOME elsewhere`,
    );

  if (top.isFile()) {
    await readable(path, false);
    if (top.size === 0) throw new QshareError('INPUT', `${path} is empty (0 bytes): there is nothing to share`);
  } else if (!top.isDirectory()) throw new QshareError('INPUT', `${path} is not a regular file or a folder`);
  return { path, top };
}

/** The source with every link in its path resolved; a link that dangles or loops is said plainly. */
async function resolveTop(given: string): Promise<string> {
  let real: Buffer;
  try {
    real = await realpath(given, { encoding: 'buffer' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP')
      throw new QshareError(
        'INPUT',
        `${displayPath(given)} is a symbolic link that loops back on itself: there is nothing at its end to share`,
      );
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new QshareError('INPUT', `${displayPath(given)} is a symbolic link to something that does not exist`);
    throw e;
  }
  if (!isUtf8(real)) {
    throw new QshareError(
      'INPUT',
      `${displayPath(given)} leads to ${displayPath(real)}, whose name is not valid UTF-8`,
      {
        hint: 'rename that folder or file to a UTF-8 name (names inside it may stay as they are)',
      },
    );
  }
  return real.toString('utf8');
}

/**
 * Counts what will be shared and checks every file can be read, with names as bytes (a name that is not valid
 * UTF-8 is found and read like any other; it is remembered in `nonUtf8`, since a torrent cannot hold it).
 */
async function walk(root: string, info: SourceInfo, listed?: TorrentListing): Promise<void> {
  const uid = process.geteuid?.();
  await walkTree(root, {
    onDirError: (dir, e) => {
      if (e.code === 'EACCES')
        throw new QshareError(
          'INPUT',
          `${displayPath(dir)} cannot be read (permission denied); qshare needs to read every file it shares`,
        );
      throw e;
    },
    onEntry: (e) => {
      info.states?.set(e.rel.toString('latin1'), stateOf(e.kind, e.st, e.abs));
      listed?.add(e);
      if (!isUtf8(e.name)) info.nonUtf8.push(displayPath(e.rel));
      if (e.kind === 'dir') info.dirCount++;
      else if (e.kind === 'link') info.linkCount++;
      else if (e.kind === 'file') {
        if (!ownReadable(e.st, uid)) readableSync(e.abs);
        info.fileCount++;
        info.totalBytes += e.st.size;
      } else {
        throw new QshareError(
          'INPUT',
          `${displayPath(e.abs)} is a special file (socket, FIFO or device) that cannot be shared; move it out of the folder`,
        );
      }
    },
  });
}

/**
 * A file this process owns is readable exactly when its owner bits say so (the kernel looks at nothing else for the
 * owner, POSIX ACLs included), so the usual case needs no access() call: that was half of inspecting 2,000 files.
 */
export function ownReadable(st: { uid: number; mode: number }, uid: number | undefined): boolean {
  return uid !== undefined && st.uid === uid && (st.mode & 0o400) !== 0;
}

/** Collects a torrent's file list from the inspection's walk: what listFiles (torrent/files.ts) gives for a folder. */
class TorrentListing {
  private readonly files: { key: Buffer; entry: TorrentFileEntry }[] = [];
  private readonly skipped: string[] = [];
  private totalBytes = 0;

  add(e: WalkEntry): void {
    if (!isUtf8(e.rel)) return; // refused for a torrent anyway (nonUtf8)
    const rel = e.rel.toString('utf8');
    if (e.kind === 'file') {
      this.files.push({
        key: e.rel,
        entry: { path: rel.split('/'), length: e.st.size, absPath: e.abs.toString('utf8'), mtimeMs: e.st.mtimeMs },
      });
      this.totalBytes += e.st.size;
    } else if (e.kind === 'link') this.skipped.push(`${rel} (symbolic link)`);
  }

  result(): FileList {
    this.files.sort((a, b) => Buffer.compare(a.key, b.key));
    return {
      kind: 'dir',
      files: this.files.map((f) => f.entry),
      totalBytes: this.totalBytes,
      skipped: [...this.skipped].sort(),
    };
  }
}

function readableSync(p: Buffer): void {
  try {
    accessSync(p, constants.R_OK);
  } catch {
    throw new QshareError(
      'INPUT',
      `${displayPath(p)} cannot be read (permission denied); qshare needs to read every file it shares`,
    );
  }
}

async function readable(p: string, inTree: boolean): Promise<void> {
  try {
    await access(p, constants.R_OK);
  } catch {
    throw new QshareError(
      'INPUT',
      `${p} cannot be read (permission denied)${inTree ? '; qshare needs to read every file it shares' : ''}`,
    );
  }
}

/** Bytes free for an unprivileged writer in the folder holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
}

/** Room an archive of `contentBytes` needs: the content (store mode is the worst case) plus headers and slack. */
export function archiveBytesNeeded(contentBytes: number): number {
  return Math.ceil(contentBytes * 1.01) + 16 * 1024 * 1024;
}

export async function checkFreeSpace(dir: string, needed: number, what: string): Promise<void> {
  const free = await freeBytes(dir);
  if (free < needed)
    throw new QshareError(
      'DISK_SPACE',
      `not enough free space for ${what}: it needs about ${formatBytes(needed)} in ${dir}, which has ${formatBytes(free)} free`,
      {
        hint: 'free some space, or set QSHARE_HOME to a folder on a bigger disk',
      },
    );
}

export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}
