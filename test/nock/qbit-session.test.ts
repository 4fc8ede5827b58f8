/**
 * QbitSession against a nock-faked qBittorrent 4.5 / 5.2: adding for seeding (form fields, duplicates, 415, 409),
 * waiting until seeding (state sequences, missing files, error, timeout, stopped torrents, abort), removal, and
 * that a session rejected later never causes a second login.
 */
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QshareError } from '../../src/errors.js';
import type { ErrorCode } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { connectQbit } from '../../src/qbit/connect.js';
import { FAST_POLL_MS, FAST_POLL_WINDOW_MS, seedPollDelay } from '../../src/qbit/session.js';
import type { SeedRequest } from '../../src/qbit/payload.js';
import type { QbitSession } from '../../src/qbit/session.js';

const ORIGIN = 'http://qbit.test:8080';
const PASSWORD = 'correct-horse-battery';
const HASH = 'ab'.repeat(20);
const log = silentLogger();

interface Row {
  hash: string;
  name: string;
  state: string;
  progress: number;
  save_path: string;
  uploaded: number;
  ratio: number;
  num_seeds: number;
  num_leechs: number;
}

const row = (state: string, progress: number): Row => ({
  hash: HASH,
  name: 'holiday.7z',
  state,
  progress,
  save_path: '/downloads/qshare/holiday/',
  uploaded: 0,
  ratio: 0,
  num_seeds: 0,
  num_leechs: 0,
});

interface Fake {
  version: 4 | 5;
  logins: number;
  /** what torrents/info lists; `script` (if any) is consumed one entry per info request, the last one repeats */
  script: Array<Row | undefined>;
  infoRequests: number;
  infoStatus: number;
  addReply: [number, string];
  /** true: a successful add makes the torrent listed as checkingResumeData→stalledUP */
  addLists: boolean;
  addBodies: string[];
  /** true: start/resume leaves the torrent stopped (a share limit already reached) */
  stayStopped: boolean;
  calls: string[];
  cookies: Set<string>;
}

function fakeQbit(version: 4 | 5): Fake {
  const cookie = version === 4 ? 'SID=sid4secret' : 'QBT_SID_8080=sid5secret';
  const f: Fake = {
    version,
    logins: 0,
    script: [],
    infoRequests: 0,
    infoStatus: 200,
    addReply:
      version === 4
        ? [200, 'Ok.']
        : [200, JSON.stringify({ success_count: 1, failure_count: 0, pending_count: 0, added_torrent_ids: [HASH] })],
    addLists: false,
    addBodies: [],
    stayStopped: false,
    calls: [],
    cookies: new Set(),
  };
  const api = (p: string) => new RegExp(`^/api/v2/${p}(\\?.*)?$`);
  const guard = (h: Record<string, string>): [number, string] | undefined => {
    if (h.cookie) f.cookies.add(h.cookie);
    return h.cookie === cookie ? undefined : [403, 'Forbidden'];
  };
  nock(ORIGIN, { badheaders: ['referer', 'origin'] })
    .persist()
    .post(api('auth/login'))
    .reply(() => {
      f.logins++;
      return version === 4
        ? [200, 'Ok.', { 'Set-Cookie': `${cookie}; HttpOnly; path=/` }]
        : [204, '', { 'Set-Cookie': `${cookie}; HttpOnly; path=/` }];
    })
    .get(api('app/version'))
    .reply(function () {
      return guard(this.req.headers) ?? [200, version === 4 ? 'v4.5.2' : 'v5.2.4'];
    })
    .get(api('app/webapiVersion'))
    .reply(function () {
      return guard(this.req.headers) ?? [200, version === 4 ? '2.8.19' : '2.15.1'];
    })
    .get(api('torrents/info'))
    .reply(function (uri) {
      const g = guard(this.req.headers);
      if (g) return g;
      f.infoRequests++;
      f.calls.push(`info ${new URL(uri, ORIGIN).searchParams.get('hashes')}`);
      if (f.infoStatus !== 200) return [f.infoStatus, 'Forbidden'];
      const r = f.script.length > 1 ? f.script.shift() : f.script[0];
      return [200, JSON.stringify(r ? [r] : []), { 'Content-Type': 'application/json' }];
    })
    .post(api('torrents/add'))
    .reply(function (_uri, body) {
      const g = guard(this.req.headers);
      if (g) return g;
      f.addBodies.push(String(body));
      if (f.addLists && f.addReply[0] < 300) f.script = [row('checkingResumeData', 0), row('stalledUP', 1)];
      return f.addReply;
    })
    .post(/^\/api\/v2\/torrents\/(start|resume|stop|pause|delete)$/)
    .reply(function (uri, body) {
      const g = guard(this.req.headers);
      if (g) return g;
      const params =
        typeof body === 'string' ? Object.fromEntries(new URLSearchParams(body)) : (body as Record<string, string>);
      f.calls.push(`${uri.split('/').pop()} ${JSON.stringify(params)}`);
      if (/start|resume/.test(uri) && f.script.length && !f.stayStopped) f.script = [row('stalledUP', 1)];
      return [200, ''];
    });
  return f;
}

