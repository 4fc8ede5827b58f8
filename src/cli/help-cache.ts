/**
 * `qshare --help` and `qshare --version` without loading yargs, which takes about as long to load as Node itself
 * takes to start. The build renders the top-level help once per terminal width (write-help-cache.ts, run by
 * `npm run build`) into dist/cli/help/<width>.txt; main.ts prints the cached text when the command line is exactly
 * `--help`, `-h` or `--version` and a text for the terminal's width exists. Anything else (or no cached text) goes
 * through yargs as before. test/unit/help-cache.test.ts checks the cached texts equal what yargs prints.
 */
import { readFileSync } from 'node:fs';

/** the width yargs wraps the help to (run.ts): the terminal's, at most 110; 100 when not a terminal */
export function helpWidth(columns: number | undefined): number {
  return Math.min(110, columns ?? 100);
}

/** widths rendered at build time: every terminal at least 80 columns wide */
export const CACHED_HELP_WIDTHS: readonly number[] = Array.from({ length: 31 }, (_, i) => 80 + i);

export function helpCacheFile(width: number): URL {
  return new URL(`./help/${width}.txt`, import.meta.url);
}

/** The whole output for `argv` if it can be given without the dispatcher, else undefined. */
export function fastOutput(argv: readonly string[], columns: number | undefined): string | undefined {
  if (argv.length !== 1) return undefined;
  try {
    if (argv[0] === '--version') {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
      return `${pkg.version}\n`;
    }
    if (argv[0] === '--help' || argv[0] === '-h') return readFileSync(helpCacheFile(helpWidth(columns)), 'utf8');
  } catch {
    // no cached text (a width below 80, or a build without it): yargs renders it
  }
  return undefined;
}
