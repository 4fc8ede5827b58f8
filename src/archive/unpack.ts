/**
 * Unpacking an archive someone else made, safely whichever 7-Zip runs (7zz 26 or the p7zip 16.02 fallback):
 *
 * 1. list it with the password and refuse it outright when a name is absolute, contains `..`, appears twice, or
 *    goes through an entry that is a link (checkEntries): nothing is written then;
 * 2. refuse when it would replace anything already in the target, unless `force`;
 * 3. extract into a fresh private folder INSIDE the target (same filesystem, so moving is a rename). 7-Zip never
 *    writes outside it: no name escapes (1), and the folder starts empty so no path goes through a link that was
 *    not in the archive;
 * 4. check every link on disk and remove those whose target is absolute or resolves (or, dangling, could resolve)
 *    outside that folder, and anything that is neither file, folder nor link. 7zz refuses `../` link targets on
 *    its own (it then writes an empty file in the link's place and exits 2): those are removed the same way;
 * 5. move everything into the target. On failure or Ctrl-C the temporary folder is removed (and the target too,
 *    if this call created it).
 * The password reaches 7-Zip on stdin only (runSevenZip).
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readlink, realpath, rename, rm, statfs, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { QshareError } from '../errors.js';
import { isInside } from '../fsx/paths.js';
import { displayPath } from '../fsx/tree.js';
import type { Logger } from '../log.js';
import { listArchive } from './archive.js';
import { buildExtractArgs, passwordStdin } from './argv.js';
import type { SevenZip } from './find.js';
import type { ArchiveEntry } from './listing.js';
import { runSevenZip } from './run.js';
import { checkEntries, judgeLink, pathParts } from './safety.js';

export interface UnpackOptions {
  sz: SevenZip;
  archivePath: string;
  password: string;
  /** the folder to unpack into; created when missing */
  target: string;
  /** replace files and links already in the target that the archive also holds */
  force: boolean;
  /** the listing, if the caller already has it (listArchive with the password) */
  entries?: ArchiveEntry[];
  signal?: AbortSignal;
  onProgress?: (percent: number, file?: string) => void;
  log?: Logger;
  env?: NodeJS.ProcessEnv;
}

export interface RemovedEntry {
  /** relative to the target, `/`-separated */
  path: string;
  why: string;
}

export interface UnpackResult {
  target: string;
  /** what the archive's top level holds (`Wedding Photos/`) */
  topLevel: string[];
  files: number;
  bytes: number;
  /** links (and special files) left out because they pointed outside the target */
  removed: RemovedEntry[];
}

/** The error text sevenZipError() gives when 7-Zip ≥ 21 refused a `../` link target (archive/errors.ts). */
const REFUSED_LINKS = /links pointing outside the folder/;

