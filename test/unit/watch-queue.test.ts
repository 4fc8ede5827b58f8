import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  classifyStepError,
  decideArrival,
  decideRemoval,
  pickRunnable,
  workOf,
  type Arrival,
} from '../../src/share/queue.js';
import type { WatchItem } from '../../src/state/journal.js';

const D = '/home/me/ToShare';
function item(p: Partial<WatchItem> & { id: string }): WatchItem {
  return {
    name: `n-${p.id}`,
    dropDir: D,
    entry: 'Photos',
    source: `${D}/Photos`,
    dev: 1,
    ino: 10,
    fingerprint: 'fp1',
    bytes: 5,
    seq: 1,
    state: 'queued',
    attempts: 0,
    recorded: false,
    queuedAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...p,
  };
}
const arrival = (p: Partial<Arrival> = {}): Arrival => ({
  dropDir: D,
  entry: 'Photos',
  dev: 1,
  ino: 10,
  fingerprint: 'fp1',
  bytes: 5,
  ...p,
});

describe('decideArrival', () => {
  it.each<[string, WatchItem[], Arrival, unknown]>([
    ['unknown name → new', [], arrival(), { kind: 'new' }],
    ['same entry in another drop folder → new', [item({ id: 'a', dropDir: '/elsewhere' })], arrival(), { kind: 'new' }],
    [
      'same item, same content (a restart) → known',
      [item({ id: 'a', state: 'seeding', recorded: true })],
      arrival(),
      { kind: 'known', id: 'a' },
    ],
    [
      'same item, new content, not shared yet → requeue',
      [item({ id: 'a', state: 'archiving' })],
      arrival({ fingerprint: 'fp2' }),
      { kind: 'requeue', id: 'a' },
    ],
    [
      'failed (not shared), new content → requeue (tried again)',
      [item({ id: 'a', state: 'failed' })],
      arrival({ fingerprint: 'fp2' }),
      { kind: 'requeue', id: 'a' },
    ],
    [
      'failed (not shared), same content → known (not retried)',
      [item({ id: 'a', state: 'failed' })],
      arrival(),
      { kind: 'known', id: 'a' },
    ],
    [
      'shared, new content → changed-after-shared, first notice',
      [item({ id: 'a', state: 'seeding', recorded: true })],
      arrival({ fingerprint: 'fp2' }),
      { kind: 'changed-after-shared', id: 'a', firstNotice: true },
    ],
    [
      'shared, the same new content again → not noticed twice',
      [item({ id: 'a', state: 'seeding', recorded: true, changedNoticed: 'fp2' })],
      arrival({ fingerprint: 'fp2' }),
      { kind: 'changed-after-shared', id: 'a', firstNotice: false },
    ],
    [
      'another inode under a known name, shared → replaced',
      [item({ id: 'a', state: 'seeding', recorded: true })],
      arrival({ ino: 11 }),
      { kind: 'replaced', id: 'a', recorded: true },
    ],
    [
      'another inode, not shared → replaced',
      [item({ id: 'a' })],
      arrival({ ino: 11 }),
      { kind: 'replaced', id: 'a', recorded: false },
    ],
    [
      'its source left after sharing, then something came back → new',
      [item({ id: 'a', state: 'seeding', recorded: true, sourceGone: true })],
      arrival(),
      { kind: 'new' },
    ],
    [
      'the latest of several items with that name counts',
      [
        item({ id: 'a', seq: 1, recorded: true, sourceGone: true, state: 'seeding' }),
        item({ id: 'b', seq: 2, ino: 12, state: 'queued' }),
      ],
      arrival({ ino: 12 }),
      { kind: 'known', id: 'b' },
    ],
  ])('%s', (_n, items, a, want) => {
    expect(decideArrival(items, a)).toEqual(want);
  });
});

