/** The ledger of bytes sent: seen connections, reconnections, and whole files sent to peers nobody saw. */
import { describe, expect, it } from 'vitest';
import type { PeerInfo } from '../../src/qbit/download.js';
import {
  emptyLedger,
  QUIET_MS,
  sentTo,
  sentWhole,
  stepLedger,
  WRITE_OFF_MS,
  type SentLedger,
} from '../../src/share/sent.js';

const SIZE = 1_000;
const ENOUGH = 900; // ten pieces: the size less one
const peer = (address: string, uploaded: number, client = 'aria2/1.36.0'): PeerInfo => ({
  address,
  ip: address.split(':')[0]!,
  client,
  progress: 0,
  uploaded,
  downloaded: 0,
});
const keyOf = (p: PeerInfo) => `${p.ip}|${p.client}`;

interface Look {
  at: number;
  total: number;
  connected?: PeerInfo[];
  left?: PeerInfo[];
  counted?: string[];
}

function run(looks: Look[], start: SentLedger = emptyLedger()): SentLedger {
  let l = start;
  for (const k of looks) {
    l = stepLedger(l, {
      now: k.at,
      torrentUploaded: k.total,
      connected: k.connected ?? [],
      left: k.left ?? [],
      keyOf,
      enough: ENOUGH,
      size: SIZE,
      counted: new Set(k.counted ?? []),
    });
  }
  return l;
}
const unseen = (l: SentLedger) => sentWhole(l, ENOUGH, SIZE).filter((k) => k.startsWith('unseen-')).length;
const seenWhole = (l: SentLedger) => sentWhole(l, ENOUGH, SIZE).filter((k) => !k.startsWith('unseen-'));

describe('seen connections', () => {
  it.each<[string, Look[], string[]]>([
    [
      'one connection sent the whole file',
      [
        { at: 0, total: 0, connected: [peer('10.0.0.2:6881', 0)] },
        { at: 250, total: 0, connected: [peer('10.0.0.2:6881', 1_000)] },
      ],
      ['10.0.0.2|aria2/1.36.0'],
    ],
    [
      'connected one piece short: still downloading, not yet',
      [{ at: 0, total: 0, connected: [peer('10.0.0.2:6881', 900)] }],
      [],
    ],
    [
      'connected and sent the whole size: counts',
      [{ at: 0, total: 0, connected: [peer('10.0.0.2:6881', 1_000)] }],
      ['10.0.0.2|aria2/1.36.0'],
    ],
    [
      'gone one piece short: counts (it may have had that piece from someone else)',
      [
        { at: 0, total: 0, connected: [peer('10.0.0.2:6881', 900)] },
        { at: 250, total: 0, left: [peer('10.0.0.2:6881', 900)] },
      ],
      ['10.0.0.2|aria2/1.36.0'],
    ],
    ['two pieces short does not', [{ at: 0, total: 0, connected: [peer('10.0.0.2:6881', 800)] }], []],
    [
      'a reconnection carries what the peer was sent (libtorrent): the most, never the sum',
      [
        { at: 0, total: 0, connected: [peer('10.0.0.2:6881', 500)] },
        { at: 250, total: 0, left: [peer('10.0.0.2:6881', 500)] },
        { at: 500, total: 0, connected: [peer('10.0.0.2:6881', 499)] },
      ],
      [],
    ],
    [
      'a carried reconnection that goes on to the whole file counts',
      [
        { at: 0, total: 0, connected: [peer('10.0.0.2:6881', 500)] },
        { at: 250, total: 0, left: [peer('10.0.0.2:6881', 500)] },
        { at: 500, total: 0, connected: [peer('10.0.0.2:6881', 1_000)] },
      ],
      ['10.0.0.2|aria2/1.36.0'],
    ],
    [
      'a reconnection listed before its client is known is the peer that had the address',
      [
        { at: 0, total: 0, connected: [peer('10.0.0.2:6881', 1_000, 'Transmission 3.00')] },
        { at: 250, total: 0, left: [peer('10.0.0.2:6881', 1_000)] },
        { at: 500, total: 0, connected: [peer('10.0.0.2:6881', 999, '')] },
      ],
      ['10.0.0.2|Transmission 3.00'],
    ],
    [
      'a connection whose client is not known yet, at a new address: nobody yet',
      [{ at: 0, total: 0, connected: [peer('10.0.0.2:6881', 950, '')] }],
      [],
    ],
    [
      'the same address again with fewer bytes: a new connection; the most of the two',
      [
        { at: 0, total: 0, connected: [peer('10.0.0.2:6881', 600)] },
        { at: 250, total: 0, connected: [peer('10.0.0.2:6881', 300)] },
      ],
      [],
    ],
    [
      'two clients behind one address are two peers, half each: neither',
      [{ at: 0, total: 0, connected: [peer('10.0.0.2:6881', 500), peer('10.0.0.2:51413', 500, 'Transmission 4.0')] }],
      [],
    ],
  ])('%s', (_w, looks, keys) => expect(seenWhole(run(looks))).toEqual(keys));
});

