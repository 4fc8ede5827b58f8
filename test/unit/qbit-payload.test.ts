import { describe, expect, it } from 'vitest';
import {
  apiAtLeast,
  buildAddFields,
  classifyAdd,
  classifyLogin,
  classifyPreflight,
  classifyState,
  compareApiVersions,
  findSessionCookie,
  isApiV5,
  parseApiVersion,
} from '../../src/qbit/payload.js';
import type { ApiVersion, SeedRequest } from '../../src/qbit/payload.js';

const v = (s: string): ApiVersion => parseApiVersion(s);

describe('parseApiVersion', () => {
  it.each([
    ['2.8.19', { major: 2, minor: 8, patch: 19 }],
    ['2.15.1', { major: 2, minor: 15, patch: 1 }],
    ['2.0', { major: 2, minor: 0, patch: 0 }],
    ['v2.11.2', { major: 2, minor: 11, patch: 2 }],
    [' 2.9.3\n', { major: 2, minor: 9, patch: 3 }],
  ])('%j → %j', (s, want) => expect(parseApiVersion(s)).toEqual(want));

  it.each(['', 'Forbidden', '2', '<html>', '2.x.1', '2.8.19.4'])('rejects %j', (s) =>
    expect(() => parseApiVersion(s)).toThrow(/not a Web API version/),
  );
});

describe('version comparison', () => {
  it.each([
    ['2.8.19', '2.8.19', 0],
    ['2.8.19', '2.9.0', -1],
    ['2.10.0', '2.9.9', 1],
    ['2.11.0', '2.8.19', 1],
    ['3.0.0', '2.99.99', 1],
  ])('%s vs %s', (a, b, sign) => expect(Math.sign(compareApiVersions(v(a), v(b)))).toBe(sign));

  it.each([
    ['2.0', false],
    ['2.8.19', false],
    ['2.10.4', false],
    ['2.11.0', true],
    ['2.15.1', true],
  ])('isApiV5(%s) = %s', (s, want) => expect(isApiV5(v(s))).toBe(want));

  it('apiAtLeast', () => {
    expect(apiAtLeast(v('2.7.0'), 2, 7)).toBe(true);
    expect(apiAtLeast(v('2.6.2'), 2, 7)).toBe(false);
    expect(apiAtLeast(v('2.8.4'), 2, 8, 5)).toBe(false);
  });
});

describe('buildAddFields', () => {
  const req: SeedRequest = {
    torrent: Buffer.from('d4:infod4:name1:aee'),
    fileName: 'holiday.torrent',
    savePath: '/downloads/qshare/holiday',
    category: 'qshare',
    tags: ['qshare', 'friends'],
  };
  const common = {
    savepath: '/downloads/qshare/holiday',
    category: 'qshare',
    tags: 'qshare,friends',
    skip_checking: 'true',
    seedMode: 'true',
    autoTMM: 'false',
    paused: 'false',
    stopped: 'false',
  };

  it.each([
    ['2.0 (4.1)', { ...common, root_folder: 'true' }],
    ['2.6.2 (4.3.1)', { ...common, root_folder: 'true' }],
    ['2.7.0 (4.3.2)', { ...common, contentLayout: 'Original' }],
    ['2.8.19 (4.5.2)', { ...common, contentLayout: 'Original' }],
    ['2.11.0 (5.0)', { ...common, contentLayout: 'Original' }],
    ['2.15.1 (5.2)', { ...common, contentLayout: 'Original' }],
  ])('api %s', (api, want) => {
    expect(buildAddFields(req, v(api.split(' ')[0] as string))).toEqual(want);
  });

  it('adds share limits when given, and leaves tags out when there are none', () => {
    const f = buildAddFields({ ...req, tags: [], ratioLimit: 2.5, seedingTimeLimitMinutes: 1440 }, v('2.8.19'));
    expect(f.ratioLimit).toBe('2.5');
    expect(f.seedingTimeLimit).toBe('1440');
    expect('tags' in f).toBe(false);
  });

  it('does not mutate the request', () => {
    const copy = { ...req, tags: [...req.tags] };
    buildAddFields(req, v('2.15.1'));
    expect(req).toEqual(copy);
  });
});

describe('classifyPreflight (GET app/version without a session)', () => {
  it.each([
    [200, 'v4.5.2', 'open'],
    [200, 'v5.2.4', 'open'],
    [200, '<!doctype html><html>', 'not-qbittorrent'],
    [403, 'Forbidden', 'needs-login'],
    [401, 'Unauthorized', 'forbidden-host'],
    [302, '', 'redirect'],
    [404, 'Not Found', 'not-qbittorrent'],
    [405, '', 'not-qbittorrent'],
    [502, 'Bad Gateway', 'unexpected'],
  ] as const)('%i %j → %s', (status, body, want) => expect(classifyPreflight(status, body)).toBe(want));
});

