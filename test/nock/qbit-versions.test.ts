/**
 * One request/response table per qBittorrent version family (4.1, 4.5, 4.6, 5.0, 5.2), as the versions answer
 * (notes/qbittorrent.md): login and its cookie name, add and its answers, stop vs pause, the share-limit fields each
 * version requires (it answers 400 without them), 401/403/409/415 and the ban text. The fake is strict: an
 * endpoint a version does not have answers 404, a request without the session 403, so choosing wrong fails.
 */
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QshareError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { connectQbit } from '../../src/qbit/connect.js';
import type { SeedRequest } from '../../src/qbit/payload.js';
import type { QbitSession } from '../../src/qbit/session.js';
import { buildShareLimitFields, parseApiVersion } from '../../src/qbit/payload.js';

const PASSWORD = 'correct-horse-battery';
const HASH = 'cd'.repeat(20);
const BAN = 'Your IP address has been banned after too many failed authentication attempts.';
const log = silentLogger();

interface Family {
  name: string;
  app: string;
  api: string;
  cookie: string;
  login: { ok: [number, string]; bad: [number, string] };
  /** add answers: a fresh torrent, a duplicate */
  add: { ok: [number, string]; dup: [number, string] };
  stop: 'pause' | 'stop';
  start: 'resume' | 'start';
  /** the add field that starts the torrent (the other name is ignored by this version) */
  paused: 'paused' | 'stopped';
  layout: 'root_folder' | 'contentLayout';
  shareLimitFields: string[];
}

const json = (o: object): string => JSON.stringify(o);
const FAMILIES: Family[] = [
  {
    name: '4.1',
    app: 'v4.1.9',
    api: '2.2.1',
    cookie: 'SID=s41',
    login: { ok: [200, 'Ok.'], bad: [200, 'Fails.'] },
    add: { ok: [200, 'Ok.'], dup: [200, 'Fails.'] },
    stop: 'pause',
    start: 'resume',
    paused: 'paused',
    layout: 'root_folder',
    shareLimitFields: ['hashes', 'ratioLimit', 'seedingTimeLimit'],
  },
  {
    name: '4.5',
    app: 'v4.5.2',
    api: '2.8.19',
    cookie: 'SID=s45',
    login: { ok: [200, 'Ok.'], bad: [200, 'Fails.'] },
    add: { ok: [200, 'Ok.'], dup: [200, 'Fails.'] },
    stop: 'pause',
    start: 'resume',
    paused: 'paused',
    layout: 'contentLayout',
    shareLimitFields: ['hashes', 'ratioLimit', 'seedingTimeLimit'],
  },
  {
    name: '4.6',
    app: 'v4.6.7',
    api: '2.9.3',
    cookie: 'SID=s46',
    login: { ok: [200, 'Ok.'], bad: [200, 'Fails.'] },
    add: { ok: [200, 'Ok.'], dup: [200, 'Fails.'] },
    stop: 'pause',
    start: 'resume',
    paused: 'paused',
    layout: 'contentLayout',
    shareLimitFields: ['hashes', 'ratioLimit', 'seedingTimeLimit', 'inactiveSeedingTimeLimit'],
  },
  {
    name: '5.0',
    app: 'v5.0.4',
    api: '2.11.2',
    cookie: 'SID=s50',
    login: { ok: [200, 'Ok.'], bad: [200, 'Fails.'] },
    add: { ok: [200, 'Ok.'], dup: [200, 'Fails.'] },
    stop: 'stop',
    start: 'start',
    paused: 'stopped',
    layout: 'contentLayout',
    shareLimitFields: ['hashes', 'ratioLimit', 'seedingTimeLimit', 'inactiveSeedingTimeLimit'],
  },
  {
    name: '5.2',
    app: 'v5.2.0',
    api: '2.14.1',
    cookie: 'QBT_SID_8080=s52',
    login: { ok: [204, ''], bad: [401, 'Unauthorized'] },
    add: {
      ok: [200, json({ success_count: 1, failure_count: 0, pending_count: 0, added_torrent_ids: [HASH] })],
      dup: [409, json({ success_count: 0, failure_count: 1, pending_count: 0, added_torrent_ids: [] })],
    },
    stop: 'stop',
    start: 'start',
    paused: 'stopped',
    layout: 'contentLayout',
    shareLimitFields: ['hashes', 'ratioLimit', 'seedingTimeLimit', 'inactiveSeedingTimeLimit', 'shareLimitAction'],
  },
];

interface Fake {
  logins: number;
  calls: string[];
  addFields: Array<Record<string, string>>;
  limitFields: Array<Record<string, string>>;
  listed: boolean;
  /** the next add answers this instead */
  addReply?: [number, string];
  /** qBittorrent restarted: the session is gone */
  sessionGone: boolean;
}

const ORIGIN = 'http://qbit.test:8080';

