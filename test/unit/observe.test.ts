/** Counting peers that have the whole file, live states, when to stop, the ls table and what stop --delete may touch: tables. */
import { describe, expect, it } from 'vitest';
import { lsTable } from '../../src/cli/commands/ls.js';
import { dataPaths } from '../../src/config/paths.js';
import type { PeerInfo } from '../../src/qbit/download.js';
import type { TorrentStatus } from '../../src/qbit/session.js';
import { liveState, peerKey, shouldStop, tallyPeers } from '../../src/share/observe.js';
import { ownFiles } from '../../src/share/stop.js';
import type { ShareRecord } from '../../src/state/types.js';

const peer = (ip: string, progress: number, client = 'qBittorrent/4.5.2'): PeerInfo => ({
  address: `${ip}:6881`,
  ip,
  client,
  progress,
  uploaded: 0,
  downloaded: 0,
});
const k = (ip: string, client = 'qBittorrent/4.5.2') => peerKey(peer(ip, 0, client));

describe('tallyPeers (10 pieces: one piece short = 0.9)', () => {
  it.each([
    [
      'a peer at 100 % counts',
      { completed: [], finishing: [] },
      [peer('1.1.1.1', 1)],
      { completed: [k('1.1.1.1')], finishing: [] },
    ],
    [
      'one piece short: finishing, not yet complete',
      { completed: [], finishing: [] },
      [peer('1.1.1.1', 0.9)],
      { completed: [], finishing: [k('1.1.1.1')] },
    ],
    [
      'finishing and gone at the next look: complete',
      { completed: [], finishing: [k('1.1.1.1')] },
      [],
      { completed: [k('1.1.1.1')], finishing: [] },
    ],
    [
      'finishing and still there one piece short: still finishing',
      { completed: [], finishing: [k('1.1.1.1')] },
      [peer('1.1.1.1', 0.9)],
      { completed: [], finishing: [k('1.1.1.1')] },
    ],
    [
      'two pieces short and gone: not counted',
      { completed: [], finishing: [] },
      [peer('1.1.1.1', 0.8)],
      { completed: [], finishing: [] },
    ],
    [
      'the same peer twice (two connections) counts once',
      { completed: [], finishing: [] },
      [peer('1.1.1.1', 1), { ...peer('1.1.1.1', 1), address: '1.1.1.1:7000' }],
      { completed: [k('1.1.1.1')], finishing: [] },
    ],
    [
      'same address, another client: another peer',
      { completed: [k('1.1.1.1')], finishing: [] },
      [peer('1.1.1.1', 1, 'Transmission 4.0')],
      { completed: [k('1.1.1.1'), k('1.1.1.1', 'Transmission 4.0')], finishing: [] },
    ],
    [
      'already counted is not finishing again',
      { completed: [k('1.1.1.1')], finishing: [] },
      [peer('1.1.1.1', 0.95)],
      { completed: [k('1.1.1.1')], finishing: [] },
    ],
  ])('%s', (_w, before, peers, after) => expect(tallyPeers(before, peers, 10)).toEqual(after));

  it('without the piece count only 100 % counts', () => {
    expect(tallyPeers({ completed: [], finishing: [] }, [peer('1.1.1.1', 0.999)], undefined)).toEqual({
      completed: [],
      finishing: [],
    });
  });
  it('keys are digests, not addresses', () => {
    expect(k('192.168.1.20')).toMatch(/^[0-9a-f]{16}$/);
    expect(k('192.168.1.20')).not.toContain('192');
  });
});

const share = (over: Partial<ShareRecord> = {}): ShareRecord => ({
  id: 'abcd1234',
  name: 'burly-duckbill-aviation',
  source: '/home/me/Pictures/wedding',
  encrypted: true,
  archive: '/home/me/.local/share/qshare/archives/burly-duckbill-aviation.7z',
  torrentFile: '/home/me/.local/share/qshare/torrents/burly-duckbill-aviation.torrent',
  savePath: '/home/me/.local/share/qshare/archives',
  infoHash: 'ab'.repeat(20),
  magnet: 'magnet:?xt=urn:btih:' + 'ab'.repeat(20),
  size: 5_300_000_000,
  trackers: [],
  private: false,
  createdAt: '2026-11-21T10:00:00.000Z',
  updatedAt: '2026-11-21T10:00:00.000Z',
  state: 'seeding',
  ...over,
});
const t = (state: string, over: Partial<TorrentStatus> = {}): TorrentStatus => ({
  hash: 'ab'.repeat(20),
  name: 'x.7z',
  state,
  progress: 1,
  savePath: '/s',
  uploaded: 10_600_000_000,
  ratio: 2,
  ...over,
});

