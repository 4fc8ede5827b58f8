/**
 * The archive operations the rest of qshare calls. All 7-Zip runs go through runSevenZip; the password is only ever
 * written to 7-Zip's stdin.
 */
import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, readdir, realpath, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { QshareError } from '../errors.js';
import { isInside } from '../fsx/paths.js';
import type { Logger } from '../log.js';
import {
  buildCreateArgs,
  buildExtractArgs,
  buildHeaderCheckArgs,
  buildListArgs,
  buildTestArgs,
  checkPassword,
  passwordStdin,
  requireLevel,
} from './argv.js';
import { checkHeaders, deriveKey, SEVEN_ZIP_ROUNDS_POWER } from './header-check.js';
import type { SevenZip } from './find.js';
import { parseTechnicalListing, type ArchiveEntry } from './listing.js';
import { runSevenZip } from './run.js';

export type { ArchiveEntry } from './listing.js';

export interface CreateArchiveOptions {
  sz: SevenZip;
  /** a file or a folder; the archive holds it under its own name (`photos/…`), hidden by header encryption */
  source: string;
  /** the archive to write; must not exist */
  outPath: string;
  password: string;
  /** 0 (store) … 9 */
  level: number;
  signal?: AbortSignal;
  onProgress?: (percent: number, file?: string) => void;
  log?: Logger;
  /** open the new archive's encrypted headers with the password before publishing it (default true; cheap) */
  verify?: boolean;
  /** base environment for 7-Zip (default process.env) */
  env?: NodeJS.ProcessEnv;
  /**
   * called once, just before 7-Zip starts, with the hidden path it is about to write: lets a
   * caller read the archive while it grows (hashing while writing). The file appears a moment later; on success it
   * is renamed (hard-linked, same inode) to outPath, on failure removed.
   */
  onWriting?: (partialPath: string) => void;
  /**
   * called once 7-Zip has exited successfully, with the hidden path: runs alongside the header
   * check, and the archive is published only if both succeed (if it throws, the archive is removed and its error is
   * what createArchive throws, unless the header check failed too)
   */
  onWritten?: (partialPath: string) => Promise<void>;
}

export interface CreatedArchive {
  /** the file written: [outPath] */
  files: string[];
  bytes: number;
}

/**
 * Encrypts `source` into a new 7z at `outPath`. 7-Zip writes to a fresh hidden name beside outPath
 * (`.<base>.partial-<random>`; `7z a` onto an existing file would UPDATE it), which is renamed to outPath only once
 * 7-Zip succeeded (and, by default, the archive tested fine with the password). On any failure or abort the partial
 * file(s) are removed. The source is only read.
 */
function notOpened(cause?: unknown): QshareError {
  return new QshareError('SEVENZIP_FAILED', 'the new archive did not open with its password; it was deleted', {
    ...(cause !== undefined ? { cause } : {}),
  });
}