function fake(f: Family, o: { banned?: boolean; hostRejected?: boolean } = {}): Fake {
  const st: Fake = { logins: 0, calls: [], addFields: [], limitFields: [], listed: false, sessionGone: false };
  const [cookieName] = f.cookie.split('=');
  const api = (p: string) => new RegExp(`^/api/v2/${p}(\\?.*)?$`);
  const guard = (h: Record<string, string>): [number, string] | undefined => {
    if (o.hostRejected) return [401, 'Unauthorized'];
    return h.cookie === f.cookie && !st.sessionGone ? undefined : [403, 'Forbidden'];
  };
  const form = (body: unknown): Record<string, string> =>
    typeof body === 'string' ? Object.fromEntries(new URLSearchParams(body)) : (body as Record<string, string>);
  const multipart = (body: string): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const m of body.matchAll(/name="([^"]+)"\r\n\r\n([^\r]*)\r\n/g)) out[m[1]!] = m[2]!;
    return out;
  };
  nock(ORIGIN, { badheaders: ['referer', 'origin'] })
    .persist()
    .post(api('auth/login'))
    .reply((_u, body) => {
      if (o.hostRejected) return [401, 'Unauthorized'];
      st.logins++;
      if (o.banned) return [403, BAN];
      const b = form(body);
      const ok = b.username === 'admin' && b.password === PASSWORD;
      return ok ? [...f.login.ok, { 'Set-Cookie': `${f.cookie}; HttpOnly; SameSite=Strict; path=/` }] : f.login.bad;
    })
    .get(api('app/version'))
    .reply(function () {
      return guard(this.req.headers) ?? [200, f.app];
    })
    .get(api('app/webapiVersion'))
    .reply(function () {
      return guard(this.req.headers) ?? [200, f.api];
    })
    .get(api('torrents/info'))
    .reply(function () {
      const g = guard(this.req.headers);
      if (g) return g;
      const row = {
        hash: HASH,
        name: 'x.7z',
        state: f.name.startsWith('5') ? 'stoppedUP' : 'pausedUP',
        progress: 1,
        save_path: '/d',
        uploaded: 0,
        ratio: 0,
      };
      return [200, JSON.stringify(st.listed ? [row] : []), { 'Content-Type': 'application/json' }];
    })
    .post(api('torrents/add'))
    .reply(function (_u, body) {
      const g = guard(this.req.headers);
      if (g) return g;
      st.addFields.push(multipart(String(body)));
      const reply = st.addReply ?? (st.listed ? f.add.dup : f.add.ok);
      st.addReply = undefined;
      if (reply[0] < 300 && reply[1] !== 'Fails.') st.listed = true;
      // 5.2 answers the add with a JSON object and says so in Content-Type (the HTTP client then parses it)
      return reply[1].startsWith('{') ? [reply[0], reply[1], { 'Content-Type': 'application/json' }] : reply;
    })
    .post(/^\/api\/v2\/torrents\/(pause|resume|stop|start)$/)
    .reply(function (uri, body) {
      const g = guard(this.req.headers);
      if (g) return g;
      const ep = uri.split('/').pop()!;
      if (ep !== f.stop && ep !== f.start) return [404, 'Not Found'];
      st.calls.push(`${ep} ${form(body).hashes}`);
      return [200, ''];
    })
    .post(api('torrents/setShareLimits'))
    .reply(function (_u, body) {
      const g = guard(this.req.headers);
      if (g) return g;
      const b = form(body);
      st.limitFields.push(b);
      return f.shareLimitFields.every((k) => k in b) ? [200, ''] : [400, 'Bad Request'];
    });
  void cookieName;
  return st;
}

const seedReq = (): SeedRequest => ({
  torrent: Buffer.from('d4:infod6:lengthi1e4:name3:x.712:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee'),
  fileName: 'x.torrent',
  savePath: '/downloads/qshare',
  category: 'qshare',
  tags: ['qshare'],
});

