/**
 * Pure argv builders for 7-Zip. The password is never in argv (argv is world-readable in /proc/PID/cmdline):
 * - create: a bare `-p` makes 7-Zip read the new password from stdin;
 * - test/extract/list: no `-p` at all, so 7-Zip asks once and reads stdin (a bare `-p` there would mean "empty
 *   password"); listing without a password uses exactly that bare `-p` so 7-Zip never waits for input.
 * User paths always come after `--`. Switches were chosen from measurements (see docs/7zip.md):
 * - `-mhe=on`   encrypt the headers: without the password nobody sees a name;
 * - `-snl`      store symlinks as links (without it 7-Zip FOLLOWS them and archives files outside the folder);
 * - `-spd`      no wildcard matching: a folder named `st*r` is that folder, not a pattern;
 * - `-sse`      (7-Zip ≥ 21 only; p7zip 16.02 rejects it) stop instead of silently leaving out an unreadable file;
 * - `-bso0 -bsp1` stdout carries only the progress line; errors stay on stderr;
 * - `-y`        never wait for a yes/no question.
 * Sources are absolute paths: 7-Zip stores each under its last component (`/a/b/photos` → `photos/…`), and an
 * absolute path can neither look like a switch (`-sdel`) nor, for p7zip, like a list file (`@names`, which p7zip
 * reads as a list even after `--`).
 */
import { isAbsolute } from 'node:path';
import { checkLevel } from '../config/schema.js';
import { QshareError } from '../errors.js';

export interface CreateArgsOptions {
  /** the (temporary) archive to write; must not exist */
  archivePath: string;
  /** absolute paths of the files/folders to put at the archive's top level */
  sources: string[];
  /** 0 (store) … 9 (ultra) */
  level: number;
  /** p7zip 16.02 (`SevenZip.legacy`) */
  legacy: boolean;
}

export function buildCreateArgs(o: CreateArgsOptions): string[] {
  requireLevel(o.level);
  if (o.sources.length === 0) throw new Error('buildCreateArgs: no sources');
  for (const s of o.sources) if (!isAbsolute(s)) throw new Error(`buildCreateArgs: source must be absolute: ${s}`);
  return [
    'a',
    '-t7z',
    `-mx${o.level}`,
    '-mhe=on',
    // the header encrypted but not compressed: qshare checks it opens with the password in-process (header-check.ts)
    ...(o.legacy ? [] : ['-mhc=off']),
    '-p',
    '-snl',
    '-spd',
    ...(o.legacy ? [] : ['-sse']),
    '-bso0',
    '-bsp1',
    '-y',
    '--',
    operand(o.archivePath),
    ...o.sources,
  ];
}

export function buildTestArgs(o: { archivePath: string }): string[] {
  return ['t', '-bso0', '-bsp1', '--', operand(o.archivePath)];
}

/**
 * Open the archive's headers and test no file (`-x!*` leaves every file out): with encrypted headers, exit 0 only
 * with the right password (2 otherwise), whatever the archive's size — half the time of a listing.
 */
export function buildHeaderCheckArgs(o: { archivePath: string }): string[] {
  return ['t', '-bso0', '-bsp0', '-x!*', '--', operand(o.archivePath)];
}

/**
 * Extract into `outDir` (the caller makes sure it is empty). Link safety is NOT handled here: 7-Zip ≥ 21 refuses
 * `../` link targets (exit 2, "Dangerous link path was ignored") but p7zip recreates every link as-is.
 */
export function buildExtractArgs(o: { archivePath: string; outDir: string; allowDangerousLinks?: boolean }): string[] {
  // `-snld` (7-Zip ≥ 21 only): create `../` links as stored instead of refusing them; only for callers that check
  // every link themselves afterwards (archive/unpack.ts), so both 7-Zips give the same result
  return [
    'x',
    '-bso0',
    '-bsp1',
    '-y',
    ...(o.allowDangerousLinks ? ['-snld'] : []),
    `-o${o.outDir}`,
    '--',
    operand(o.archivePath),
  ];
}

/** Technical listing (`-slt`). Without a password a bare `-p` (empty password) keeps 7-Zip from prompting. */
export function buildListArgs(o: { archivePath: string; withPassword: boolean }): string[] {
  return ['l', '-slt', '-bsp0', ...(o.withPassword ? [] : ['-p']), '--', operand(o.archivePath)];
}

/**
 * What to write to 7-Zip's stdin. Creating: modern 7-Zip asks once, p7zip 16.02 asks twice (Enter + Verify).
 * Reading asks once. A trailing `\n` is stripped by 7-Zip; `\r` would be kept, so it is refused, as are empty
 * passwords (p7zip given empty input silently encrypts with the EMPTY password).
 */
export function passwordStdin(legacy: boolean, password: string, mode: 'create' | 'read'): string {
  checkPassword(password);
  return mode === 'create' && legacy ? `${password}\n${password}\n` : `${password}\n`;
}

export function checkPassword(password: string): void {
  if (password.length === 0)
    throw new QshareError('USAGE', 'the archive password is empty', {
      hint: 'give a password of at least one character, or let qshare generate one',
    });
  if (/[\r\n\0]/.test(password)) {
    throw new QshareError(
      'USAGE',
      'the archive password contains a line break or NUL character, which 7-Zip cannot read',
      { hint: 'use a password on a single line' },
    );
  }
}

/** The one level rule (config's checkLevel), as a usage error for callers of the archive functions. */
export function requireLevel(level: number): void {
  const problem = checkLevel(level);
  if (problem) throw new QshareError('USAGE', `the compression level ${problem} (got ${level})`);
}

/** A path that 7-Zip can only read as a path: absolute paths as they are, relative ones prefixed with `./`. */
export function operand(p: string): string {
  if (p === '') throw new Error('empty path');
  return isAbsolute(p) || p.startsWith('./') || p.startsWith('../') ? p : `./${p}`;
}