describe('liveState', () => {
  it.each([
    [share(), t('stalledUP'), 'seeding'],
    [share(), t('uploading'), 'seeding'],
    [share(), t('pausedUP'), 'stopped'],
    [share({ doneAt: 'x' }), t('stoppedUP'), 'done'],
    [share(), t('missingFiles'), 'missing'],
    [share(), t('error'), 'error'],
    [share(), t('checkingUP'), 'checking'],
    [share(), undefined, 'not-in-qbittorrent'],
    [share({ state: 'stopped' }), undefined, 'stopped'],
    [share({ state: 'created' }), undefined, 'created'],
    [share({ doneAt: 'x' }), undefined, 'done'],
    [share(), t('someNewState'), 'someNewState'],
  ] as const)('%#: %s', (s, tor, expected) => expect(liveState(s, tor)).toBe(expected));
});

describe('shouldStop', () => {
  it.each([
    [share({ recipients: 2 }), 2, 'seeding', true],
    [share({ recipients: 2 }), 3, 'seeding', true],
    [share({ recipients: 2 }), 1, 'seeding', false],
    [share({ recipients: 2 }), 2, 'stopped', false],
    [share(), 5, 'seeding', false],
  ] as const)('%#', (s, n, state, expected) => expect(shouldStop(s, n, state)).toBe(expected));
});

describe('lsTable', () => {
  it('aligns columns and shows n/N when --recipients was given', () => {
    const out = lsTable([
      {
        share: share({ recipients: 2, completedPeers: ['a'] }),
        state: 'seeding',
        torrent: t('stalledUP'),
        peersConnected: 3,
        completedPeers: 1,
        signals: { peers: 1, uploadedTo: 0, tracker: 0 },
        unknown: false,
        stoppedNow: false,
      },
      {
        share: share({ name: 'x', size: 1000 }),
        state: 'not-in-qbittorrent',
        torrent: undefined,
        peersConnected: 0,
        completedPeers: 0,
        signals: { peers: 0, uploadedTo: 0, tracker: null },
        unknown: true,
        stoppedNow: false,
      },
      {
        share: share({ name: 'y', size: 1000 }),
        state: 'seeding',
        torrent: undefined,
        peersConnected: 0,
        completedPeers: 0,
        signals: { peers: 0, uploadedTo: 0, tracker: 0 },
        unknown: false,
        stoppedNow: false,
      },
      {
        share: share({ name: 'z', size: 1000, recipients: 2, uploadedPeers: ['b'] }),
        state: 'done',
        torrent: undefined,
        peersConnected: 0,
        completedPeers: 2,
        signals: { peers: 0, uploadedTo: 1, tracker: 2 },
        unknown: false,
        stoppedNow: false,
      },
    ]);
    expect(out.split('\n').slice(0, 5)).toEqual([
      'NAME                     SIZE    STATE               PEERS  UPLOADED  RATIO  HAVE IT',
      'burly-duckbill-aviation  5.3 GB  seeding             3      10.6 GB   2.00   1/2 (seen)',
      'x                        1.0 kB  not-in-qbittorrent  0      -         -      unknown (nobody was watching)',
      'y                        1.0 kB  seeding             0      -         -      0',
      'z                        1.0 kB  done                0      -         -      2/2 (tracker)',
    ]);
  });
});

describe('ownFiles (what stop --delete may delete)', () => {
  const paths = dataPaths('/c.json', '/home/me/.local/share/qshare');
  it.each([
    ['an encrypted share: its archive and .torrent', share(), [share().archive, share().torrentFile]],
    [
      '--no-encrypt: only the .torrent (the data is the source)',
      share({ encrypted: false, archive: null, savePath: '/home/me/Pictures' }),
      [share().torrentFile],
    ],
    [
      "a record pointing outside qshare's folders: nothing",
      share({ archive: '/home/me/Pictures/wedding.7z', torrentFile: '/tmp/x.torrent' }),
      [],
    ],
    [
      'an archive path that is the source itself: not deleted',
      share({ source: share().archive! }),
      [share().torrentFile],
    ],
  ])('%s', (_w, s, expected) => expect(ownFiles(s, paths)).toEqual(expected));
});
