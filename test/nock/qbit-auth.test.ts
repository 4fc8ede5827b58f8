/**
 * How connectQbit proves who it is: qBittorrent 5.2 API keys as `Authorization: Bearer` (no login at all), the
 * warning before a password or key crosses a network in plain http, and the pure rules behind them.
 */
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QshareError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { connectQbit } from '../../src/qbit/connect.js';
import { isApiKey } from '../../src/qbit/payload.js';
import { isLoopbackHost, sendsSecretInClear } from '../../src/qbit/url.js';

const KEY = 'qbt_' + 'AbCd1234'.repeat(3) + 'XyZ9';
const PASSWORD = 'correct-horse-battery';

function capture() {
  const lines: string[] = [];
  return { lines, log: createLogger({ write: (l) => lines.push(l), json: false, level: 'info' }) };
}

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

/** qBittorrent 5.2: a valid key opens every endpoint without a session; a wrong or missing one gets 403. */
function fake52(origin: string) {
  const seen: string[] = [];
  const scope = nock(origin).persist();
  const ok = (h: Record<string, string>) => h.authorization === `Bearer ${KEY}`;
  scope.post('/api/v2/auth/login').reply(() => {
    seen.push('login');
    return [204, '', { 'Set-Cookie': 'QBT_SID_443=sid5secret; path=/' }];
  });
  for (const [p, body] of [
    ['app/version', 'v5.2.0'],
    ['app/webapiVersion', '2.14.1'],
  ] as const) {
    scope.get(`/api/v2/${p}`).reply(function () {
      seen.push(`${p} ${this.req.headers.authorization ?? '-'} ${this.req.headers.cookie ?? '-'}`);
      return ok(this.req.headers) ? [200, body] : [403, 'Forbidden'];
    });
  }
  return seen;
}

describe('qBittorrent 5.2 API keys', () => {
  it('a qbt_ key is sent as Bearer on every request, never to auth/login', async () => {
    const seen = fake52('https://qbit.test');
    const { log, lines } = capture();
    const s = await connectQbit({ url: 'https://qbit.test', password: KEY, log });
    expect(s.authMode).toBe('api-key');
    expect(s.appVersion).toBe('v5.2.0');
    expect(seen).toEqual([
      `app/version Bearer ${KEY} -`,
      `app/version Bearer ${KEY} -`,
      `app/webapiVersion Bearer ${KEY} -`,
    ]);
    expect(lines).toEqual([]); // https: no warning
  });

  it('a refused key → QBIT_AUTH naming API keys and 5.2, one request, no login, key not in the message', async () => {
    const seen = fake52('https://qbit.test');
    const { log } = capture();
    const wrong = 'qbt_' + 'z'.repeat(28);
    const e = await connectQbit({ url: 'https://qbit.test', password: wrong, log }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(QshareError);
    expect((e as QshareError).code).toBe('QBIT_AUTH');
    expect((e as QshareError).message).toMatch(/refused the API key .* need qBittorrent 5\.2 or newer/);
    expect((e as QshareError).message).not.toContain(wrong);
    expect(seen).toEqual([`app/version Bearer ${wrong} -`]);
  });

  it('a password logs in as before and is marked so', async () => {
    nock('http://127.0.0.1:8080')
      .get('/api/v2/app/version')
      .reply(403, 'Forbidden')
      .post('/api/v2/auth/login')
      .reply(200, 'Ok.', { 'Set-Cookie': 'SID=abc; path=/' })
      .get('/api/v2/app/version')
      .reply(200, 'v4.5.2')
      .get('/api/v2/app/webapiVersion')
      .reply(200, '2.8.19');
    const { log, lines } = capture();
    const s = await connectQbit({ url: 'http://127.0.0.1:8080', password: PASSWORD, log });
    expect(s.authMode).toBe('password');
    expect(lines).toEqual([]); // loopback: nothing crosses a network
  });

  it('no login needed (bypass) is marked none', async () => {
    nock('http://localhost:8080')
      .get('/api/v2/app/version')
      .times(2)
      .reply(200, 'v4.5.2')
      .get('/api/v2/app/webapiVersion')
      .reply(200, '2.8.19');
    const s = await connectQbit({ url: 'http://localhost:8080', password: PASSWORD, log: capture().log });
    expect(s.authMode).toBe('none');
  });
});

describe('plain http to another machine', () => {
  it('warns before the password is sent, not when no login is needed', async () => {
    nock('http://nas.test:8080')
      .get('/api/v2/app/version')
      .reply(403, 'Forbidden')
      .post('/api/v2/auth/login')
      .reply(200, 'Ok.', { 'Set-Cookie': 'SID=abc; path=/' })
      .get('/api/v2/app/version')
      .reply(200, 'v4.5.2')
      .get('/api/v2/app/webapiVersion')
      .reply(200, '2.8.19');
    const { log, lines } = capture();
    await connectQbit({ url: 'http://nas.test:8080', password: PASSWORD, log });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^warn: sending the Web UI password to http:\/\/nas\.test:8080 over plain http: anyone on the network/,
    );
    expect(lines[0]).not.toContain(PASSWORD);

    nock('http://nas.test:8080')
      .get('/api/v2/app/version')
      .times(2)
      .reply(200, 'v4.5.2')
      .get('/api/v2/app/webapiVersion')
      .reply(200, '2.8.19');
    const quiet = capture();
    await connectQbit({ url: 'http://nas.test:8080', password: PASSWORD, log: quiet.log });
    expect(quiet.lines).toEqual([]);
  });

  it('warns for an API key too (it goes with every request)', async () => {
    fake52('http://nas.test');
    const { log, lines } = capture();
    await connectQbit({ url: 'http://nas.test', password: KEY, log });
    expect(lines.join('')).toMatch(/sending the Web UI API key to http:\/\/nas\.test over plain http/);
  });
});

describe('pure rules', () => {
  it.each([
    ['localhost', true],
    ['LOCALHOST', true],
    ['qbit.localhost', true],
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['[::1]', true],
    ['::1', true],
    ['10.0.0.2', false],
    ['192.168.1.5', false],
    ['nas.local', false],
    ['127.0.0.1.nip.io', false],
    ['::ffff:7f00:1', false],
  ])('isLoopbackHost(%s) = %s', (h, want) => expect(isLoopbackHost(h)).toBe(want));

  it.each([
    ['http://127.0.0.1:8080', false],
    ['http://localhost:8080/qbt/', false],
    ['http://[::1]:8080', false],
    ['https://nas.local/qbt/', false],
    ['http://nas.local:8080', true],
    ['http://192.168.1.5:8080', true],
    ['not a url', false],
  ])('sendsSecretInClear(%s) = %s', (u, want) => expect(sendsSecretInClear(u)).toBe(want));

  it.each([
    [KEY, true],
    ['qbt_' + 'a'.repeat(28), true],
    ['qbt_short', false],
    ['qbt_' + 'a'.repeat(27) + '!', false],
    ['adminadmin', false],
    ['QBT_' + 'a'.repeat(28), false],
    [' qbt_' + 'a'.repeat(28), false],
  ])('isApiKey(%s) = %s', (k, want) => expect(isApiKey(k)).toBe(want));
});
