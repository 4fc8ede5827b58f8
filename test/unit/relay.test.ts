import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPeerAddress, checkRelayName, validateConfig } from '../../src/config/schema.js';
import { relayCheck } from '../../src/doctor/checks.js';
import { QshareError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import type { QbitSession, TorrentStatus } from '../../src/qbit/session.js';
import {
  chooseRelays,
  defaultPeer,
  handToRelays,
  hasSeedConnected,
  mergeRelays,
  relayPeerProblem,
  relaysToFinish,
  relayStateOf,
  type RelayLink,
} from '../../src/share/relay.js';
import { createStateStore } from '../../src/state/store.js';
import type { ShareRecord } from '../../src/state/types.js';
import { magnetLink } from '../../src/torrent/magnet.js';
import { relayLine, relaySummary } from '../../src/cli/relays.js';
import { trackerCountWithoutRelays } from '../../src/share/observe.js';

const H = 'ab'.repeat(20);
const t = (over: Partial<TorrentStatus>): TorrentStatus => ({
  hash: H,
  name: 'x.7z',
  state: 'downloading',
  progress: 0,
  savePath: '/d',
  uploaded: 0,
  ratio: 0,
  ...over,
});

describe('relay names, peer addresses and the config', () => {
  it.each([
    ['box', undefined],
    ['seed-box_2', undefined],
    ['', 'must be'],
    ['-box', 'must be'],
    ['a b', 'must be'],
    ['x'.repeat(41), 'must be'],
  ])('relay name %j', (n, problem) =>
    problem ? expect(checkRelayName(n)).toContain(problem) : expect(checkRelayName(n)).toBeUndefined(),
  );

  it.each([
    ['203.0.113.7:51413', true],
    ['seedbox.example:6881', true],
    ['[2001:db8::1]:6881', true],
    ['203.0.113.7', false],
    ['203.0.113.7:0', false],
    ['203.0.113.7:65536', false],
    ['http://x:1', false],
  ])('peer address %j', (a, ok) => expect(checkPeerAddress(a) === undefined).toBe(ok));

  it.each([
    ['127.0.0.1:6881', true],
    ['localhost:6881', true],
    ['[::1]:6881', true],
    ['0.0.0.0:6881', true],
    ['10.77.2.2:6881', false],
  ])('a loopback peer %j is refused', (a, refused) => expect(relayPeerProblem(a) !== undefined).toBe(refused));

  it('relays and defaultRelays: valid entries pass; a default that names no relay, a password and a bad peer are each said', () => {
    const good = {
      relays: { box: { url: 'https://seedbox.example:8080', peer: '203.0.113.7:51413' } },
      defaultRelays: ['box'],
    };
    const r = validateConfig(good);
    expect(r.problems).toEqual([]);
    expect(r.config.relays.box).toEqual({
      url: 'https://seedbox.example:8080',
      username: 'admin',
      peer: '203.0.113.7:51413',
      caFile: null,
      insecureTls: false,
      savePath: null,
    });
    expect(validateConfig({ relays: {}, defaultRelays: ['box'] }).problems.join()).toMatch(
      /defaultRelays: "box" is not in "relays"/,
    );
    expect(
      validateConfig({ relays: { box: { url: 'https://x', peer: 'x:1', password: 'p' } } }).problems.join(),
    ).toMatch(/never reads a password/);
    expect(validateConfig({ relays: { box: { url: 'https://x', peer: 'nope' } } }).problems.join()).toMatch(
      /relays\.box\.peer: must be HOST:PORT/,
    );
    expect(validateConfig({ relays: { 'a b': { url: 'https://x', peer: 'x:1' } } }).problems.join()).toMatch(
      /a relay name must be/,
    );
  });

  it('chooseRelays: the ones given, else the defaults; an unknown name is a usage error naming the paired ones', () => {
    const config = { relays: { box: {} as never, nas: {} as never }, defaultRelays: ['nas'] };
    expect(chooseRelays(config, undefined)).toEqual(['nas']);
    expect(chooseRelays(config, ['box', 'box'])).toEqual(['box']);
    expect(() => chooseRelays(config, ['vps'])).toThrow(/no relay named "vps" \(paired: box, nas\)/);
  });

  it.each([
    ['https://seedbox.example:8080/qbt/', { listen_port: 51413 }, { peer: 'seedbox.example:51413' }],
    ['http://[2001:db8::5]:8080', { listen_port: 6881 }, { peer: '[2001:db8::5]:6881' }],
    [
      'http://10.0.0.2:8080',
      { listen_port: 6881, current_interface_address: '127.0.0.1' },
      { problem: expect.stringContaining('listens for peers on 127.0.0.1 only') },
    ],
    ['http://127.0.0.1:8080', { listen_port: 6881 }, { problem: expect.stringContaining('give --peer HOST:PORT') }],
    ['http://10.0.0.2:8080', {}, { problem: expect.stringContaining('listen_port') }],
  ])('the default peer of %s', (url, prefs, expected) => expect(defaultPeer(url, prefs)).toEqual(expected));
});

describe("a relay's state", () => {
  it.each([
    [undefined, 'error'],
    [t({ state: 'stalledUP', progress: 1 }), 'holding'],
    [t({ state: 'pausedUP', progress: 1 }), 'holding'],
    [t({ state: 'downloading', progress: 0.4 }), 'uploading'],
    [t({ state: 'metaDL' }), 'uploading'],
    [t({ state: 'error', progress: 0.2 }), 'error'],
    [t({ state: 'missingFiles' }), 'error'],
  ])('%j → %s', (torrent, state) => expect(relayStateOf(torrent).state).toBe(state));

  it.each([
    [undefined, false],
    [t({ numSeeds: 0 }), false],
    [t({ numSeeds: 1 }), true],
    [t({ progress: 1, numSeeds: 0 }), true],
  ])('seed connected %j → %s', (torrent, yes) => expect(hasSeedConnected(torrent)).toBe(yes));

  it('mergeRelays replaces by name and keeps the order', () => {
    const a = { name: 'a', peer: 'a:1', state: 'uploading' as const, progress: 0 };
    const b = { name: 'b', peer: 'b:1', state: 'uploading' as const, progress: 0 };
    expect(
      mergeRelays(
        [a, b],
        [
          { ...b, state: 'holding', progress: 1 },
          { ...a, name: 'c' },
        ],
      ).map((x) => `${x.name}:${x.state}`),
    ).toEqual(['a:uploading', 'b:holding', 'c:uploading']);
  });

  it.each([
    [false, ['b', 'c']],
    [true, ['a', 'b', 'c', 'd']],
  ])(
    'relaysToFinish (handoff %s): the unfinished and still paired ones, or every one not stopped',
    (handoff, names) => {
      const r = (name: string, state: 'uploading' | 'holding' | 'error' | 'stopped') => ({
        name,
        peer: 'p:1',
        state,
        progress: 0,
      });
      const share = {
        relays: [r('a', 'holding'), r('b', 'uploading'), r('c', 'error'), r('d', 'error'), r('e', 'stopped')],
      };
      expect(relaysToFinish(share, handoff, { a: {}, b: {}, c: {} })).toEqual(names);
    },
  );

  it("the summary names the share in what to run, and each relay's error without repeating its name", () => {
    const text = relaySummary(
      'gift',
      [{ name: 'box', peer: 'p:1', state: 'error', progress: 0, error: 'relay "box": it has 10 B free' }],
      true,
    );
    expect(text).toBe(
      [
        'Relays:',
        '  Relay box: ERROR: it has 10 B free',
        '  Every relay has the whole file: this computer stopped seeding it (qshare seed gift starts it again).',
      ].join('\n'),
    );
  });

  it('the magnet link carries each relay as x.pe', () => {
    expect(magnetLink(H, 'x.7z', [], ['203.0.113.7:51413', '[2001:db8::1]:6881'])).toBe(
      `magnet:?xt=urn:btih:${H}&dn=x.7z&x.pe=203.0.113.7%3A51413&x.pe=%5B2001%3Adb8%3A%3A1%5D%3A6881`,
    );
  });

  it.each([
    [
      { name: 'box', peer: 'p:1', state: 'uploading' as const, progress: 0.423, speed: 11 * 1024 * 1024 },
      'Uploading to relay box: 42 % 11.5 MB/s',
    ],
    [{ name: 'box', peer: 'p:1', state: 'uploading' as const, progress: 0 }, 'Uploading to relay box: 0 %'],
    [{ name: 'box', peer: 'p:1', state: 'holding' as const, progress: 1 }, 'Relay box: has the whole file, seeding'],
    [{ name: 'box', peer: 'p:1', state: 'error' as const, progress: 0 }, 'Relay box: ERROR'],
  ])('the TTY line %#', (r, line) => expect(relayLine(r)).toBe(line));
});

describe("the trackers' completed count less the relays", () => {
  const r = (added: boolean) => ({
    name: 'x',
    peer: 'p:1',
    state: 'holding' as const,
    progress: 1,
    ...(added ? { added: true } : {}),
  });
  it.each([
    [undefined, [], undefined],
    [2, [], 2],
    [2, [r(true)], 1],
    [1, [r(true), r(true)], 0],
    [3, [r(true), r(false)], 2],
  ])('count %j with relays %j → %j', (count, relays, expected) =>
    expect(trackerCountWithoutRelays(count, { relays })).toBe(expected),
  );
});

describe('doctor: one line per relay', () => {
  const base = { name: 'box', url: 'https://s:8080', peer: '203.0.113.7:51413' };
  it.each([
    [{ ...base, error: 'nothing is listening at https://s:8080' }, 'fail'],
    [{ ...base, version: 'v4.5.2', connection: 'firewalled', peerOpens: true as const }, 'warn'],
    [{ ...base, version: 'v4.5.2', connection: 'firewalled', peerOpens: 'ETIMEDOUT' }, 'fail'],
    [{ ...base, version: 'v4.5.2', connection: 'connected', peerOpens: 'ECONNREFUSED' }, 'fail'],
    [
      { ...base, version: 'v4.5.2', connection: 'connected', freeBytes: 10 * 1024 ** 2, peerOpens: true as const },
      'warn',
    ],
    [
      { ...base, version: 'v4.5.2', connection: 'connected', freeBytes: 50 * 1024 ** 3, peerOpens: true as const },
      'ok',
    ],
  ])('%j → %s', (m, status) => {
    const c = relayCheck(m);
    expect(c.status).toBe(status);
    expect(c.id).toBe('relay:box');
    if (status !== 'ok') expect(c.fix).toBeTruthy();
  });
});

/** A fake qBittorrent: a relay whose torrent appears when added and gets a seed once home dials it `dialsNeeded` times. */
function fakeRelay(opts: {
  dialsNeeded: number;
  free?: number;
  failConnect?: QshareError;
  completeAfterConnected?: number;
}) {
  let added = false;
  let dials = 0;
  let looksConnected = 0;
  const session = {
    url: 'http://relay',
    getTorrent: async () => {
      if (!added) return undefined;
      const connected = dials >= opts.dialsNeeded;
      if (connected) looksConnected++;
      const done =
        connected && opts.completeAfterConnected !== undefined && looksConnected > opts.completeAfterConnected;
      return t({
        state: done ? 'stalledUP' : 'downloading',
        progress: done ? 1 : connected ? 0.5 : 0,
        numSeeds: connected ? 1 : 0,
        dlSpeed: 1000,
      });
    },
    serverState: async () => ({ free_space_on_disk: opts.free ?? 1e12 }),
    addForDownload: async () => {
      added = true;
      return 'added' as const;
    },
  } as unknown as QbitSession;
  const local = {
    addPeers: async () => {
      dials++;
    },
    stopTorrent: async () => {
      stopped++;
    },
    getTorrent: async () => t({ state: stopped > 0 ? 'pausedUP' : 'uploading', progress: 1 }),
  } as unknown as QbitSession;
  let stopped = 0;
  const link: RelayLink = {
    name: 'box',
    peer: '203.0.113.7:51413',
    savePath: null,
    connect: async () => (opts.failConnect ? Promise.reject(opts.failConnect) : session),
  };
  return { link, local, dials: () => dials, stopped: () => stopped };
}

async function shareOn(dir: string) {
  const torrentFile = join(dir, 'x.torrent');
  await writeFile(torrentFile, 'd4:infode');
  const store = createStateStore(join(dir, 'state.json'), { log: { warn: () => {} } });
  const share: ShareRecord = {
    id: 'a1b2c3d4',
    name: 'x',
    source: '/src',
    encrypted: true,
    archive: '/d/x.7z',
    torrentFile,
    savePath: '/d',
    infoHash: H,
    magnet: 'magnet:?',
    size: 1000,
    trackers: [],
    private: false,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    state: 'seeding',
  };
  await store.update((s) => void s.shares.push(share));
  return { store, share };
}

const deps = (store: ReturnType<typeof createStateStore>, signal = new AbortController().signal) => ({
  config: { qbittorrent: { category: 'qshare', tags: ['qshare'] } } as never,
  log: createLogger({ write: () => {}, json: true, level: 'error', color: false }),
  store,
  signal,
  now: () => new Date('2026-01-02T00:00:00.000Z'),
});
const fast = { connectTimeoutMs: 2_000, pollMs: 1, redialMs: 5 };

describe('handing a share to a relay (fake qBittorrents)', () => {
  it('home dials the relay again and again until it has a seed; without --handoff it returns then, recorded', async () => {
    const { store, share } = await shareOn(await mkdtemp(join(tmpdir(), 'qshare-relay-')));
    const f = fakeRelay({ dialsNeeded: 3 });
    const r = await handToRelays(deps(store), f.local, share, [f.link], { handoff: false, timing: fast });
    expect(f.dials()).toBe(3);
    expect(r.handedOff).toBe(false);
    expect(r.reports).toEqual([
      expect.objectContaining({ name: 'box', state: 'uploading', progress: 0.5, added: true }),
    ]);
    expect((await store.list())[0]!.relays).toEqual([
      { name: 'box', peer: '203.0.113.7:51413', state: 'uploading', progress: 0.5, added: true },
    ]);
    expect(f.stopped()).toBe(0);
  });

  it('--handoff waits for the whole file, then stops home and records when', async () => {
    const { store, share } = await shareOn(await mkdtemp(join(tmpdir(), 'qshare-relay-')));
    const f = fakeRelay({ dialsNeeded: 1, completeAfterConnected: 5 });
    const r = await handToRelays(deps(store), f.local, share, [f.link], { handoff: true, timing: fast });
    expect(r.handedOff).toBe(true);
    expect(r.reports[0]).toMatchObject({ state: 'holding', progress: 1 });
    expect(f.stopped()).toBe(1);
    expect((await store.list())[0]!.handedOffAt).toBe('2026-01-02T00:00:00.000Z');
  });

  it('a relay that never gets a seed is an error with what to do, and home is not stopped', async () => {
    const { store, share } = await shareOn(await mkdtemp(join(tmpdir(), 'qshare-relay-')));
    const f = fakeRelay({ dialsNeeded: Infinity });
    const r = await handToRelays(deps(store), f.local, share, [f.link], {
      handoff: true,
      timing: { ...fast, connectTimeoutMs: 30 },
    });
    expect(r.reports[0]).toMatchObject({
      state: 'error',
      error: expect.stringMatching(/home could not connect to it at 203\.0\.113\.7:51413/),
      hint: expect.stringMatching(/--peer HOST:PORT/),
    });
    expect(r.handedOff).toBe(false);
    expect(f.stopped()).toBe(0);
  });

  it('no room on the relay, or no connection to it: its own error, before anything is added there', async () => {
    const { store, share } = await shareOn(await mkdtemp(join(tmpdir(), 'qshare-relay-')));
    const small = fakeRelay({ dialsNeeded: 0, free: 10 });
    const down = fakeRelay({
      dialsNeeded: 0,
      failConnect: new QshareError('QBIT_UNREACHABLE', 'nothing is listening at http://relay', { hint: 'start it' }),
    });
    const r = await handToRelays(deps(store), small.local, share, [small.link, { ...down.link, name: 'down' }], {
      handoff: false,
      timing: fast,
    });
    expect(r.reports.map((x) => [x.name, x.state, x.error])).toEqual([
      ['box', 'error', 'relay "box": it has 10 B free and the share is 1.0 kB'],
      ['down', 'error', 'relay "down": nothing is listening at http://relay'],
    ]);
    expect(r.reports[1]!.hint).toBe('start it');
    expect(small.dials()).toBe(0);
  });

  it('Ctrl-C while waiting: INTERRUPTED saying both sides keep running, and what each relay reached is recorded', async () => {
    const { store, share } = await shareOn(await mkdtemp(join(tmpdir(), 'qshare-relay-')));
    const f = fakeRelay({ dialsNeeded: 1 });
    const ac = new AbortController();
    const p = handToRelays(deps(store, ac.signal), f.local, share, [f.link], {
      handoff: true,
      timing: { ...fast, pollMs: 20 },
    });
    setTimeout(() => ac.abort(), 100);
    await expect(p).rejects.toThrow(/both sides keep running.*qshare seed x --handoff/);
    expect((await store.list())[0]!.relays).toEqual([
      expect.objectContaining({ name: 'box', state: 'uploading', progress: 0.5 }),
    ]);
    expect(f.stopped()).toBe(0);
  });
});
