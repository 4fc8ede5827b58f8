import { describe, expect, it } from 'vitest';
import { fastParse } from '../../src/cli/fast-parse.js';
import { COMMANDS, GLOBAL_OPTIONS, type CommandSpec, type OptionSpec } from '../../src/cli/spec.js';
import { parseWithYargs } from '../../src/cli/yargs-cli.js';

/** The fast reader may decline anything, but what it accepts must be exactly what yargs makes of it. */
async function expectSameAsYargs(words: string[]) {
  const fast = fastParse(words);
  if (fast === undefined) return false;
  expect(await parseWithYargs(words, '0.0.0', 100), words.join(' ')).toEqual(fast);
  return true;
}

describe('fastParse', () => {
  // the command lines people type, and the README's: these must not load yargs
  it.each([
    [['add', './photos'], { command: 'add', path: './photos', seed: true, encrypt: true, json: false, tracker: undefined }],
    [['add', '/a b/wedding', '--no-seed', '--json'], { path: '/a b/wedding', seed: false, json: true }],
    [['add', '--no-encrypt', 'x', '--level', 'auto'], { path: 'x', encrypt: false, level: 'auto' }],
    [['add', 'x', '--level=5', '--name', 'my-share', '--recipients', '3', '--expire', '7d'], { level: '5', name: 'my-share', recipients: 3, expire: '7d' }],
    [['add', 'x', '--tracker', 'udp://t:1/announce', '--tracker=http://u/a'], { tracker: ['udp://t:1/announce', 'http://u/a'] }],
    [['add', 'x', '--password-stdin', '--config', '/c.json', '--verbose'], { 'password-stdin': true, config: '/c.json', verbose: true }],
    [['add', './-sdel'], { path: './-sdel' }],
    [['add', '123'], { path: '123' }],
    [['get', 'magnet:?xt=urn:btih:abc&dn=x.7z', '--to', 'out', '--no-seed'], { command: 'get', source: 'magnet:?xt=urn:btih:abc&dn=x.7z', to: 'out', seed: false, force: false }],
    [['ls'], { command: 'ls', json: false }],
    [['ls', '--json'], { json: true }],
    [['show', 'burly-duckbill-aviation', '--qr'], { share: 'burly-duckbill-aviation', qr: true }],
    [['stop', 'abc', '--delete'], { share: 'abc', delete: true }],
    [['seed', 'abc', '--until-done'], { share: 'abc', 'until-done': true }],
    [['watch'], { command: 'watch', dir: undefined, 'install-service': false }],
    [['watch', '~/ToShare', '--install-service'], { dir: '~/ToShare', 'install-service': true }],
    [['login', '--url', 'http://127.0.0.1:8080', '--username', 'admin', '--password-stdin'], { url: 'http://127.0.0.1:8080', username: 'admin', insecure: undefined }],
    [['login', '--insecure'], { insecure: true }],
    [['login', '--no-insecure'], { insecure: false }],
    [['doctor', '--fix', '--yes'], { fix: true, yes: true }],
    [['daemon', 'status'], { action: 'status' }],
    [['completion', 'zsh'], { shell: 'zsh' }],
    [['completion'], { shell: undefined }],
  ] as [string[], Record<string, unknown>][])('reads %j without yargs, as yargs does', async (words, expected) => {
    const fast = fastParse(words);
    expect(fast).toBeDefined();
    const { command, ...values } = expected;
    if (command !== undefined) expect(fast?.command).toBe(command);
    expect(fast?.args).toMatchObject(values);
    expect(await expectSameAsYargs(words)).toBe(true);
  });

  // what it leaves to yargs: help, errors, and every form where its reading could differ from yargs'
  it.each([
    [[]],
    [['--help']],
    [['--version']],
    [['add', '--help']],
    [['add', '-h']],
    [['--get-yargs-completions', 'qshare', 'a']],
    [['nope']],
    [['add']], // missing operand: yargs' message
    [['add', 'a', 'b']], // extra operand
    [['add', 'x', '--bogus']],
    [['add', 'x', '--passwordStdin']], // camelCase: yargs accepts it, we leave it
    [['add', 'x', '--seed', 'false']],
    [['add', 'x', '--seed=false']],
    [['watch', '--json', 'false']], // yargs: json=false, no folder
    [['add', '--no-seed', 'true']],
    [['add', 'x', '--no-seed', '--seed']],
    [['add', 'x', '--json', '--json']],
    [['add', 'x', '--name', 'a', '--name', 'b']],
    [['add', 'x', '--name']],
    [['add', 'x', '--name', '--json']],
    [['add', 'x', '--name=']],
    [['add', 'x', '--no-name']],
    [['add', 'x', '--recipients', 'two']],
    [['add', 'x', '--recipients', '1e3']],
    [['add', 'x', '--recipients', '-1']],
    [['add', '--tracker', 'http://t/a', 'x']], // yargs gives the path to --tracker
    [['add', '-sdel']],
    [['add', '-']],
    [['add', '']],
    [['show', '--', '-name']],
    [['daemon', 'restart']],
    [['completion', 'fish']],
    [['ls', 'extra']],
  ])('leaves %j to yargs', (words) => {
    expect(fastParse(words)).toBeUndefined();
  });

  it('agrees with yargs on generated command lines (seeded, so a failure repeats)', async () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)] as T;
    const values = ['v', 'a b', 'x=y', '7', '0', '2.5', '/abs/path', './-d', 'true', 'false', '-x', '--', '', 'ünï', 'udp://t:1/a'];
    const optionWords = (o: OptionSpec): string[] => {
      if (o.type === 'boolean') return pick([[`--${o.name}`], [`--no-${o.name}`], [`--${o.name}`, pick(['true', 'false'])], [`--${o.name}=${pick(['true', 'false'])}`]]);
      const v = pick(values);
      return rnd(3) === 0 ? [`--${o.name}=${v}`] : [`--${o.name}`, v];
    };
    let accepted = 0;
    const runs = 600;
    for (let i = 0; i < runs; i++) {
      const c: CommandSpec = pick(COMMANDS);
      const opts = [...GLOBAL_OPTIONS, ...c.options];
      const parts: string[][] = [];
      if (c.operand && rnd(8) !== 0) parts.push([c.operand.choices ? pick([...c.operand.choices, 'other']) : pick(values)]);
      if (rnd(12) === 0) parts.push([pick(values)]);
      for (let k = rnd(4); k > 0 && opts.length > 0; k--) parts.push(optionWords(pick(opts)));
      // shuffle the groups (an option's value stays with it)
      for (let k = parts.length - 1; k > 0; k--) {
        const j = rnd(k + 1);
        [parts[k], parts[j]] = [parts[j] as string[], parts[k] as string[]];
      }
      if (await expectSameAsYargs([c.name, ...parts.flat()])) accepted++;
    }
    // the generator must exercise the accepting side too, or this test proves nothing
    expect(accepted).toBeGreaterThan(runs / 5);
  });
});