async function failure(p: Promise<unknown>): Promise<QshareError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(QshareError);
  for (const secret of [PASSWORD, 's41', 's45', 's46', 's50', 's52'])
    expect((e as Error).message).not.toContain(secret);
  return e as QshareError;
}

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe.each(FAMILIES)('qBittorrent $name (Web API $api)', (f) => {
  const connect = (password = PASSWORD): Promise<QbitSession> =>
    connectQbit({ url: ORIGIN, username: 'admin', password, log });

  it(`logs in once (${f.login.ok[0]}) and uses the ${f.cookie.split('=')[0]} cookie`, async () => {
    const st = fake(f);
    const s = await connect();
    expect(st.logins).toBe(1);
    expect(s.appVersion).toBe(f.app);
    expect(s.apiVersion).toEqual(parseApiVersion(f.api));
    expect(s.authMode).toBe('password');
    expect(await s.getTorrent(HASH)).toBeUndefined(); // the cookie works for library requests too
  });

  it(`a wrong password (${f.login.bad[0]} ${f.login.bad[1] || '""'}) → QBIT_AUTH after one attempt`, async () => {
    const st = fake(f);
    const e = await failure(connect('wrong-password'));
    expect(e.code).toBe('QBIT_AUTH');
    expect(e.message).toMatch(/refused the login/);
    expect(st.logins).toBe(1);
  });

  it('403 with the ban text → QBIT_BANNED, one attempt', async () => {
    const st = fake(f, { banned: true });
    expect((await failure(connect())).code).toBe('QBIT_BANNED');
    expect(st.logins).toBe(1);
  });

  it('401 before any login (Host header / CSRF) → QBIT_FORBIDDEN, no attempt', async () => {
    const st = fake(f, { hostRejected: true });
    expect((await failure(connect())).code).toBe('QBIT_FORBIDDEN');
    expect(st.logins).toBe(0);
  });

  it(`add: fields for this version (${f.layout}, ${f.paused}=false), then the duplicate answer (${f.add.dup[0]}) means already there`, async () => {
    const st = fake(f);
    const s = await connect();
    expect(await s.addForSeeding(seedReq(), HASH)).toBe('added');
    const fields = st.addFields[0]!;
    expect(fields[f.paused]).toBe('false');
    expect(fields[f.layout]).toBe(f.layout === 'root_folder' ? 'true' : 'Original');
    expect(fields).toMatchObject({
      savepath: '/downloads/qshare',
      skip_checking: 'true',
      autoTMM: 'false',
      category: 'qshare',
      tags: 'qshare',
    });
    expect(await s.addForSeeding(seedReq(), HASH)).toBe('already-present');
  });

  it('add: 415 → not a valid torrent (QBIT_REJECTED)', async () => {
    const st = fake(f);
    const s = await connect();
    st.addReply = [415, "Error: 'x.torrent' is not a valid torrent file."];
    const e = await failure(s.addForSeeding(seedReq(), HASH));
    expect(e).toMatchObject({ code: 'QBIT_REJECTED', message: expect.stringMatching(/not a valid torrent file/) });
  });

  it(`stop/start use torrents/${f.stop} and torrents/${f.start} (the other names are 404 here)`, async () => {
    const st = fake(f);
    const s = await connect();
    await s.stopTorrent(HASH);
    await s.startTorrent(HASH);
    expect(st.calls).toEqual([`${f.stop} ${HASH}`, `${f.start} ${HASH}`]);
  });

  it(`setShareLimits sends exactly ${f.shareLimitFields.join(', ')}`, async () => {
    const st = fake(f);
    const s = await connect();
    await s.setShareLimits(HASH, { ratio: 2, seedingTimeMinutes: 1440 });
    expect(Object.keys(st.limitFields[0]!).sort()).toEqual([...f.shareLimitFields].sort());
    expect(st.limitFields[0]).toMatchObject({ hashes: HASH, ratioLimit: '2', seedingTimeLimit: '1440' });
    if (f.shareLimitFields.includes('inactiveSeedingTimeLimit'))
      expect(st.limitFields[0]!.inactiveSeedingTimeLimit).toBe('-2');
    if (f.shareLimitFields.includes('shareLimitAction')) expect(st.limitFields[0]!.shareLimitAction).toBe('Stop');
  });

  it('a session that is gone later (403) → QBIT_AUTH "run the command again", never a second login', async () => {
    const st = fake(f);
    const s = await connect();
    st.sessionGone = true;
    const e = await failure(s.getTorrent(HASH));
    expect(e).toMatchObject({
      code: 'QBIT_AUTH',
      message: expect.stringMatching(/no longer accepts qshare's session \(HTTP 403/),
    });
    expect(st.logins).toBe(1);
  });
});

describe('buildShareLimitFields (pure)', () => {
  const v = parseApiVersion;
  it.each([
    ['2.2.1', {}, { hashes: HASH, ratioLimit: '-2', seedingTimeLimit: '-2' }],
    ['2.8.19', { ratio: null, seedingTimeMinutes: null }, { hashes: HASH, ratioLimit: '-1', seedingTimeLimit: '-1' }],
    [
      '2.9.2',
      { ratio: 1.5 },
      { hashes: HASH, ratioLimit: '1.5', seedingTimeLimit: '-2', inactiveSeedingTimeLimit: '-2' },
    ],
    [
      '2.11.2',
      { seedingTimeMinutes: 59.6 },
      { hashes: HASH, ratioLimit: '-2', seedingTimeLimit: '60', inactiveSeedingTimeLimit: '-2' },
    ],
    [
      '2.14.0',
      { ratio: 0 },
      {
        hashes: HASH,
        ratioLimit: '0',
        seedingTimeLimit: '-2',
        inactiveSeedingTimeLimit: '-2',
        shareLimitAction: 'Stop',
      },
    ],
  ])('API %s %j', (api, limits, want) => {
    expect(buildShareLimitFields(HASH.toUpperCase(), limits, v(api))).toEqual(want);
  });
  it('refuses a negative or non-number limit', () => {
    expect(() => buildShareLimitFields(HASH, { ratio: -1 }, v('2.8.19'))).toThrow(/ratio limit must be a number ≥ 0/);
    expect(() => buildShareLimitFields(HASH, { seedingTimeMinutes: Number.NaN }, v('2.8.19'))).toThrow(
      /seeding time limit/,
    );
  });
});
