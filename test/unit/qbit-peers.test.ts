import { describe, expect, it } from 'vitest';
import { applyPeerDelta, EMPTY_VIEW, parsePeerDelta, parseTrackers } from '../../src/qbit/peers.js';
import { completedCount, nobodyWatching, trackerIncrease, wholeFileSent } from '../../src/share/observe.js';
import type { ShareRecord } from '../../src/state/types.js';

describe('parsePeerDelta', () => {
  it.each([[null], ['Forbidden'], [{}], [{ peers: null }], [{ peers: { 'x:1': 'garbage' } }]])('nothing from %j', (a) =>
    expect(parsePeerDelta(a)).toEqual({ rid: 0, full: false, peers: {}, removed: [] }),
  );
  it('reads rid, full_update, changed peers and peers_removed', () => {
    expect(
      parsePeerDelta({ rid: 7, full_update: true, peers: { 'a:1': { progress: 0.5 } }, peers_removed: ['b:2', 3] }),
    ).toEqual({ rid: 7, full: true, peers: { 'a:1': { progress: 0.5 } }, removed: ['b:2'] });
  });
});

describe('applyPeerDelta: a series of incremental answers', () => {
  it('merges changed fields, reports who left with what they last had', () => {
    let v = EMPTY_VIEW;
    const step = (answer: unknown) => {
      const r = applyPeerDelta(v, parsePeerDelta(answer));
      v = r.view;
      return r;
    };
    const a = step({
      rid: 1,
      full_update: true,
      peers: { '10.0.0.2:6881': { ip: '10.0.0.2', client: 'aria2/1.36', progress: 0.1, uploaded: 10 } },
    });
    expect(a.connected).toEqual([
      { address: '10.0.0.2:6881', ip: '10.0.0.2', client: 'aria2/1.36', progress: 0.1, uploaded: 10, downloaded: 0 },
    ]);
    expect(a.left).toEqual([]);
    // only what changed is sent: the client name is kept from before
    const b = step({ rid: 2, peers: { '10.0.0.2:6881': { progress: 0.9, uploaded: 90 } } });
    expect(b.connected[0]).toMatchObject({ client: 'aria2/1.36', progress: 0.9, uploaded: 90 });
    expect(v.rid).toBe(2);
    const c = step({ rid: 3, peers_removed: ['10.0.0.2:6881'] });
    expect(c.connected).toEqual([]);
    expect(c.left).toEqual([
      { address: '10.0.0.2:6881', ip: '10.0.0.2', client: 'aria2/1.36', progress: 0.9, uploaded: 90, downloaded: 0 },
    ]);
  });
  it('a full update (rid unknown to qBittorrent) replaces the list: whoever is missing has left', () => {
    const one = applyPeerDelta(
      EMPTY_VIEW,
      parsePeerDelta({
        rid: 1,
        full_update: true,
        peers: { 'a:1': { client: 'x', progress: 0.3 }, 'b:2': { client: 'y' } },
      }),
    ).view;
    const r = applyPeerDelta(one, parsePeerDelta({ rid: 9, full_update: true, peers: { 'b:2': { progress: 0.2 } } }));
    expect(r.left.map((p) => p.address)).toEqual(['a:1']);
    expect(r.connected).toEqual([{ address: 'b:2', ip: 'b', client: '', progress: 0.2, uploaded: 0, downloaded: 0 }]);
  });
});

describe('parseTrackers', () => {
  it('keeps real trackers with their completed counts', () => {
    expect(
      parseTrackers([
        { url: '** [DHT] **', num_downloaded: 0 },
        { url: '** [PeX] **', num_downloaded: 0 },
        { url: 'udp://t.example:1337/announce', num_downloaded: 4 },
        { url: 'http://127.0.0.1:1/announce', num_downloaded: -1 },
        { url: 'https://x/announce' },
        'junk',
      ]),
    ).toEqual([
      { url: 'udp://t.example:1337/announce', downloaded: 4 },
      { url: 'http://127.0.0.1:1/announce', downloaded: -1 },
      { url: 'https://x/announce', downloaded: -1 },
    ]);
    expect(parseTrackers('Forbidden')).toEqual([]);
  });
});

describe('trackerIncrease: the largest increase, never the sum', () => {
  const T = (downloaded: number, url = 'udp://a') => ({ url, downloaded });
  it.each([
    ['a fresh (encrypted) torrent: the counts themselves', [T(2), T(1, 'udp://b')], undefined, true, 2],
    ['no tracker answered', [T(-1)], undefined, true, undefined],
    ['no trackers', [], undefined, true, undefined],
    ['a folder shared as it is: first sight is the baseline', [T(40)], undefined, false, 0],
    ['… and the increase after it', [T(43), T(7, 'udp://b')], { 'udp://a': 40, 'udp://b': 5 }, false, 3],
    ['a count that went down (tracker restarted) is 0, not negative', [T(1)], { 'udp://a': 40 }, false, 0],
  ] as const)('%s', (_w, trackers, baseline, fresh, expected) => {
    expect(trackerIncrease([...trackers], baseline ? { ...baseline } : undefined, fresh).count).toBe(expected);
  });
  it('records the baseline of a tracker first seen', () => {
    expect(trackerIncrease([{ url: 'udp://a', downloaded: 9 }], {}, false).baseline).toEqual({ 'udp://a': 9 });
    expect(trackerIncrease([{ url: 'udp://a', downloaded: 9 }], undefined, true).baseline).toEqual({});
  });
});

describe('completed counts', () => {
  it.each([
    [{}, 0],
    [{ completedPeers: ['a'], uploadedPeers: ['a', 'b'] }, 2],
    [{ completedPeers: ['a'], trackerCompleted: 3 }, 3],
    [{ completedPeers: ['a', 'b'], trackerCompleted: 1 }, 2],
  ] as const)('%j → %d', (r, n) => expect(completedCount(r as Partial<ShareRecord> as ShareRecord)).toBe(n));
  it.each([
    [{}, true],
    [{ trackerCompleted: 0 }, false],
    [{ watchedAt: 'x' }, false],
    [{ completedPeers: ['a'] }, false],
  ] as const)('nobody was watching: %j → %s', (r, u) =>
    expect(nobodyWatching(r as Partial<ShareRecord> as ShareRecord)).toBe(u),
  );
  it.each([
    [1000, undefined, 1000],
    [1000, 1, 1000],
    [1000, 4, 750],
    [1001, 4, 750],
  ] as const)('whole file sent: %d bytes in %s pieces → %d', (size, pieces, n) =>
    expect(wholeFileSent(size, pieces)).toBe(n),
  );
});
