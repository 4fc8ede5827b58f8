/**
 * The recipient's and the watcher's QbitSession calls against nock-faked qBittorrent 4.5 and 5.2 answers: adding
 * for download (.torrent and magnet; no skip_checking), duplicates, files, peers (sync/torrentPeers), the full
 * torrent list, and stop/start by version (4.x pause/resume, 5.x stop/start).
 */
import { applyPeerDelta, EMPTY_VIEW } from '../../src/qbit/peers.js';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { connectQbit } from '../../src/qbit/connect.js';

const ORIGIN = 'http://qbit.test:8080';
const HASH = 'cd'.repeat(20);
const TORRENT = Buffer.from(
  'd8:announce0:4:infod6:lengthi1e4:name6:gift.712:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee',
);

interface Fake {
  adds: string[];
  posts: string[];
  listed: boolean;
}

function fake(version: 4 | 5, addReply: [number, string]): Fake {
  const f: Fake = { adds: [], posts: [], listed: false };
  const api = (p: string) => new RegExp(`^/api/v2/${p}(\\?.*)?$`);
  const row = {
    hash: HASH,
    name: 'gift.7z',
    state: 'downloading',
    progress: 0.5,
    save_path: '/dl/',
    uploaded: 0,
    ratio: 0,
    size: 1000,
    dlspeed: 50,
    eta: 10,
    num_seeds: 1,
    num_leechs: 2,
    seeding_time: 0,
  };
  nock(ORIGIN)
    .persist()
    .get(api('app/version'))
    .reply(200, version === 4 ? 'v4.5.2' : 'v5.2.4')
    .get(api('app/webapiVersion'))
    .reply(200, version === 4 ? '2.8.19' : '2.15.1')
    .get(api('torrents/info'))
    .reply(() => [200, JSON.stringify(f.listed ? [row] : []), { 'Content-Type': 'application/json' }])
    .post(api('torrents/add'))
    .reply((_u, body) => {
      f.adds.push(String(body));
      return addReply;
    })
    .get(api('torrents/files'))
    .reply(200, [{ index: 0, name: 'gift.7z', size: 1000, progress: 1, priority: 1, is_seed: true }])
    .get(api('sync/torrentPeers'))
    .reply((uri) => {
      expect(new URL(uri, ORIGIN).searchParams.get('hash')).toBe(HASH);
      return [
        200,
        JSON.stringify({
          full_update: true,
          rid: 1,
          show_flags: true,
          peers: {
            '127.0.0.1:50123': {
              client: 'qBittorrent/4.5.2',
              ip: '127.0.0.1',
              port: 50123,
              progress: 1,
              uploaded: 0,
              downloaded: 1000,
              connection: 'BT',
            },
            '[::1]:6881': {
              client: 'Transmission 4.0',
              ip: '::1',
              port: 6881,
              progress: 0.25,
              uploaded: 5,
              downloaded: 250,
            },
            ...(version === 5 ? { 'i2p-peer': { i2p_dest: 'abc.b32.i2p', progress: 1, client: 'x' } } : {}),
          },
        }),
        { 'Content-Type': 'application/json' },
      ];
    })
    .post(/^\/api\/v2\/torrents\/(start|resume|stop|pause)$/)
    .reply(function (uri, body) {
      // each version knows only its own names (5.0 removed pause/resume; 4.x has no stop/start)
      const name = uri.split('/').pop()!;
      const known = version === 5 ? ['start', 'stop'] : ['pause', 'resume'];
      if (!known.includes(name)) return [404, 'Not Found'];
      f.posts.push(`${name} ${String(body)}`);
      return [200, ''];
    });
  return f;
}

function field(body: string, name: string): string | undefined {
  return new RegExp(`name="${name}"\\r\\n\\r\\n([^\\r]*)\\r\\n`).exec(body)?.[1];
}

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

const ok = {
  4: [200, 'Ok.'],
  5: [200, JSON.stringify({ success_count: 1, failure_count: 0, pending_count: 0, added_torrent_ids: [HASH] })],
} as const;
const dup = {
  4: [200, 'Fails.'],
  5: [409, JSON.stringify({ success_count: 0, failure_count: 1, pending_count: 0, added_torrent_ids: [] })],
} as const;