export async function createArchive(o: CreateArchiveOptions): Promise<CreatedArchive> {
  checkPassword(o.password);
  requireLevel(o.level);
  throwIfAborted(o.signal);
  const source = await resolveSource(o.source);
  const outPath = resolve(o.outPath);
  const outDir = dirname(outPath);
  const realOutDir = await realpath(outDir).catch(() => null);
  if (!realOutDir) throw new QshareError('NOT_FOUND', `the folder for the archive does not exist: ${outDir}`);
  if (isInside(join(realOutDir, basename(outPath)), source)) {
    throw new QshareError('USAGE', `the archive ${outPath} would be inside the folder being archived (${source})`, {
      hint: 'write the archive to another folder',
    });
  }
  if (!(await stat(realOutDir)).isDirectory()) throw new QshareError('NOT_FOUND', `${outDir} is not a folder`);
  if (await exists(outPath)) {
    throw new QshareError('INPUT', `${outPath} already exists; refusing to overwrite it`, {
      hint: 'choose another name, or remove the old archive first',
    });
  }

  const partial = join(outDir, `.${basename(outPath)}.partial-${randomBytes(6).toString('hex')}`);
  const log = o.log;
  const args = buildCreateArgs({ archivePath: partial, sources: [source], level: o.level, legacy: o.sz.legacy });
  log?.debug('7-Zip: creating archive', { sevenZip: o.sz.path, version: o.sz.version, args: args.join(' ') });
  const started = Date.now();
  // the key that opens the header depends only on the password: derived while 7-Zip writes
  const key =
    o.sz.legacy || !(o.verify ?? true) ? undefined : deriveKey(o.password, Buffer.alloc(0), SEVEN_ZIP_ROUNDS_POWER);
  try {
    o.onWriting?.(partial);
    await runSevenZip(o.sz, args, {
      stdin: passwordStdin(o.sz.legacy, o.password, 'create'),
      cwd: outDir,
      op: 'create',
      password: o.password,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      ...(o.env ? { env: o.env } : {}),
    });
    if (!(await exists(partial))) throw new Error(`7-Zip reported success but wrote no archive at ${partial}`);
    log?.debug('7-Zip: archive written', { ms: Date.now() - started });
    const verifying = async () => {
      if (!(o.verify ?? true)) return;
      // Open the new archive's encrypted headers with the password before publishing it. This catches the old
      // 7za's danger (an archive silently encrypted with the empty password) at the cost of reading the headers
      // only; a full `t` would re-read every byte (+40 % in store mode). For 7-Zip ≥ 21 this process does it with
      // the key it derived while 7-Zip wrote (header-check.ts); otherwise, or for a layout it does not read, 7-Zip.
      const t0 = Date.now();
      const here = key ? await checkHeaders(partial, o.password, key) : { unsupported: 'p7zip' };
      if (here === 'wrong-password') throw notOpened();
      if (here !== 'ok') {
        log?.debug('7-Zip checks the headers', { why: here.unsupported });
        await openHeaders({
          sz: o.sz,
          archivePath: partial,
          password: o.password,
          ...(o.env ? { env: o.env } : {}),
        }).catch((e: unknown) => {
          if (e instanceof QshareError && e.code === 'INTERRUPTED') throw e;
          throw notOpened(e);
        });
      }
      log?.debug('7-Zip: archive headers verified', { ms: Date.now() - t0, by: here === 'ok' ? 'qshare' : '7-Zip' });
    };
    // the caller's own checks of the written file run while 7-Zip reads the headers (a separate process)
    const [checked, theirs] = await Promise.allSettled([verifying(), o.onWritten?.(partial)]);
    if (checked.status === 'rejected') throw checked.reason;
    if (theirs.status === 'rejected') throw theirs.reason;
    throwIfAborted(o.signal);
    await publish(partial, outPath);
    return { files: [outPath], bytes: (await stat(outPath)).size };
  } catch (e) {
    await removePartials(partial);
    if (e instanceof QshareError && e.code === 'DISK_FULL') {
      throw new QshareError(
        'DISK_FULL',
        `the disk holding ${outDir} filled up while 7-Zip was writing the archive; the partial archive was deleted`,
        {
          hint: "free some space there (the archive needs about as much as what you share), or keep qshare's data on a bigger disk (QSHARE_HOME), then run the same command again",
          cause: e,
        },
      );
    }
    throw e;
  }
}

