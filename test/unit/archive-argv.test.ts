import { describe, expect, it } from 'vitest';
import {
  buildCreateArgs,
  buildExtractArgs,
  buildHeaderCheckArgs,
  buildListArgs,
  buildTestArgs,
  operand,
  passwordStdin,
} from '../../src/archive/argv.js';
import { QshareError } from '../../src/errors.js';

describe('buildCreateArgs', () => {
  const base = { archivePath: '/out/.x.7z.partial-ab', sources: ['/data/My Photos'], level: 0 };
  it.each([
    [
      'modern, store',
      { ...base, legacy: false },
      [
        'a',
        '-t7z',
        '-mx0',
        '-mhe=on',
        '-mhc=off',
        '-p',
        '-snl',
        '-spd',
        '-sse',
        '-bso0',
        '-bsp1',
        '-y',
        '--',
        '/out/.x.7z.partial-ab',
        '/data/My Photos',
      ],
    ],
    [
      'p7zip: no -sse (16.02 rejects it with exit 7)',
      { ...base, legacy: true, level: 5 },
      [
        'a',
        '-t7z',
        '-mx5',
        '-mhe=on',
        '-p',
        '-snl',
        '-spd',
        '-bso0',
        '-bsp1',
        '-y',
        '--',
        '/out/.x.7z.partial-ab',
        '/data/My Photos',
      ],
    ],
    [
      'names that look like switches stay after --',
      { archivePath: '/o/a.7z', sources: ['/d/-sdel', '/d/@list', '/d/-rf'], level: 9, legacy: false },
      [
        'a',
        '-t7z',
        '-mx9',
        '-mhe=on',
        '-mhc=off',
        '-p',
        '-snl',
        '-spd',
        '-sse',
        '-bso0',
        '-bsp1',
        '-y',
        '--',
        '/o/a.7z',
        '/d/-sdel',
        '/d/@list',
        '/d/-rf',
      ],
    ],
    [
      'relative archive path gets ./',
      { archivePath: '-sdel.7z', sources: ['/d/x'], level: 1, legacy: false },
      [
        'a',
        '-t7z',
        '-mx1',
        '-mhe=on',
        '-mhc=off',
        '-p',
        '-snl',
        '-spd',
        '-sse',
        '-bso0',
        '-bsp1',
        '-y',
        '--',
        './-sdel.7z',
        '/d/x',
      ],
    ],
  ])('%s', (_name, opts, expected) => {
    const args = buildCreateArgs(opts);
    expect(args).toEqual(expected);
    // the only password switch is the bare one, before --
    expect(args.filter((a) => a.startsWith('-p'))).toEqual(['-p']);
    expect(args.indexOf('-p')).toBeLessThan(args.indexOf('--'));
  });

  it.each([[-1], [10], [1.5], [Number.NaN]])('rejects level %s as a usage error', (level) => {
    expect(() => buildCreateArgs({ ...base, level, legacy: false })).toThrow(
      expect.objectContaining({ code: 'USAGE' }),
    );
  });

  it('refuses relative sources and no sources (a bug in the caller)', () => {
    expect(() => buildCreateArgs({ ...base, sources: ['photos'], legacy: false })).toThrow(/absolute/);
    expect(() => buildCreateArgs({ ...base, sources: [], legacy: false })).toThrow(/no sources/);
  });
});

describe('read argv', () => {
  it.each([
    ['test', buildTestArgs({ archivePath: '/a/x.7z' }), ['t', '-bso0', '-bsp1', '--', '/a/x.7z']],
    [
      'extract',
      buildExtractArgs({ archivePath: '/a/x.7z', outDir: '/o u t' }),
      ['x', '-bso0', '-bsp1', '-y', '-o/o u t', '--', '/a/x.7z'],
    ],
    [
      'extract, links checked by the caller: -snld',
      buildExtractArgs({ archivePath: '/a/x.7z', outDir: '/o', allowDangerousLinks: true }),
      ['x', '-bso0', '-bsp1', '-y', '-snld', '-o/o', '--', '/a/x.7z'],
    ],
    [
      'list with password: no -p, 7-Zip asks on stdin',
      buildListArgs({ archivePath: '/a/x.7z', withPassword: true }),
      ['l', '-slt', '-bsp0', '--', '/a/x.7z'],
    ],
    [
      'list without: bare -p (empty password) so it never waits',
      buildListArgs({ archivePath: 'x.7z', withPassword: false }),
      ['l', '-slt', '-bsp0', '-p', '--', './x.7z'],
    ],
    ['test of a relative @name', buildTestArgs({ archivePath: '@names' }), ['t', '-bso0', '-bsp1', '--', './@names']],
    [
      'header check: test no file',
      buildHeaderCheckArgs({ archivePath: '/a/x.7z' }),
      ['t', '-bso0', '-bsp0', '-x!*', '--', '/a/x.7z'],
    ],
  ])('%s', (_name, got, expected) => {
    expect(got).toEqual(expected);
  });
});

describe('operand', () => {
  it.each([
    ['/abs/-x', '/abs/-x'],
    ['-sdel', './-sdel'],
    ['@list', './@list'],
    ['./a', './a'],
    ['../a', '../a'],
    ['dir/a b', './dir/a b'],
  ])('%s → %s', (input, out) => expect(operand(input)).toBe(out));
});

describe('passwordStdin', () => {
  it.each([
    [false, 'create', 'pw', 'pw\n'],
    [true, 'create', 'pw', 'pw\npw\n'],
    [false, 'read', 'p w é', 'p w é\n'],
    [true, 'read', 'pw', 'pw\n'],
  ] as const)('legacy=%s %s', (legacy, mode, pw, expected) => {
    expect(passwordStdin(legacy, pw, mode)).toBe(expected);
  });

  it.each([[''], ['a\nb'], ['a\r'], ['\n'], ['a\0b']])('rejects %j without echoing it', (pw) => {
    let err: unknown;
    try {
      passwordStdin(false, pw, 'create');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(QshareError);
    expect((err as QshareError).code).toBe('USAGE');
    if (pw.length > 1) expect((err as QshareError).message).not.toContain(pw);
  });
});
