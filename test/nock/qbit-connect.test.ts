/**
 * connectQbit against a nock-faked qBittorrent 4.5 and 5.2: logins, bans, Host/CSRF refusals, base paths, and the
 * rule that a failed login is never retried. Also checks that nock 14 sees the library's (ofetch → fetch) requests.
 */
import net from 'node:net';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QshareError } from '../../src/errors.js';
import type { ErrorCode } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { connectQbit } from '../../src/qbit/connect.js';

const PASSWORD = 'correct-horse-battery';
const BAN = 'Your IP address has been banned after too many failed authentication attempts.';
const log = silentLogger();

interface FakeOptions {
  origin?: string;
  /** base path in front of /api/v2, e.g. '/qbt' */
  prefix?: string;
  version: 4 | 5;
  banned?: boolean;
  /** Host header validation / CSRF refuses everything with 401 */
  hostRejected?: boolean;
  /** no login needed from this address (bypass_local_auth / whitelist) */
  bypass?: boolean;
}

interface Fake {
  logins: Array<Record<string, string>>;
  /** "METHOD path cookie" for every request */
  requests: string[];
  scope: nock.Scope;
  cookie: string;
}

/** A small stateful fake of qBittorrent's auth behaviour, as measured on 4.5.2 and documented for 5.2.4. */
function fakeQbit(o: FakeOptions): Fake {
  const origin = o.origin ?? 'http://qbit.test:8080';
  const prefix = o.prefix ?? '';
  const cookie = o.version === 4 ? 'SID=sid4secret' : 'QBT_SID_8080=sid5secret';
  const fake: Fake = {
    logins: [],
    requests: [],
    scope: nock(origin, { badheaders: ['referer', 'origin'] }).persist(),
    cookie,
  };
  const authed = (h: Record<string, string>) => o.bypass === true || h.cookie === cookie;
  const path = (p: string) => new RegExp(`^${prefix}/api/v2/${p}(\\?.*)?$`);
  const note = (method: string, uri: string, h: Record<string, string>) =>
    fake.requests.push(`${method} ${uri} ${h.cookie ?? '-'}`);

  fake.scope
    .post(path('auth/login'))
    .reply(function (uri, body) {
      note('POST', uri, this.req.headers);
      if (o.hostRejected) return [401, 'Unauthorized'];
      const b =
        typeof body === 'string' ? Object.fromEntries(new URLSearchParams(body)) : (body as Record<string, string>);
      fake.logins.push(b);
      if (o.banned) return [403, BAN];
      const ok = b.username === 'admin' && b.password === PASSWORD;
      if (o.version === 4)
        return ok ? [200, 'Ok.', { 'Set-Cookie': `${cookie}; HttpOnly; SameSite=Strict; path=/` }] : [200, 'Fails.'];
      return ok ? [204, '', { 'Set-Cookie': `${cookie}; HttpOnly; SameSite=Strict; path=/` }] : [401, 'Unauthorized'];
    })
    .get(path('app/version'))
    .reply(function (uri) {
      note('GET', uri, this.req.headers);
      if (o.hostRejected) return [401, 'Unauthorized'];
      if (!authed(this.req.headers)) return [403, 'Forbidden'];
      const headers = o.bypass && !this.req.headers.cookie ? { 'Set-Cookie': `${cookie}; HttpOnly; path=/` } : {};
      return [200, o.version === 4 ? 'v4.5.2' : 'v5.2.4', headers];
    })
    .get(path('app/webapiVersion'))
    .reply(function (uri) {
      note('GET', uri, this.req.headers);
      if (o.hostRejected) return [401, 'Unauthorized'];
      if (!authed(this.req.headers)) return [403, 'Forbidden'];
      return [200, o.version === 4 ? '2.8.19' : '2.15.1'];
    });
  return fake;
}

async function failure(p: Promise<unknown>, code: ErrorCode): Promise<QshareError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(QshareError);
  const e = caught as QshareError;
  expect(e.code, e.message).toBe(code);
  // never a secret in what a person sees
  for (const secret of [PASSWORD, 'wrong-password', 'sid4secret', 'sid5secret'])
    expect(e.message).not.toContain(secret);
  return e;
}