export interface ReadArchiveOptions {
  sz: SevenZip;
  /** the archive */
  archivePath: string;
  password: string;
  signal?: AbortSignal;
  onProgress?: (percent: number, file?: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** Opens the archive's headers with the password and reads no file (buildHeaderCheckArgs). */
export async function openHeaders(o: ReadArchiveOptions): Promise<void> {
  checkPassword(o.password);
  const archivePath = await existingArchive(o.archivePath);
  await runSevenZip(o.sz, buildHeaderCheckArgs({ archivePath }), readRunOptions(o, 'test'));
}

/** Tests every file of the archive with the password (`7z t`). */
export async function testArchive(o: ReadArchiveOptions): Promise<void> {
  checkPassword(o.password);
  const archivePath = await existingArchive(o.archivePath);
  await runSevenZip(o.sz, buildTestArgs({ archivePath }), readRunOptions(o, 'test'));
}

/**
 * Extracts into `outDir`, which must not exist or be empty (so nothing is overwritten).
 * SAFETY (later issue): links are not checked here. 7-Zip ≥ 21 refuses `../` link targets, but p7zip 16.02
 * recreates every link as-is, so an untrusted archive can plant links pointing anywhere.
 */
export async function extractArchive(o: ReadArchiveOptions & { outDir: string }): Promise<void> {
  checkPassword(o.password);
  const archivePath = await existingArchive(o.archivePath);
  const outDir = resolve(o.outDir);
  const existing = await readdir(outDir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw e;
  });
  if (existing && existing.length > 0) {
    throw new QshareError('INPUT', `${outDir} is not empty; refusing to extract into it`, {
      hint: 'choose a new or empty folder',
    });
  }
  await mkdir(outDir, { recursive: true });
  await runSevenZip(o.sz, buildExtractArgs({ archivePath, outDir }), readRunOptions(o, 'extract'));
}

/**
 * Lists the archive's entries. Without a password, an archive with encrypted headers (all of ours) cannot be
 * listed: this throws WRONG_PASSWORD rather than waiting for input.
 */
export async function listArchive(o: {
  sz: SevenZip;
  archivePath: string;
  password?: string;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}): Promise<ArchiveEntry[]> {
  const withPassword = o.password !== undefined;
  if (withPassword) checkPassword(o.password as string);
  const archivePath = await existingArchive(o.archivePath);
  const { stdout } = await runSevenZip(o.sz, buildListArgs({ archivePath, withPassword }), {
    stdin: withPassword ? passwordStdin(o.sz.legacy, o.password as string, 'read') : '',
    op: 'list',
    ...(withPassword ? { password: o.password } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.env ? { env: o.env } : {}),
  });
  return parseTechnicalListing(stdout);
}

function readRunOptions(o: ReadArchiveOptions, op: 'test' | 'extract') {
  return {
    stdin: passwordStdin(o.sz.legacy, o.password, 'read'),
    op,
    password: o.password,
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...(o.env ? { env: o.env } : {}),
  };
}

/** The source as an absolute, existing file or folder. A symlink given as the source is resolved (its target is shared). */
async function resolveSource(p: string): Promise<string> {
  const abs = resolve(p);
  const st = await lstat(abs).catch(() => null);
  if (!st) throw new QshareError('NOT_FOUND', `${abs} does not exist`);
  const real = st.isSymbolicLink() ? await realpath(abs).catch(() => null) : abs;
  if (!real) throw new QshareError('NOT_FOUND', `${abs} is a broken link`);
  const rs = await stat(real);
  if (!rs.isFile() && !rs.isDirectory()) throw new QshareError('INPUT', `${abs} is neither a file nor a folder`);
  if (dirname(real) === real) throw new QshareError('USAGE', 'refusing to archive the root folder');
  return real;
}

async function existingArchive(p: string): Promise<string> {
  const abs = resolve(p);
  const st = await stat(abs).catch(() => null);
  if (!st) throw new QshareError('NOT_FOUND', `the archive ${abs} does not exist`);
  if (!st.isFile()) throw new QshareError('INPUT', `${abs} is not a file`);
  return abs;
}

/** Removes the partial archive and whatever 7-Zip left beside it under the same name. */
async function removePartials(partial: string): Promise<void> {
  const dir = dirname(partial);
  const base = basename(partial);
  const names = await readdir(dir).catch(() => [] as string[]);
  // the partial itself and anything 7-Zip left with the same prefix (e.g. `<partial>.tmp`)
  for (const n of names)
    if (n === base || n.startsWith(`${base}.`)) await rm(join(dir, n), { force: true }).catch(() => {});
}

/**
 * Moves `from` to `to` without ever replacing an existing file: a hard link fails with EEXIST, then the partial
 * name is unlinked. Filesystems without hard links fall back to check-then-rename.
 */
async function publish(from: string, to: string): Promise<void> {
  const appeared = () =>
    new QshareError('INPUT', `${to} appeared while the archive was being made; refusing to overwrite it`);
  try {
    await link(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw appeared();
    if (await exists(to)) throw appeared();
    await rename(from, to);
    return;
  }
  await unlink(from).catch(async (e: unknown) => {
    await rm(to, { force: true }).catch(() => {});
    throw e;
  });
}

async function exists(p: string): Promise<boolean> {
  return (await lstat(p).catch(() => null)) !== null;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new QshareError('INTERRUPTED', 'interrupted');
}
