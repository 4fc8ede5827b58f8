import { describe, expect, it } from 'vitest';
import { childEnv } from '../../src/env.js';

describe('childEnv', () => {
  it.each([
    [{ PATH: '/bin', QSHARE_QBIT_PASSWORD: 'hunter2' }, undefined, { PATH: '/bin' }],
    [{ PATH: '/bin', HOME: undefined }, undefined, { PATH: '/bin' }],
    [{ QBT_PROFILE: '/x', QSHARE_HOME: '/h' }, (k: string) => k.startsWith('QBT_'), { QSHARE_HOME: '/h' }],
  ])('%j → %j', (env, drop, expected) => {
    expect(childEnv(env, drop)).toEqual(expected);
  });
});