export async function unpackArchive(o: UnpackOptions): Promise<UnpackResult> {
  const target = resolve(o.target);
  const entries =
    o.entries ??
    (await listArchive({
      sz: o.sz,
      archivePath: o.archivePath,
      password: o.password,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.env ? { env: o.env } : {}),
    }));
  const problems = checkEntries(entries);
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).map((p) => `${JSON.stringify(p.path)} (${p.why})`);
    throw new QshareError(
      'ARCHIVE_UNSAFE',
      `refusing to unpack this archive: ${shown.join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`,
      {
        hint: 'nothing was unpacked. A qshare archive never holds such paths: this one was made by hand, possibly to write files outside the folder',
      },
    );
  }
  const files = entries.filter((e) => e.kind === 'file');
  const bytes = files.reduce((n, e) => n + e.size, 0);
  const topLevel = [...new Set(entries.map((e) => pathParts(e.path)[0]!))];

  const existing = await lstat(target).catch(() => null);
  if (existing && !existing.isDirectory())
    throw new QshareError('INPUT', `${target} exists and is not a folder`, { hint: 'choose another folder with --to' });
  const conflicts = existing ? await findConflicts(target, entries) : [];
  if (conflicts.length > 0 && !o.force) {
    const shown = conflicts.slice(0, 5).join(', ') + (conflicts.length > 5 ? ` and ${conflicts.length - 5} more` : '');
    throw new QshareError('INPUT', `${target} already holds ${shown}; refusing to overwrite`, {
      hint: 'nothing was unpacked: choose another folder with --to, or add --force to replace them',
    });
  }
  await mkdir(dirname(target), { recursive: true });
  await checkRoom(existing ? target : dirname(target), bytes);
  let createdTarget = false;
  if (!existing) {
    await mkdir(target);
    createdTarget = true;
  }
  const tmp = join(target, `.qshare-unpack-${randomBytes(6).toString('hex')}`);
  let ok = false;
  try {
    await mkdir(tmp, { mode: 0o700 });
    const removed: RemovedEntry[] = [];
    try {
      await runSevenZip(
        o.sz,
        buildExtractArgs({ archivePath: o.archivePath, outDir: tmp, allowDangerousLinks: !o.sz.legacy }),
        {
          stdin: passwordStdin(o.sz.legacy, o.password, 'read'),
          op: 'extract',
          password: o.password,
          ...(o.signal ? { signal: o.signal } : {}),
          ...(o.onProgress ? { onProgress: o.onProgress } : {}),
          ...(o.env ? { env: o.env } : {}),
        },
      );
    } catch (e) {
      if (!(e instanceof QshareError && e.code === 'SEVENZIP_FAILED' && REFUSED_LINKS.test(e.message))) throw e;
      o.log?.debug('7-Zip refused links pointing outside the folder; they are left out');
    }
    throwIfAborted(o.signal);
    removed.push(...(await neutralise(tmp, entries)));
    throwIfAborted(o.signal);
    await moveInto(tmp, target, o.force);
    ok = true;
    return { target, topLevel, files: files.length, bytes, removed };
  } finally {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    if (!ok && createdTarget) await rm(target, { recursive: true, force: true }).catch(() => {});
  }
}

/** Entries that would replace something in `target`: an existing non-folder at a path, or on the way to it. */
async function findConflicts(target: string, entries: ArchiveEntry[]): Promise<string[]> {
  const out = new Set<string>();
  const cache = new Map<string, 'dir' | 'other' | 'none'>();
  const kindAt = async (rel: string) => {
    let k = cache.get(rel);
    if (!k) {
      const st = await lstat(join(target, rel)).catch(() => null);
      k = !st ? 'none' : st.isDirectory() ? 'dir' : 'other';
      cache.set(rel, k);
    }
    return k;
  };
  for (const e of entries) {
    const parts = pathParts(e.path);
    for (let i = 1; i <= parts.length; i++) {
      const rel = parts.slice(0, i).join('/');
      const k = await kindAt(rel);
      if (k === 'none') break;
      const isLast = i === parts.length;
      if (k === 'other' || (isLast && e.kind !== 'dir')) {
        out.add(rel);
        break;
      }
    }
  }
  return [...out].sort();
}

async function checkRoom(dir: string, bytes: number): Promise<void> {
  const s = await statfs(dir).catch(() => null);
  if (!s) return;
  const free = Number(s.bavail) * Number(s.bsize);
  const need = bytes + 16 * 1024 * 1024;
  if (free < need) {
    throw new QshareError(
      'DISK_SPACE',
      `not enough free space to unpack: it needs about ${Math.ceil(need / 1e6)} MB in ${dir}, which has ${Math.floor(free / 1e6)} MB free`,
      {
        hint: 'free some space, or unpack elsewhere with --to',
      },
    );
  }
}

/**
 * Removes from the freshly extracted tree every link that is absolute or leads outside `root`, entries 7-Zip wrote
 * as a file where the archive has a link (7zz's refused `../` links), and anything that is neither file, folder nor
 * link. Repeats until nothing changes (removing one link can change where another resolves).
 */
/**
 * The target a link has in the archive. 7-Zip ≥ 21 writes an absolute target `/etc` as `<out>/etc` (below the
 * folder it unpacks into); the user should read the `/etc` the sender's archive holds. Pure.
 */
export function storedTarget(target: string, outDir: string): string {
  const prefix = outDir.endsWith('/') ? outDir : `${outDir}/`;
  return target.startsWith(prefix) ? target.slice(prefix.length - 1) : target;
}

