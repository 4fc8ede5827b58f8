/**
 * The cached `--help` text (written by the build) must be exactly what yargs prints, at every cached width, and the
 * fast path must only answer the exact command lines it knows. Reads what `npm run build` made (npm test builds
 * first): build/ (tsc's output) and its bundled copy in dist/, which is what ships.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderHelp } from '../../src/cli/render-help.js';

type HelpCache = typeof import('../../src/cli/help-cache.js');
const built = (await import(new URL('../../build/cli/help-cache.js', import.meta.url).href)) as HelpCache;
const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('cached --help', () => {
  it.each([80, 93, 100, 110])('width %i: the cached text is what yargs renders now (rebuild if this fails)', async (w) => {
    expect(built.CACHED_HELP_WIDTHS).toContain(w);
    const cached = readFileSync(built.helpCacheFile(w), 'utf8');
    expect(cached).toBe(await renderHelp(w));
    expect(cached).toContain('qshare add <path>');
  });

  it.each<[string[], number | undefined, string | 'help-100' | 'help-110' | undefined]>([
    [['--help'], undefined, 'help-100'],
    [['-h'], undefined, 'help-100'],
    [['--help'], 250, 'help-110'],
    [['--help'], 110, 'help-110'],
    [['--help'], 79, undefined],
    [['--version'], undefined, `${version}\n`],
    [[], undefined, undefined],
    [['add', '--help'], undefined, undefined],
    [['--help', '--json'], undefined, undefined],
    [['ls'], undefined, undefined],
  ])('fastOutput(%j, columns %s)', (argv, columns, want) => {
    const got = built.fastOutput(argv, columns);
    if (want === 'help-100' || want === 'help-110') expect(got).toBe(readFileSync(built.helpCacheFile(want === 'help-100' ? 100 : 110), 'utf8'));
    else expect(got).toBe(want);
  });

  it('dist/ (what ships) has the same texts as build/', () => {
    for (const w of built.CACHED_HELP_WIDTHS) {
      expect(readFileSync(new URL(`../../dist/cli/help/${w}.txt`, import.meta.url), 'utf8')).toBe(readFileSync(built.helpCacheFile(w), 'utf8'));
    }
  });

  it('helpWidth (the width run.ts wraps to): the terminal\'s, at most 110, 100 without a terminal', () => {
    expect([undefined, 40, 100, 110, 300].map(built.helpWidth)).toEqual([100, 40, 100, 110, 110]);
  });
});