describe('findSessionCookie', () => {
  it.each([
    [['SID=abc123; HttpOnly; SameSite=Strict; path=/'], { name: 'SID', value: 'abc123' }],
    [['QBT_SID_8080=xyz; HttpOnly; path=/'], { name: 'QBT_SID_8080', value: 'xyz' }],
    [['other=1', 'SID=s2; path=/'], { name: 'SID', value: 's2' }],
    [['SID=; path=/'], undefined],
    [['SIDX=1'], undefined],
    [[], undefined],
  ])('%j', (lines, want) => expect(findSessionCookie(lines)).toEqual(want));
});

describe('classifyLogin', () => {
  const BAN = 'Your IP address has been banned after too many failed authentication attempts.';
  it.each([
    // 4.x
    [200, 'Ok.', ['SID=abc; HttpOnly; path=/'], true, 'ok'],
    [200, 'Fails.', [], true, 'bad-credentials'],
    [403, BAN, [], true, 'banned'],
    [401, 'Unauthorized', [], false, 'forbidden-host'],
    [200, 'Ok.', [], true, 'unexpected'],
    // 5.2
    [204, '', ['QBT_SID_8080=abc; HttpOnly; path=/'], true, 'ok'],
    [401, 'Unauthorized', [], true, 'bad-credentials'],
    [204, '', [], true, 'unexpected'],
    // neither
    [403, 'Forbidden', [], true, 'unexpected'],
    [404, 'Not Found', [], true, 'unexpected'],
    [200, '<html>login</html>', ['PHPSESSID=1'], true, 'unexpected'],
    [500, 'oops', [], true, 'unexpected'],
  ] as const)('%i %j cookie=%j hostCheckPassed=%s → %s', (status, body, cookies, passed, want) => {
    expect(classifyLogin(status, body, [...cookies], passed)).toBe(want);
  });

  it('takes a bare 401 as the Host/CSRF refusal when nothing says the host check passed', () => {
    expect(classifyLogin(401, 'Unauthorized', [])).toBe('forbidden-host');
  });
});

describe('classifyAdd', () => {
  const json = (s: number, f: number, p: number) =>
    JSON.stringify({
      success_count: s,
      failure_count: f,
      pending_count: p,
      added_torrent_ids: s ? ['a'.repeat(40)] : [],
    });
  it.each([
    // ≤ 5.1
    [200, 'Ok.', 'added'],
    [200, 'Fails.', 'duplicate-or-failed'],
    [415, "Error: 'x.torrent' is not a valid torrent file.", 'not-a-torrent'],
    // 5.2
    [200, json(1, 0, 0), 'added'],
    [202, json(0, 0, 1), 'pending'],
    [409, json(0, 1, 0), 'duplicate-or-failed'],
    [409, '', 'duplicate-or-failed'],
    [200, json(0, 1, 0), 'duplicate-or-failed'],
    [200, json(0, 0, 0), 'duplicate-or-failed'],
    // neither
    [200, '', 'unexpected'],
    [200, '{"foo":1}', 'unexpected'],
    [400, 'Bad Request', 'unexpected'],
    [500, 'x', 'unexpected'],
  ] as const)('%i %j → %s', (status, body, want) => expect(classifyAdd(status, body)).toBe(want));
});

describe('classifyState', () => {
  it.each([
    ['stalledUP', 1, 'seeding'],
    ['uploading', 1, 'seeding'],
    ['queuedUP', 1, 'seeding'],
    ['forcedUP', 1, 'seeding'],
    ['stalledUP', 0.5, 'wait'],
    ['pausedUP', 1, 'stopped'],
    ['stoppedUP', 1, 'stopped'],
    ['stoppedDL', 0.2, 'stopped'],
    ['checkingResumeData', 0, 'wait'],
    ['checkingUP', 1, 'wait'],
    ['moving', 1, 'wait'],
    ['metaDL', 0, 'wait'],
    ['downloading', 0.3, 'wait'],
    ['someFutureState', 1, 'wait'],
    ['missingFiles', 0, 'missing-files'],
    ['error', 1, 'error'],
  ] as const)('%s at %d → %s', (state, progress, want) => expect(classifyState(state, progress)).toBe(want));
});
