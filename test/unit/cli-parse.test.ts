import { describe, expect, it } from 'vitest';
import { completions, renderCompletions } from '../../src/cli/completion.js';
import { renderHelp, wrap } from '../../src/cli/help.js';
import { parseCommandLine, suggest, type CommandLine } from '../../src/cli/parse.js';
import { COMMANDS, GLOBAL_OPTIONS } from '../../src/cli/spec.js';
import { UsageError } from '../../src/cli/usage-error.js';

const args = (line: CommandLine) => (line.kind === 'run' ? { command: line.command, ...line.args } : line);

describe('parseCommandLine', () => {
  it.each([
    [
      ['add', './photos'],
      { command: 'add', path: './photos', seed: true, encrypt: true, json: false, tracker: undefined, name: undefined },
    ],
    [['add', '/a b/wedding', '--no-seed', '--json'], { path: '/a b/wedding', seed: false, json: true }],
    [['add', '--no-encrypt', 'x', '--level', 'auto'], { path: 'x', encrypt: false, level: 'auto' }],
    [
      ['add', 'x', '--level=5', '--name', 'my-share', '--recipients', '3', '--expire', '7d'],
      { level: '5', name: 'my-share', recipients: 3, expire: '7d' },
    ],
    [['add', 'x', '--recipients', '2.5'], { recipients: 2.5 }],
    // a negative number is a value, not an option (its range is the command's to judge)
    [['add', 'x', '--recipients', '-1', '--level', '-3'], { recipients: -1, level: '-3' }],
    [
      ['add', 'x', '--tracker', 'udp://t:1/announce', '--tracker=http://u/a'],
      { tracker: ['udp://t:1/announce', 'http://u/a'] },
    ],
    [['add', 'x', '--relay', 'box', '--relay', 'vps', '--handoff'], { relay: ['box', 'vps'], handoff: true }],
    [
      ['add', 'x', '--password-stdin', '--config', '/c.json', '--verbose'],
      { 'password-stdin': true, config: '/c.json', verbose: true },
    ],
    [['--json', '--config', '/c.json', 'add', 'x'], { command: 'add', path: 'x', json: true, config: '/c.json' }],
    [['add', 'x', '--no-seed', '--seed'], { seed: true }],
    [['add', 'x', '--name=-dash'], { name: '-dash' }],
    [['add', 'x', '--name=a=b'], { name: 'a=b' }],
    [['add', '--', '-sdel'], { path: '-sdel' }],
    [['add', '--no-seed', '--', '--weird'], { path: '--weird', seed: false }],
    [['add', '123'], { path: '123' }],
    [
      ['get', 'magnet:?xt=urn:btih:abc&dn=x.7z', '--to', 'out', '--no-seed', '--relay', 'box'],
      { command: 'get', source: 'magnet:?xt=urn:btih:abc&dn=x.7z', to: 'out', seed: false, force: false, relay: 'box' },
    ],
    [['ls'], { command: 'ls', json: false, verbose: false }],
    [['show', 'burly-duckbill-aviation', '--qr'], { share: 'burly-duckbill-aviation', qr: true }],
    [['show', '--', '-name'], { share: '-name' }],
    [['stop', 'abc', '--delete'], { share: 'abc', delete: true }],
    [['seed', 'abc', '--until-done'], { share: 'abc', 'until-done': true, handoff: false }],
    [['watch'], { command: 'watch', dir: undefined, 'install-service': false }],
    [['watch', '~/ToShare', '--install-service'], { dir: '~/ToShare', 'install-service': true }],
    [
      ['login', '--url', 'http://127.0.0.1:8080', '--username', 'admin', '--password-stdin'],
      { url: 'http://127.0.0.1:8080', username: 'admin', insecure: undefined },
    ],
    [['login', '--insecure'], { insecure: true }],
    [['login', '--no-insecure'], { insecure: false }],
    [
      ['login', '--relay', 'box', '--url', 'https://box:8080', '--peer', 'box:6881', '--save-path', '/d'],
      { relay: 'box', peer: 'box:6881', 'save-path': '/d' },
    ],
    [['relay', 'ls'], { action: 'ls' }],
    [['doctor', '--fix', '--yes'], { fix: true, yes: true }],
    [['daemon', 'status'], { action: 'status' }],
    [['completion', 'zsh'], { shell: 'zsh' }],
    [['completion'], { shell: undefined }],
  ] as [string[], Record<string, unknown>][])('reads %j', (words, expected) => {
    expect(args(parseCommandLine(words))).toMatchObject(expected);
  });

  it.each([
    [['--help'], { kind: 'help' }],
    [['-h'], { kind: 'help' }],
    [['add', '--help'], { kind: 'help', command: 'add' }],
    [['add', 'x', '--bogus', '-h'], { kind: 'help', command: 'add' }], // help wins over what is wrong
    [['help'], { kind: 'help' }],
    [['help', 'get'], { kind: 'help', command: 'get' }],
    [['frob', '--help'], { kind: 'help' }],
    [['--version'], { kind: 'version' }],
    [['--get-completions', 'zsh', 'qshare', 'a'], { kind: 'complete', shell: 'zsh', words: ['qshare', 'a'] }],
    [['--get-completions', 'bash', 'qshare', ''], { kind: 'complete', shell: 'bash', words: ['qshare', ''] }],
    [['--get-yargs-completions', 'qshare', 'a'], { kind: 'complete', shell: 'legacy', words: ['qshare', 'a'] }],
  ] as [string[], CommandLine][])('answers %j by itself', (words, expected) => {
    expect(parseCommandLine(words)).toEqual(expected);
  });

  it('an operand after -- that is --help is a name, not a request for help', () => {
    expect(args(parseCommandLine(['show', '--', '--help']))).toMatchObject({ share: '--help' });
  });

  it.each([
    [[], /name a command/, undefined],
    [['nope'], /no command "nope"/, undefined],
    [['shwo', 'x'], /no command "shwo"; did you mean show\?/, undefined],
    [['add'], /qshare add needs <path>: the folder or file to share/, 'add'],
    [['add', 'a', 'b'], /takes one <path> \(got "a" and "b"/, 'add'],
    [['add', ''], /<path> is empty/, 'add'],
    [['add', 'x', '--bogus'], /qshare add has no option --bogus$/, 'add'],
    [['add', 'x', '--privat'], /did you mean --private\?/, 'add'],
    [['add', 'x', '--qr'], /qshare add has no option --qr/, 'add'],
    [['add', 'x', '-s'], /has no option -s/, 'add'],
    [['add', 'x', '--passwordStdin'], /has no option --passwordStdin/, 'add'],
    [['add', 'x', '--seed=false'], /--seed takes no value: write --seed or --no-seed/, 'add'],
    [['add', 'x', '--no-name', 'y'], /has no option --no-name/, 'add'],
    [['add', 'x', '--name'], /--name needs a value$/, 'add'],
    [
      ['add', 'x', '--name', '--json'],
      /--name needs a value \(for one that starts with "-", write --name=--json\)/,
      'add',
    ],
    [['add', 'x', '--name='], /--name needs a value/, 'add'],
    [['add', 'x', '--name', 'a', '--name', 'b'], /--name is given twice/, 'add'],
    [['add', 'x', '--recipients', 'two'], /--recipients takes a number \(got "two"\)/, 'add'],
    [['add', 'x', '--recipients', '1e3'], /takes a number/, 'add'],
    [['daemon', 'restart'], /qshare daemon <action> is one of start, stop, status \(got "restart"\)/, 'daemon'],
    [['daemon'], /needs <action>/, 'daemon'],
    [['completion', 'fish'], /one of bash, zsh/, 'completion'],
    [['ls', 'extra'], /qshare ls takes no operand \(got "extra"\)/, 'ls'],
    [['--config'], /name a command/, undefined],
  ] as [string[], RegExp, string | undefined][])('refuses %j: %s', (words, message, command) => {
    let error: unknown;
    try {
      parseCommandLine(words);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(message);
    expect((error as UsageError).command).toBe(command);
  });

  it('gives every option the type the table names, on every command', () => {
    for (const c of COMMANDS) {
      const words = [c.name, ...(c.operand?.required ? [c.operand.choices?.[0] ?? 'x'] : [])];
      for (const o of [...GLOBAL_OPTIONS, ...c.options])
        words.push(...(o.type === 'boolean' ? [`--${o.name}`] : [`--${o.name}`, o.type === 'number' ? '3' : 'v']));
      const line = parseCommandLine(words);
      if (line.kind !== 'run') throw new Error(`${c.name}: ${line.kind}`);
      for (const o of [...GLOBAL_OPTIONS, ...c.options]) {
        const v = line.args[o.name];
        expect(o.array ? Array.isArray(v) : typeof v, `${c.name} --${o.name}`).toBe(o.array ? true : o.type);
      }
    }
  });

  it('suggest: one close name, or nothing', () => {
    expect(suggest('--relya', ['--relay', '--json'])).toBe('; did you mean --relay?');
    expect(suggest('--xyz', ['--relay', '--json'])).toBe('');
    expect(suggest('st', ['stop', 'start', 'show'])).toBe(''); // a short word: one edit at most
    expect(suggest('shwo', ['stop', 'start', 'show'])).toBe('; did you mean show?');
  });
});

describe('--help', () => {
  it.each([60, 80, 100, 110, 250, undefined])(
    'top level at %s columns: every command, no line wider than the terminal',
    (columns) => {
      const text = renderHelp(columns);
      for (const c of COMMANDS) expect(text).toContain(`  qshare ${c.name}`);
      expect(text).toContain('qshare add <path>');
      expect(text).toContain('qshare watch [dir]');
      expect(text).toContain('qshare completion [shell]');
      const width = Math.min(110, columns ?? 100);
      for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(width);
      expect(text.endsWith('\n')).toBe(true);
    },
  );

  it.each(COMMANDS.map((c) => [c.name]))('%s --help: its operand, its options and the global ones', (name) => {
    const c = COMMANDS.find((x) => x.name === name)!;
    const text = renderHelp(100, c.name);
    expect(text).toMatch(new RegExp(`^Usage: qshare ${c.name}`));
    if (c.operand) expect(text).toContain(`<${c.operand.name}>`);
    for (const o of [...GLOBAL_OPTIONS, ...c.options]) expect(text).toMatch(new RegExp(`--(\\[no-\\])?${o.name}\\b`));
    for (const choice of c.operand?.choices ?? []) expect(text).toContain(choice);
  });

  it('shows a value for options that take one, and --[no-] for those on by default', () => {
    const text = renderHelp(100, 'add');
    expect(text).toContain('--tracker URL');
    expect(text).toContain('--[no-]seed');
    expect(text).toContain('--private ');
    expect(text).not.toContain('--[no-]private');
  });

  it('wrap keeps words whole and indents every line', () => {
    expect(wrap('aa bb cc dd', 25, 20)).toEqual(['                    aa bb cc dd']);
    expect(
      wrap('one two three four five six seven eight', 30, 4).every((l) => l.startsWith('    ') && l.length <= 30 + 4),
    ).toBe(true);
  });
});

describe('completions', () => {
  const values = (words: string[]) => completions(words).map((c) => c.value);
  it.each([
    [['qshare', ''], COMMANDS.map((c) => c.name)],
    [['qshare', 'da'], ['daemon']],
    [
      ['qshare', 's'],
      ['seed', 'show', 'stop'],
    ],
    [
      ['qshare', '--json', 'l'],
      ['ls', 'login'],
    ],
    [['qshare', '--config', 'x'], []], // a file name: the shell's own completion
    [['qshare', 'add', '--pri'], ['--private']],
    [['qshare', 'add', '--no-s'], ['--no-seed']],
    [['qshare', 'add', '--json', '--js'], []], // given already
    [['qshare', 'add', '--tracker', 'u', '--tr'], ['--tracker']], // repeatable
    [['qshare', 'add', '--name', ''], []],
    [['qshare', 'add', ''], []], // a path: file names
    [
      ['qshare', 'daemon', 'st'],
      ['start', 'stop', 'status'],
    ],
    [['qshare', 'daemon', 'start', ''], []],
    [
      ['qshare', 'daemon', '--json', ''],
      ['start', 'stop', 'status'],
    ],
    [
      ['qshare', 'completion', ''],
      ['bash', 'zsh'],
    ],
    [
      ['qshare', 'ls', '--'],
      ['--json', '--verbose', '--config', '--help'],
    ],
    [['qshare', 'nope', ''], []],
  ])('%j → %j', (words, expected) => {
    expect(values(words).sort()).toEqual([...expected].sort());
  });

  it('zsh gets descriptions, with a colon in a value escaped', () => {
    expect(renderCompletions([{ value: 'show', describe: 'show a share' }, { value: 'a:b' }], 'zsh')).toBe(
      'show:show a share\na\\:b\n',
    );
    expect(renderCompletions([{ value: 'show', describe: 'show a share' }], 'bash')).toBe('show\n');
    expect(renderCompletions([], 'bash')).toBe('');
  });
});