describe.each([4, 5] as const)('qBittorrent %i.x', (version) => {
  const connect = () => connectQbit({ url: ORIGIN, log: silentLogger() });

  it('adds a .torrent for download: the file part, category qshare-get, no skip_checking/seedMode, started', async () => {
    const f = fake(version, [...ok[version]]);
    const s = await connect();
    expect(
      await s.addForDownload(
        {
          torrent: TORRENT,
          fileName: 'gift.torrent',
          savePath: '/home/r/.local/share/qshare/downloads/x',
          category: 'qshare-get',
          tags: ['qshare'],
        },
        HASH,
      ),
    ).toBe('added');
    const body = f.adds[0]!;
    expect(body).toMatch(/name="torrents"; filename="gift\.torrent"/);
    expect({
      savepath: field(body, 'savepath'),
      category: field(body, 'category'),
      tags: field(body, 'tags'),
      autoTMM: field(body, 'autoTMM'),
      paused: field(body, 'paused'),
      stopped: field(body, 'stopped'),
      contentLayout: field(body, 'contentLayout'),
      skip_checking: field(body, 'skip_checking'),
      seedMode: field(body, 'seedMode'),
      urls: field(body, 'urls'),
    }).toEqual({
      savepath: '/home/r/.local/share/qshare/downloads/x',
      category: 'qshare-get',
      tags: 'qshare',
      autoTMM: 'false',
      paused: 'false',
      stopped: 'false',
      contentLayout: 'Original',
      skip_checking: undefined,
      seedMode: undefined,
      urls: undefined,
    });
  });

  it('adds a magnet link as `urls`, with no file part', async () => {
    const f = fake(version, [...ok[version]]);
    const s = await connect();
    const magnet = `magnet:?xt=urn:btih:${HASH}&dn=gift.7z`;
    expect(await s.addForDownload({ magnet, savePath: '/dl', category: 'qshare-get', tags: [] }, HASH)).toBe('added');
    expect(field(f.adds[0]!, 'urls')).toBe(magnet);
    expect(f.adds[0]).not.toContain('name="torrents"');
    expect(f.adds[0]).not.toContain('name="tags"');
  });

  it('a duplicate it lists is already-present; one it does not list is QBIT_REJECTED', async () => {
    const f = fake(version, [...dup[version]]);
    const s = await connect();
    await expect(
      s.addForDownload({ torrent: TORRENT, savePath: '/dl', category: 'qshare-get', tags: [] }, HASH),
    ).rejects.toMatchObject({ code: 'QBIT_REJECTED' });
    f.listed = true;
    expect(await s.addForDownload({ torrent: TORRENT, savePath: '/dl', category: 'qshare-get', tags: [] }, HASH)).toBe(
      'already-present',
    );
  });

  it('reads status fields, files and peers', async () => {
    const f = fake(version, [...ok[version]]);
    f.listed = true;
    const s = await connect();
    expect(await s.getTorrent(HASH)).toMatchObject({
      size: 1000,
      dlSpeed: 50,
      eta: 10,
      numSeeds: 1,
      numLeechs: 2,
      progress: 0.5,
    });
    expect((await s.listAll()).get(HASH)).toMatchObject({ name: 'gift.7z' });
    expect(await s.getFiles(HASH)).toEqual([{ name: 'gift.7z', size: 1000, progress: 1 }]);
    const peers = applyPeerDelta(EMPTY_VIEW, await s.syncPeers(HASH.toUpperCase(), 0)).connected;
    expect(peers.slice(0, 2)).toEqual([
      {
        address: '127.0.0.1:50123',
        ip: '127.0.0.1',
        client: 'qBittorrent/4.5.2',
        progress: 1,
        uploaded: 0,
        downloaded: 1000,
      },
      { address: '[::1]:6881', ip: '::1', client: 'Transmission 4.0', progress: 0.25, uploaded: 5, downloaded: 250 },
    ]);
    if (version === 5) expect(peers[2]).toMatchObject({ ip: 'abc.b32.i2p', progress: 1 });
  });

  it(`stops with ${version === 5 ? 'torrents/stop' : 'torrents/pause'} and starts with ${version === 5 ? 'torrents/start' : 'torrents/resume'}`, async () => {
    const f = fake(version, [...ok[version]]);
    const s = await connect();
    await s.stopTorrent(HASH.toUpperCase());
    await s.startTorrent(HASH);
    expect(f.posts).toEqual(
      version === 5
        ? [`stop hashes=${HASH}`, `start hashes=${HASH}`]
        : [`pause hashes=${HASH}`, `resume hashes=${HASH}`],
    );
  });
});
