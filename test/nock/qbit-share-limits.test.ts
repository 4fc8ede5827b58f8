/**
 * setShareLimits against nock-faked qBittorrent 4.5, 4.6 and 5.2, each refusing (400) a request without the fields
 * it requires, as the real ones do; and the stop-vs-pause choice qshare makes when --recipients is reached.
 */
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { connectQbit } from '../../src/qbit/connect.js';
import { observeShares } from '../../src/share/observe.js';
import type { ShareRecord } from '../../src/state/types.js';
import type { StateStore } from '../../src/state/store.js';

const ORIGIN = 'http://qbit.test:8080';
const HASH = 'ef'.repeat(20);

const versions = [
  { label: '4.5', app: 'v4.5.2', api: '2.8.19', required: ['hashes', 'ratioLimit', 'seedingTimeLimit'], stop: 'pause' },
  {
    label: '4.6',
    app: 'v4.6.7',
    api: '2.9.3',
    required: ['hashes', 'ratioLimit', 'seedingTimeLimit', 'inactiveSeedingTimeLimit'],
    stop: 'pause',
  },
  {
    label: '5.2',
    app: 'v5.2.4',
    api: '2.15.1',
    required: ['hashes', 'ratioLimit', 'seedingTimeLimit', 'inactiveSeedingTimeLimit', 'shareLimitAction'],
    stop: 'stop',
  },
] as const;

function fake(v: (typeof versions)[number]) {
  const seen: Array<Record<string, string>> = [];
  const posts: string[] = [];
  nock(ORIGIN)
    .persist()
    .get(/^\/api\/v2\/app\/version$/)
    .reply(200, v.app)
    .get(/^\/api\/v2\/app\/webapiVersion$/)
    .reply(200, v.api)
    .post('/api/v2/torrents/setShareLimits')
    .reply((_u, body) => {
      const f = Object.fromEntries(new URLSearchParams(String(body)));
      seen.push(f);
      return v.required.every((k) => k in f) ? [200, ''] : [400, 'Bad Request'];
    })
    .get(/^\/api\/v2\/torrents\/info/)
    .reply(200, [
      { hash: HASH, name: 'g.7z', state: 'stalledUP', progress: 1, save_path: '/a', uploaded: 10, ratio: 1, size: 10 },
    ])
    .get(/^\/api\/v2\/sync\/torrentPeers/)
    .reply(200, {
      full_update: true,
      rid: 1,
      peers: { '10.0.0.7:51413': { ip: '10.0.0.7', client: 'qBittorrent/5.0', progress: 1 } },
    })
    .post(/^\/api\/v2\/torrents\/(stop|pause|start|resume)$/)
    .reply((uri) => {
      const name = uri.split('/').pop()!;
      const known = v.stop === 'stop' ? ['stop', 'start'] : ['pause', 'resume'];
      if (!known.includes(name)) return [404, 'Not Found'];
      posts.push(name);
      return [200, ''];
    });
  return { seen, posts };
}

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe.each(versions)('qBittorrent $label', (v) => {
  it('setShareLimits sends the fields this version requires: ratio N, seeding minutes, the rest -2', async () => {
    const f = fake(v);
    const s = await connectQbit({ url: ORIGIN, log: silentLogger() });
    await s.setShareLimits(HASH.toUpperCase(), { ratio: 2, seedingTimeMinutes: 10080 });
    await s.setShareLimits(HASH, { ratio: 1 });
    const expected: Record<string, string> = { hashes: HASH, ratioLimit: '2', seedingTimeLimit: '10080' };
    if (v.required.includes('inactiveSeedingTimeLimit' as never)) expected.inactiveSeedingTimeLimit = '-2';
    if (v.required.includes('shareLimitAction' as never)) expected.shareLimitAction = 'Stop';
    expect(f.seen[0]).toEqual(expected);
    expect(f.seen[1]).toMatchObject({ ratioLimit: '1', seedingTimeLimit: '-2' });
  });

  it(`--recipients reached: qshare ${v.stop === 'stop' ? 'stops (torrents/stop)' : 'pauses (torrents/pause)'} the torrent`, async () => {
    const f = fake(v);
    const s = await connectQbit({ url: ORIGIN, log: silentLogger() });
    const share = {
      id: 'i1',
      name: 'g',
      infoHash: HASH,
      recipients: 1,
      state: 'seeding',
      torrentFile: '/nope',
    } as ShareRecord;
    let saved: ShareRecord | undefined;
    const store = {
      update: async (fn: (st: { version: 1; shares: ShareRecord[] }) => unknown) => {
        const st = { version: 1 as const, shares: [{ ...share }] };
        await fn(st);
        saved = st.shares[0];
      },
    } as unknown as StateStore;
    const [st] = await observeShares(
      { store, log: silentLogger(), now: () => new Date('2026-11-21T12:00:00Z'), pieces: async () => undefined },
      s,
      [share],
    );
    expect(st).toMatchObject({ state: 'done', completedPeers: 1, stoppedNow: true });
    expect(f.posts).toEqual([v.stop]);
    expect(saved).toMatchObject({
      doneAt: '2026-11-21T12:00:00.000Z',
      completedPeers: [expect.stringMatching(/^[0-9a-f]{16}$/)],
    });
  });
});