beforeEach(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('qBittorrent 4.5 (Ok./Fails., SID)', () => {
  it('logs in once and reads both versions with the SID cookie', async () => {
    const fake = fakeQbit({ version: 4 });
    const s = await connectQbit({ url: 'http://qbit.test:8080', username: 'admin', password: PASSWORD, log });
    expect(s.appVersion).toBe('v4.5.2');
    expect(s.apiVersion).toEqual({ major: 2, minor: 8, patch: 19 });
    expect(fake.logins).toEqual([{ username: 'admin', password: PASSWORD }]);
    expect(fake.requests).toEqual([
      'GET /api/v2/app/version -',
      'POST /api/v2/auth/login -',
      'GET /api/v2/app/version SID=sid4secret',
      'GET /api/v2/app/webapiVersion SID=sid4secret',
    ]);
  });

  it('bad credentials (200 Fails.) → QBIT_AUTH after exactly one login attempt', async () => {
    const fake = fakeQbit({ version: 4 });
    const e = await failure(
      connectQbit({ url: 'http://qbit.test:8080', username: 'admin', password: 'wrong-password', log }),
      'QBIT_AUTH',
    );
    expect(e.message).toMatch(
      /^qBittorrent at http:\/\/qbit\.test:8080 refused the login: check the Web UI username and password \(QSHARE_QBIT_PASSWORD/,
    );
    expect(fake.logins).toHaveLength(1);
  });

  it('banned (403 + ban text) → QBIT_BANNED, one attempt, says how long', async () => {
    const fake = fakeQbit({ version: 4, banned: true });
    const e = await failure(connectQbit({ url: 'http://qbit.test:8080', password: PASSWORD, log }), 'QBIT_BANNED');
    expect(e.message).toMatch(/web_ui_ban_duration \(1 hour by default\)/);
    expect(e.message).toMatch(/did not retry/);
    expect(fake.logins).toHaveLength(1);
  });

  it('Host header / CSRF refusal (401 before login) → QBIT_FORBIDDEN without any login attempt', async () => {
    const fake = fakeQbit({ version: 4, hostRejected: true });
    const e = await failure(connectQbit({ url: 'http://qbit.test:8080', password: PASSWORD, log }), 'QBIT_FORBIDDEN');
    expect(e.message).toMatch(/Host header validation/);
    expect(e.message).toMatch(/Docker/);
    expect(e.message).toMatch(/Tools → Options → Web UI/);
    expect(fake.logins).toHaveLength(0);
  });

  it('no password while a login is needed → QBIT_AUTH "needs a password", no login attempt', async () => {
    const fake = fakeQbit({ version: 4 });
    const e = await failure(connectQbit({ url: 'http://qbit.test:8080', log }), 'QBIT_AUTH');
    expect(e.message).toMatch(/needs a password: set QSHARE_QBIT_PASSWORD/);
    expect(fake.logins).toHaveLength(0);
    expect(fake.requests).toEqual(['GET /api/v2/app/version -']);
  });

  it('no login at all when qBittorrent does not ask for one (localhost bypass), reusing its cookie', async () => {
    const fake = fakeQbit({ version: 4, bypass: true });
    const s = await connectQbit({ url: 'http://qbit.test:8080', password: PASSWORD, log });
    expect(s.appVersion).toBe('v4.5.2');
    expect(fake.logins).toHaveLength(0);
    expect(fake.requests.slice(1)).toEqual([
      'GET /api/v2/app/version SID=sid4secret',
      'GET /api/v2/app/webapiVersion SID=sid4secret',
    ]);
  });
});

describe('qBittorrent 5.2 (204/401, QBT_SID_<port>)', () => {
  it('logs in (204 + QBT_SID_8080) and uses that cookie', async () => {
    const fake = fakeQbit({ version: 5 });
    const s = await connectQbit({ url: 'http://qbit.test:8080/', username: 'admin', password: PASSWORD, log });
    expect(s.appVersion).toBe('v5.2.4');
    expect(s.apiVersion).toEqual({ major: 2, minor: 15, patch: 1 });
    expect(fake.logins).toHaveLength(1);
    expect(fake.requests.at(-1)).toBe('GET /api/v2/app/webapiVersion QBT_SID_8080=sid5secret');
  });

  it('401 at login after the probe passed the host check → bad credentials, one attempt', async () => {
    const fake = fakeQbit({ version: 5 });
    await failure(
      connectQbit({ url: 'http://qbit.test:8080', username: 'admin', password: 'wrong-password', log }),
      'QBIT_AUTH',
    );
    expect(fake.logins).toHaveLength(1);
  });

  it('401 on everything (Docker port remap) → QBIT_FORBIDDEN, not a password problem, no login attempt', async () => {
    const fake = fakeQbit({ version: 5, hostRejected: true });
    await failure(connectQbit({ url: 'http://qbit.test:8080', password: PASSWORD, log }), 'QBIT_FORBIDDEN');
    expect(fake.logins).toHaveLength(0);
  });

  it('banned → QBIT_BANNED, one attempt', async () => {
    const fake = fakeQbit({ version: 5, banned: true });
    await failure(connectQbit({ url: 'http://qbit.test:8080', password: PASSWORD, log }), 'QBIT_BANNED');
    expect(fake.logins).toHaveLength(1);
  });
});

describe('addresses', () => {
  it('keeps a reverse-proxy base path for every request, the library ones included', async () => {
    const fake = fakeQbit({ version: 4, origin: 'https://proxy.test', prefix: '/qbt' });
    const s = await connectQbit({ url: 'https://proxy.test/qbt/', password: PASSWORD, log });
    expect(s.url).toBe('https://proxy.test/qbt');
    expect(fake.requests.map((r) => r.split(' ')[1])).toEqual([
      '/qbt/api/v2/app/version',
      '/qbt/api/v2/auth/login',
      '/qbt/api/v2/app/version',
      '/qbt/api/v2/app/webapiVersion',
    ]);
  });

  it('a web server that is not qBittorrent (404) → QBIT_UNREACHABLE "is not a qBittorrent Web UI"', async () => {
    nock('http://nas.test:8080').get('/api/v2/app/version').reply(404, '<h1>Not Found</h1>');
    const e = await failure(connectQbit({ url: 'http://nas.test:8080', password: PASSWORD, log }), 'QBIT_UNREACHABLE');
    expect(e.message).toMatch(/^http:\/\/nas\.test:8080 is not a qBittorrent Web UI/);
  });

  it('a catch-all page answering 200 to everything is not qBittorrent either', async () => {
    nock('http://nas.test:8080').get('/api/v2/app/version').reply(200, '<!doctype html><title>Router</title>');
    await failure(connectQbit({ url: 'http://nas.test:8080', password: PASSWORD, log }), 'QBIT_UNREACHABLE');
  });

  it('a redirect (e.g. to https or a login page) is reported with where it goes', async () => {
    nock('http://nas.test')
      .get('/api/v2/app/version')
      .reply(301, '', { Location: 'https://nas.test/api/v2/app/version' });
    const e = await failure(connectQbit({ url: 'http://nas.test', password: PASSWORD, log }), 'QBIT_UNREACHABLE');
    expect(e.message).toMatch(/redirects \(HTTP 301\) to https:\/\/nas\.test/);
  });

  it('nothing listening (ECONNREFUSED on a closed local port) → QBIT_UNREACHABLE with how to start the Web UI', async () => {
    nock.enableNetConnect('127.0.0.1');
    const port = await closedPort();
    const e = await failure(
      connectQbit({ url: `http://127.0.0.1:${port}`, password: PASSWORD, log }),
      'QBIT_UNREACHABLE',
    );
    expect(e.message).toBe(
      `nothing is listening at http://127.0.0.1:${port}: start qBittorrent and enable its Web UI (Tools → Options → Web UI → 'Web User Interface (Remote control)'), or set qbittorrent.url / QSHARE_QBIT_URL`,
    );
  });

  it('a server that does not answer in time → QBIT_UNREACHABLE "did not answer within"', async () => {
    nock('http://slow.test').get('/api/v2/app/version').delay(2000).reply(403, 'Forbidden');
    const e = await failure(
      connectQbit({ url: 'http://slow.test', password: PASSWORD, timeoutMs: 100, log }),
      'QBIT_UNREACHABLE',
    );
    expect(e.message).toMatch(/did not answer within 0\.1 s/);
  });

  it('a timeout on a library request after login is worded the same way', async () => {
    nock('http://slow.test')
      .get('/api/v2/app/version')
      .reply(200, 'v4.5.2')
      .get('/api/v2/app/version')
      .delay(2000)
      .reply(200, 'v4.5.2');
    const e = await failure(connectQbit({ url: 'http://slow.test', timeoutMs: 100, log }), 'QBIT_UNREACHABLE');
    expect(e.message).toMatch(/did not answer within 0\.1 s/);
  });

  it('never shows credentials that were put in the URL', async () => {
    nock('http://nas.test:8080').get('/api/v2/app/version').reply(404, 'nope');
    const e = await failure(connectQbit({ url: `http://admin:${PASSWORD}@nas.test:8080/`, log }), 'QBIT_UNREACHABLE');
    expect(e.message).toContain('http://nas.test:8080');
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}