const seedReq: SeedRequest = {
  torrent: Buffer.from(
    'd8:announce0:4:infod6:lengthi1e4:name10:holiday.7z12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee',
  ),
  fileName: 'holiday.torrent',
  savePath: '/downloads/qshare/holiday',
  category: 'qshare',
  tags: ['qshare', 'friends'],
};

async function connect(f: Fake): Promise<QbitSession> {
  const s = await connectQbit({ url: ORIGIN, username: 'admin', password: PASSWORD, log });
  expect(f.logins).toBe(1);
  return s;
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
  for (const secret of [PASSWORD, 'sid4secret', 'sid5secret']) expect(e.message).not.toContain(secret);
  return e;
}

/** multipart field value, e.g. field(body, 'savepath') */
function field(body: string, name: string): string | undefined {
  const m = new RegExp(`name="${name}"\\r\\n\\r\\n([^\\r]*)\\r\\n`).exec(body);
  return m?.[1];
}

beforeEach(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe.each([4, 5] as const)('qBittorrent %i.x', (version) => {
  it('adds with the seeding form: file part, savepath, skip_checking, autoTMM=false, paused+stopped=false, contentLayout', async () => {
    const f = fakeQbit(version);
    const s = await connect(f);
    expect(await s.addForSeeding(seedReq, HASH.toUpperCase())).toBe('added');
    expect(f.addBodies).toHaveLength(1);
    const body = f.addBodies[0] as string;
    expect(body).toMatch(/name="torrents"; filename="holiday\.torrent"\r\nContent-Type: application\/x-bittorrent/);
    expect(body).toContain('4:infod6:length');
    expect({
      savepath: field(body, 'savepath'),
      category: field(body, 'category'),
      tags: field(body, 'tags'),
      skip_checking: field(body, 'skip_checking'),
      seedMode: field(body, 'seedMode'),
      autoTMM: field(body, 'autoTMM'),
      paused: field(body, 'paused'),
      stopped: field(body, 'stopped'),
      contentLayout: field(body, 'contentLayout'),
      useAutoTMM: field(body, 'useAutoTMM'),
    }).toEqual({
      savepath: '/downloads/qshare/holiday',
      category: 'qshare',
      tags: 'qshare,friends',
      skip_checking: 'true',
      seedMode: 'true',
      autoTMM: 'false',
      paused: 'false',
      stopped: 'false',
      contentLayout: 'Original',
      useAutoTMM: undefined,
    });
    expect(f.logins).toBe(1);
  });

  it('a duplicate that qBittorrent lists → already-present', async () => {
    const f = fakeQbit(version);
    f.addReply =
      version === 4
        ? [200, 'Fails.']
        : [409, JSON.stringify({ success_count: 0, failure_count: 1, pending_count: 0, added_torrent_ids: [] })];
    f.script = [row('stalledUP', 1)];
    const s = await connect(f);
    expect(await s.addForSeeding(seedReq, HASH)).toBe('already-present');
    expect(f.calls).toEqual([`info ${HASH}`]);
  });

  it('a refusal with the torrent not listed → QBIT_REJECTED with words', async () => {
    const f = fakeQbit(version);
    f.addReply =
      version === 4
        ? [200, 'Fails.']
        : [409, JSON.stringify({ success_count: 0, failure_count: 1, pending_count: 0, added_torrent_ids: [] })];
    const s = await connect(f);
    const e = await failure(s.addForSeeding(seedReq, HASH), 'QBIT_REJECTED');
    expect(e.message).toMatch(/did not add holiday\.torrent .* does not list torrent abab/);
    expect(e.message).toMatch(/\/downloads\/qshare\/holiday/);
  });

  it('415 → QBIT_REJECTED "not a valid torrent"', async () => {
    const f = fakeQbit(version);
    f.addReply = [415, "Error: 'holiday.torrent' is not a valid torrent file."];
    const s = await connect(f);
    const e = await failure(s.addForSeeding(seedReq, HASH), 'QBIT_REJECTED');
    expect(e.message).toMatch(/not a valid torrent file/);
  });

  it('waitUntilSeeding: not listed yet → checkingResumeData → stalledUP resolves with progress 1', async () => {
    const f = fakeQbit(version);
    f.addLists = true;
    const s = await connect(f);
    await s.addForSeeding(seedReq, HASH);
    f.script = [undefined, row('checkingResumeData', 0), row('checkingResumeData', 0), row('stalledUP', 1)];
    const t = await s.waitUntilSeeding(HASH, { timeoutMs: 5000, pollMs: 5, savePathHint: seedReq.savePath });
    expect(t).toMatchObject({
      hash: HASH,
      state: 'stalledUP',
      progress: 1,
      savePath: '/downloads/qshare/holiday/',
      name: 'holiday.7z',
    });
    expect(f.infoRequests).toBe(4);
  });

  it('waitUntilSeeding at the default pace still looks every 50 ms at first: seeding seen at once, not a second later', async () => {
    const f = fakeQbit(version);
    f.addLists = true;
    const s = await connect(f);
    await s.addForSeeding(seedReq, HASH);
    f.script = [
      row('checkingResumeData', 0),
      row('checkingResumeData', 0),
      row('checkingResumeData', 0),
      row('stalledUP', 1),
    ];
    const t0 = performance.now();
    await s.waitUntilSeeding(HASH, { timeoutMs: 5000, savePathHint: seedReq.savePath });
    // three 50 ms waits; at the steady 1 s pace this took 3 s
    expect(performance.now() - t0).toBeLessThan(900);
    expect(f.infoRequests).toBe(4);
  });

  it('missingFiles → QBIT_MISSING_FILES naming the path and qbittorrent.pathMap', async () => {
    const f = fakeQbit(version);
    f.script = [row('checkingResumeData', 0), row('missingFiles', 0)];
    const s = await connect(f);
    const e = await failure(
      s.waitUntilSeeding(HASH, { timeoutMs: 5000, pollMs: 5, savePathHint: '/downloads/qshare/holiday' }),
      'QBIT_MISSING_FILES',
    );
    expect(e.message).toMatch(
      /^qBittorrent cannot see \/downloads\/qshare\/holiday: if it runs in Docker or on another machine, set qbittorrent\.pathMap in the config/,
    );
  });

  it('error state → QBIT_API', async () => {
    const f = fakeQbit(version);
    f.script = [row('error', 1)];
    const s = await connect(f);
    await failure(s.waitUntilSeeding(HASH, { timeoutMs: 5000, pollMs: 5, savePathHint: '/x' }), 'QBIT_API');
  });

  it('still checking at the deadline → QBIT_TIMEOUT saying it will seed by itself', async () => {
    const f = fakeQbit(version);
    f.script = [row('checkingResumeData', 0.42)];
    const s = await connect(f);
    const t0 = Date.now();
    const e = await failure(
      s.waitUntilSeeding(HASH, { timeoutMs: 150, pollMs: 20, savePathHint: '/x' }),
      'QBIT_TIMEOUT',
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(e.message).toMatch(/state "checkingResumeData", 42% complete\): it is still checking/);
  });

  it('never listed at the deadline → QBIT_TIMEOUT', async () => {
    const f = fakeQbit(version);
    const s = await connect(f);
    const e = await failure(
      s.waitUntilSeeding(HASH, { timeoutMs: 60, pollMs: 20, savePathHint: '/x' }),
      'QBIT_TIMEOUT',
    );
    expect(e.message).toMatch(/did not list it/);
  });

  it('a stopped complete torrent is started once (start on 5.x, resume on 4.x), then seeds', async () => {
    const f = fakeQbit(version);
    f.script = [row(version === 4 ? 'pausedUP' : 'stoppedUP', 1)];
    const s = await connect(f);
    const t = await s.waitUntilSeeding(HASH, { timeoutMs: 5000, pollMs: 5, savePathHint: '/x' });
    expect(t.state).toBe('stalledUP');
    expect(f.calls.filter((c) => !c.startsWith('info'))).toEqual([
      `${version === 4 ? 'resume' : 'start'} {"hashes":"${HASH}"}`,
    ]);
  });

  it('listed, then gone → QBIT_API', async () => {
    const f = fakeQbit(version);
    f.script = [row('checkingResumeData', 0), undefined];
    const s = await connect(f);
    const e = await failure(s.waitUntilSeeding(HASH, { timeoutMs: 5000, pollMs: 5, savePathHint: '/x' }), 'QBIT_API');
    expect(e.message).toMatch(/disappeared/);
  });

  it('remove(hash, true) posts torrents/delete with deleteFiles', async () => {
    const f = fakeQbit(version);
    const s = await connect(f);
    await s.remove(HASH.toUpperCase(), true);
    expect(f.calls).toEqual([`delete {"hashes":"${HASH}","deleteFiles":"true"}`]);
  });

  it('a session rejected later (403) → QBIT_AUTH at once: no second login, no retry', async () => {
    const f = fakeQbit(version);
    const s = await connect(f);
    f.infoStatus = 403;
    const e = await failure(s.getTorrent(HASH), 'QBIT_AUTH');
    expect(e.message).toMatch(/no longer accepts qshare's session .*run the command again/);
    expect(f.logins).toBe(1);
    expect(f.infoRequests).toBe(1);
    expect([...f.cookies]).toHaveLength(1);
  });
});

describe('waitUntilSeeding edge cases', () => {
  it('a torrent that stays stopped after one start → QBIT_API about share limits (no start loop)', async () => {
    const f = fakeQbit(4);
    const s = await connect(f);
    f.script = [row('pausedUP', 1)];
    f.stayStopped = true;
    const t0 = Date.now();
    const e = await failure(
      s.waitUntilSeeding(HASH, { timeoutMs: 10_000, pollMs: 50, savePathHint: '/x' }),
      'QBIT_API',
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3000);
    expect(e.message).toMatch(/keeps torrent holiday\.7z stopped .*Seeding Limits/);
    expect(f.calls.filter((c) => c.startsWith('resume'))).toHaveLength(1);
  });

  it('an aborted signal → INTERRUPTED', async () => {
    const f = fakeQbit(5);
    f.script = [row('checkingResumeData', 0)];
    const s = await connect(f);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await failure(
      s.waitUntilSeeding(HASH, { timeoutMs: 10_000, pollMs: 20, savePathHint: '/x', signal: ac.signal }),
      'INTERRUPTED',
    );
  });

  it('5.2 pending (202) counts as added', async () => {
    const f = fakeQbit(5);
    f.addReply = [202, JSON.stringify({ success_count: 0, failure_count: 0, pending_count: 1, added_torrent_ids: [] })];
    const s = await connect(f);
    expect(await s.addForSeeding(seedReq, HASH)).toBe('added');
  });
});

describe('seedPollDelay', () => {
  it.each([
    [0, 1000, FAST_POLL_MS],
    [FAST_POLL_WINDOW_MS - 1, 1000, FAST_POLL_MS],
    [FAST_POLL_WINDOW_MS, 1000, 1000],
    [60_000, 250, 250],
    [0, 5, 5], // a faster steady pace is kept
  ])('%i ms in, steady %i ms → %i ms', (elapsed, pollMs, want) => {
    expect(seedPollDelay(elapsed, pollMs)).toBe(want);
  });
});