describe('bytes sent to connections nobody saw', () => {
  it('a whole file sent between two looks, with nobody connected: one unseen recipient, once the total is quiet', () => {
    const quietFrom = 1_000;
    let l = run([{ at: 0, total: 5_000 }]);
    expect(l.base).toBe(5_000);
    l = run([{ at: quietFrom, total: 6_000 }], l);
    expect(unseen(l)).toBe(1);
    expect(run([{ at: quietFrom + 250, total: 6_000 }], l).settled).toBe(1_000);
    // never counted twice at the next looks
    expect(
      unseen(
        run(
          [
            { at: 2_000, total: 6_000 },
            { at: 9_000, total: 6_000 },
          ],
          l,
        ),
      ),
    ).toBe(1);
  });

  it('two whole files in one window: two', () => {
    expect(
      unseen(
        run([
          { at: 0, total: 0 },
          { at: 500, total: 2_000 },
        ]),
      ),
    ).toBe(2);
  });

  it('while bytes are seen going out, nothing is judged (the total lags the connections)', () => {
    const looks: Look[] = [
      { at: 0, total: 0 },
      { at: 250, total: 0, connected: [peer('10.0.0.2:6881', 400)] },
      // qBittorrent's total has caught up and more: 400 seen + 1000 to someone nobody saw
      { at: 500, total: 1_400, connected: [peer('10.0.0.2:6881', 800)] },
    ];
    expect(unseen(run(looks))).toBe(0);
    const quiet = run([...looks, { at: 500 + QUIET_MS, total: 1_800, connected: [peer('10.0.0.2:6881', 800)] }]);
    expect(unseen(quiet)).toBe(1);
    expect(seenWhole(quiet)).toEqual([]);
  });

  it('the first look while bytes are going out waits for a quiet look before taking the base', () => {
    const l = run([{ at: 0, total: 300, connected: [peer('10.0.0.2:6881', 500)] }]);
    expect(l.base).toBeUndefined();
    // the total lagged: it catches up, nothing was unseen
    const q = run(
      [
        { at: QUIET_MS, total: 500, connected: [peer('10.0.0.2:6881', 500)] },
        { at: QUIET_MS + 10_000, total: 500 },
      ],
      l,
    );
    expect(q.base).toBe(0);
    expect(unseen(q)).toBe(0);
  });

  it('a peer that left at 30 % and came back unseen is given the rest, not counted as someone else', () => {
    const l = run([
      { at: 0, total: 0 },
      { at: 250, total: 300, connected: [peer('10.0.0.2:6881', 300)] },
      { at: 500, total: 300, left: [peer('10.0.0.2:6881', 300)] },
      { at: 500 + QUIET_MS, total: 1_000 },
    ]);
    expect(seenWhole(l)).toEqual(['10.0.0.2|aria2/1.36.0']);
    expect(sentTo(l, '10.0.0.2|aria2/1.36.0')).toBe(1_000);
    expect(unseen(l)).toBe(0);
  });

  it('a client that reconnected without carrying (a new port): its second, seen half and the unseen rest make it whole', () => {
    const l = run([
      { at: 0, total: 0 },
      { at: 250, total: 500, connected: [peer('10.0.0.2:6881', 500)] },
      { at: 500, total: 500, left: [peer('10.0.0.2:6881', 500)] },
      { at: 750, total: 1_000, connected: [peer('10.0.0.2:7001', 500)] },
      { at: 1_000, total: 1_000, left: [peer('10.0.0.2:7001', 500)] },
      { at: 1_000 + QUIET_MS, total: 1_000 },
    ]);
    expect(seenWhole(l)).toEqual(['10.0.0.2|aria2/1.36.0']);
    expect(unseen(l)).toBe(0);
  });

  it('a stranger that stopped at 50 %: its last unseen bytes count for nobody and are written off', () => {
    const looks: Look[] = [
      { at: 0, total: 0 },
      { at: 250, total: 0, connected: [peer('10.0.0.2:6881', 500)] },
      { at: 500, total: 550, left: [peer('10.0.0.2:6881', 500)] },
      { at: 500 + QUIET_MS, total: 550 },
    ];
    const l = run(looks);
    expect(sentWhole(l, ENOUGH, SIZE)).toEqual([]);
    expect(l.pending).toBe(50);
    const later = run([{ at: 500 + QUIET_MS + WRITE_OFF_MS, total: 550 }], l);
    expect(later.pending).toBe(0);
    // a second stranger's unseen 900 later is judged alone: still one whole file's worth, so one
    expect(unseen(run([{ at: 100_000, total: 1_450 }], later))).toBe(1);
  });

  it('unseen bytes are not given to a peer some other signal already counts', () => {
    const l = run([
      { at: 0, total: 0 },
      { at: 250, total: 300, connected: [peer('10.0.0.2:6881', 300)] },
      { at: 500, total: 300, left: [peer('10.0.0.2:6881', 300)], counted: ['10.0.0.2|aria2/1.36.0'] },
      { at: 500 + QUIET_MS, total: 1_300 },
    ]);
    expect(sentTo(l, '10.0.0.2|aria2/1.36.0')).toBe(300);
    expect(unseen(l)).toBe(1);
  });
});
