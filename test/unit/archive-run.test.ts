import { describe, expect, it } from 'vitest';
import { defaultSetpriv, spawnPlan } from '../../src/archive/run.js';

describe('spawnPlan: 7-Zip dies with qshare (setpriv --pdeathsig KILL)', () => {
  it.each([
    [
      'with setpriv',
      '/usr/bin/setpriv',
      {
        command: '/usr/bin/setpriv',
        args: ['--pdeathsig', 'KILL', '--', '/usr/bin/7zz', 'a', '-p', '--', '/o/.x.7z.partial-1', '/d/-sdel'],
      },
    ],
    [
      'without (macOS, no util-linux)',
      null,
      { command: '/usr/bin/7zz', args: ['a', '-p', '--', '/o/.x.7z.partial-1', '/d/-sdel'] },
    ],
  ])('%s', (_w, setpriv, plan) => {
    expect(spawnPlan('/usr/bin/7zz', ['a', '-p', '--', '/o/.x.7z.partial-1', '/d/-sdel'], setpriv)).toEqual(plan);
  });

  it('only on Linux', () => {
    expect(defaultSetpriv('darwin')).toBeNull();
    expect(defaultSetpriv('win32')).toBeNull();
  });
});
