import { describe, expect, it } from 'vitest';
import { ending, statusLine } from '../../src/cli/commands/seed.js';
import { checkRecipients, parseExpire } from '../../src/share/limits.js';
import type { ShareStatus } from '../../src/share/observe.js';
import type { ShareRecord } from '../../src/state/types.js';

describe('parseExpire', () => {
  it.each([
    ['7d', 10080],
    ['48h', 2880],
    ['1.5h', 90],
    [' 2D ', 2880],
  ])('%j → %d minutes', (s, m) => expect(parseExpire(s)).toBe(m));
  it.each([['7'], ['0d'], ['-1h'], ['1w'], ['soon'], ['']])('refuses %j', (s) =>
    expect(() => parseExpire(s)).toThrow(/7d or 48h/),
  );
});

describe('checkRecipients', () => {
  it.each([[1], [3], [1000]])('%d', (n) => expect(checkRecipients(n)).toBe(n));
  it.each([[0], [-1], [1.5], [1001], [NaN]])('refuses %d', (n) =>
    expect(() => checkRecipients(n)).toThrow(/whole number/),
  );
});

const st = (state: string, over: Partial<ShareRecord> = {}): ShareStatus => ({
  share: { name: 'g', recipients: 2, ...over } as ShareRecord,
  state,
  torrent: { hash: 'h', name: 'g', state: 'x', progress: 1, savePath: '/', uploaded: 2_000_000, ratio: 1.5 },
  peersConnected: 3,
  completedPeers: 1,
  signals: { peers: 1, uploadedTo: 0, tracker: null },
  unknown: false,
  stoppedNow: false,
});

describe('seed --until-done', () => {
  it('status line', () =>
    expect(statusLine(st('seeding'))).toBe('seeding: 1/2 have it, 3 connected, uploaded 2.0 MB, ratio 1.50'));
  it.each([
    ['seeding', undefined],
    ['checking', undefined],
    ['done', 0],
    ['stopped', 0],
    ['not-in-qbittorrent', 1],
    ['missing', 1],
    ['error', 1],
  ])('%s → exit %s', (state, code) => expect(ending(st(state))?.code).toBe(code));
  it('done says peers, not people', () => expect(ending(st('done'))?.text).toMatch(/Peers seen, not people/));
});