async function neutralise(root: string, entries: ArchiveEntry[]): Promise<RemovedEntry[]> {
  const rootReal = await realpath(root);
  const listedLinks = new Set(entries.filter((e) => e.kind === 'symlink').map((e) => pathParts(e.path).join('/')));
  const removed: RemovedEntry[] = [];
  for (let round = 0; round < 100; round++) {
    let changed = false;
    for (const item of await walk(root)) {
      const abs = under(root, item.rel);
      const rel = displayPath(item.rel);
      let why: string | undefined;
      if (item.kind === 'link') {
        // names and targets are bytes (not always UTF-8); the checks only look at `/`, `.` and the start, which any
        // decoding keeps
        const target = (await readlink(abs, { encoding: 'buffer' })).toString('utf8');
        const resolved = await realpath(abs, { encoding: 'buffer' }).then(
          (b) => b.toString('utf8'),
          () => undefined,
        );
        const verdict = judgeLink(
          target,
          resolved,
          rootReal,
          resolve(dirname(join(root, item.rel.toString('utf8'))), target),
          isInside,
        );
        if (verdict !== 'keep')
          why = `a link to ${JSON.stringify(storedTarget(target, root))}, ${verdict === 'absolute' ? 'an absolute path' : 'outside the folder'}`;
      } else if (item.kind === 'file' && listedLinks.has(item.rel.toString('utf8'))) {
        why = 'a link pointing outside the folder (7-Zip refused it)';
      } else if (item.kind === 'other') {
        why = 'neither a file, a folder nor a link';
      }
      if (why) {
        await unlink(abs);
        removed.push({ path: rel, why });
        changed = true;
      }
    }
    if (!changed) return removed;
  }
  throw new QshareError(
    'ARCHIVE_UNSAFE',
    'the archive holds a tangle of links qshare could not check; nothing was unpacked',
  );
}

interface WalkItem {
  /** below the root, `/`-separated, as bytes: a name need not be UTF-8 */
  rel: Buffer;
  kind: 'dir' | 'file' | 'link' | 'other';
}

const SLASH = Buffer.from('/');

/** `root/rel` as bytes. */
function under(root: string | Buffer, rel: Buffer): Buffer {
  return Buffer.concat([Buffer.from(root), SLASH, rel]);
}

/** Every path below root, never following links, names read as bytes. */
async function walk(root: string): Promise<WalkItem[]> {
  const out: WalkItem[] = [];
  const visit = async (rel: Buffer | null) => {
    for (const d of await readdir(rel ? under(root, rel) : root, { withFileTypes: true, encoding: 'buffer' })) {
      const r = rel ? Buffer.concat([rel, SLASH, d.name]) : d.name;
      if (d.isSymbolicLink()) out.push({ rel: r, kind: 'link' });
      else if (d.isDirectory()) {
        out.push({ rel: r, kind: 'dir' });
        await visit(r);
      } else if (d.isFile()) out.push({ rel: r, kind: 'file' });
      else out.push({ rel: r, kind: 'other' });
    }
  };
  await visit(null);
  return out;
}

/**
 * Moves the extracted tree into `dst`: a missing name is renamed in one go; a folder that exists on both sides is
 * merged; anything else is replaced only with `force` (a conflict found now appeared after the check). Names are
 * bytes.
 */
async function moveInto(src: string | Buffer, dst: string | Buffer, force: boolean): Promise<void> {
  for (const name of await readdir(src, { encoding: 'buffer' })) {
    const s = under(src, name);
    const d = under(dst, name);
    const [ss, ds] = await Promise.all([lstat(s), lstat(d).catch(() => null)]);
    if (!ds) await rename(s, d);
    else if (ss.isDirectory() && ds.isDirectory()) await moveInto(s, d, force);
    else if (force) {
      await rm(d, { recursive: true, force: true });
      await rename(s, d);
    } else throw new QshareError('INPUT', `${displayPath(d)} appeared while unpacking; refusing to overwrite it`);
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new QshareError('INTERRUPTED', 'interrupted while unpacking; the partly unpacked files were removed');
}