describe('decideRemoval', () => {
  it.each<[string, WatchItem[], unknown]>([
    ['unknown → none', [], { kind: 'none' }],
    ['queued → drop', [item({ id: 'a' })], { kind: 'drop', id: 'a' }],
    ['archiving → drop', [item({ id: 'a', state: 'archiving' })], { kind: 'drop', id: 'a' }],
    ['waiting for space → drop', [item({ id: 'a', state: 'waiting', next: 'archiving' })], { kind: 'drop', id: 'a' }],
    [
      'recorded, waiting for qBittorrent → the share goes on',
      [item({ id: 'a', state: 'waiting', next: 'adding', recorded: true })],
      { kind: 'gone-after-shared', id: 'a' },
    ],
    [
      'seeding → the share goes on',
      [item({ id: 'a', state: 'seeding', recorded: true })],
      { kind: 'gone-after-shared', id: 'a' },
    ],
  ])('%s', (_n, items, want) => {
    expect(decideRemoval(items, D, 'Photos')).toEqual(want);
  });
});

describe('which items run', () => {
  const now = Date.parse('2026-01-01T00:01:00.000Z');
  it.each<[WatchItem['state'], Partial<WatchItem>, 'disk' | 'qbit' | undefined]>([
    ['queued', {}, 'disk'],
    ['archiving', {}, 'disk'],
    ['hashing', {}, 'disk'],
    ['adding', {}, 'qbit'],
    ['seeding', {}, undefined],
    ['failed', {}, undefined],
    ['waiting', { next: 'archiving', retryAt: '2026-01-01T00:00:59.000Z' }, 'disk'],
    ['waiting', { next: 'adding', retryAt: '2026-01-01T00:01:00.000Z' }, 'qbit'],
    ['waiting', { next: 'adding', retryAt: '2026-01-01T00:01:01.000Z' }, undefined],
    ['waiting', { next: 'adding' }, undefined],
  ])('%s %j → %s', (state, extra, want) => {
    expect(workOf(item({ id: 'a', state, ...extra }), now)).toBe(want);
  });

  it('oldest first, bounded by the free slots, skipping running/held items and other drop folders', () => {
    const items = [
      item({ id: 'c', seq: 3 }),
      item({ id: 'a', seq: 1 }),
      item({ id: 'b', seq: 2 }),
      item({ id: 'd', seq: 4 }),
      item({ id: 'x', seq: 0, dropDir: '/other' }),
      item({ id: 'q', seq: 5, state: 'adding' }),
    ];
    const pick = (slots: number, skip: string[] = []) =>
      pickRunnable(items, { now, dropDir: D, kind: 'disk', slots, skip: new Set(skip) }).map((i) => i.id);
    expect(pick(1)).toEqual(['a']);
    expect(pick(2, ['a'])).toEqual(['b', 'c']);
    expect(pick(0)).toEqual([]);
    expect(pick(10)).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('backoff and step errors', () => {
  it.each([
    [1, 2000],
    [2, 4000],
    [3, 8000],
    [4, 16_000],
    [5, 30_000],
    [40, 30_000],
  ])('attempt %i waits %i ms', (attempt, ms) => {
    expect(backoffMs(attempt, 2000, 30_000)).toBe(ms);
  });

  it.each<[Parameters<typeof classifyStepError>, unknown]>([
    [['archiving', 'DISK_SPACE', false], { state: 'waiting', next: 'archiving', retry: 'space' }],
    [['hashing', 'DISK_FULL', false], { state: 'waiting', next: 'archiving', retry: 'space' }],
    [['archiving', 'INPUT', false], { state: 'failed' }],
    [['archiving', 'SEVENZIP_FAILED', false], { state: 'failed' }],
    [['archiving', undefined, false], { state: 'failed' }],
    [['adding', 'QBIT_UNREACHABLE', false], { state: 'waiting', next: 'adding', retry: 'qbit' }],
    [['adding', 'QBIT_TIMEOUT', false], { state: 'waiting', next: 'adding', retry: 'qbit' }],
    [['adding', 'QBIT_AUTH', false], { state: 'waiting', next: 'adding', retry: 'qbit' }],
    [['adding', 'QBIT_AUTH', true], { state: 'waiting', next: 'adding', retry: 'never' }],
    [['adding', 'QBIT_BANNED', true], { state: 'waiting', next: 'adding', retry: 'never' }],
    [['adding', 'QBIT_MISSING_FILES', false], { state: 'failed' }],
    [['adding', 'QBIT_REJECTED', false], { state: 'failed' }],
  ])('%j → %j', (args, want) => {
    expect(classifyStepError(...args)).toEqual(want);
  });
});
