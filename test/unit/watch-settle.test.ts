import { describe, expect, it } from 'vitest';
import { isIgnoredTopName, itemOfEvent, topLevelOf } from '../../src/watch/ignore.js';
import { SettleTracker } from '../../src/watch/settle.js';

/**
 * A fake-clock simulation of the watcher shell around SettleTracker: every `tick` ms it takes the due items,
 * "fingerprints" them (the content version at that time; the walk takes `walkMs`), and records when each item was
 * reported ready and with which content.
 */
interface Scenario {
  settleMs: number;
  quietMs?: number;
  walkMs?: number;
  until: number;
  /** filesystem events the watcher sees: [time, item] */
  events: Array<[number, string]>;
  /** content changes: [time, item, version]; an item with no version yet has version 'v0' */
  content?: Array<[number, string, string]>;
  removals?: Array<[number, string]>;
}

function simulate(s: Scenario): Array<[number, string, string]> {
  const tr = new SettleTracker({ settleMs: s.settleMs, ...(s.quietMs !== undefined ? { quietMs: s.quietMs } : {}) });
  const tick = 100;
  const walk = s.walkMs ?? 0;
  const version = (item: string, t: number) => {
    let v = 'v0';
    for (const [at, it, ver] of s.content ?? []) if (it === item && at <= t) v = ver;
    return v;
  };
  const inflight: Array<{ item: string; fp: string; done: number }> = [];
  const ready: Array<[number, string, string]> = [];
  for (let now = 0; now <= s.until; now += tick) {
    for (const [at, item] of s.events) if (at === now) tr.activity(item, now);
    for (const [at, item] of s.removals ?? []) if (at === now) tr.removed(item);
    for (const f of inflight.splice(0).filter((f) => f.done <= now || !inflight.push(f))) {
      if (tr.observed(f.item, f.fp, f.done) === 'ready') ready.push([f.done, f.item, f.fp]);
    }
    for (const item of tr.takeDue(now)) {
      // the walk reads the tree at its start (a change during it shows up as an event)
      const f = { item, fp: version(item, now), done: now + walk };
      if (walk === 0) {
        if (tr.observed(item, f.fp, now) === 'ready') ready.push([now, item, f.fp]);
      } else inflight.push(f);
    }
  }
  return ready;
}

describe('SettleTracker (fake clock)', () => {
  it.each<[string, Scenario, Array<[number, string, string]>]>([
    [
      'a file that appears and stays: ready after quiet + settle',
      { settleMs: 2000, quietMs: 1000, until: 10_000, events: [[0, 'a']] },
      [[3000, 'a', 'v0']],
    ],
    [
      'a slow copy (a chunk every 500 ms for 5 s): ready only after the last chunk + quiet + settle',
      {
        settleMs: 2000,
        quietMs: 1000,
        until: 15_000,
        events: Array.from({ length: 11 }, (_, i) => [i * 500, 'a'] as [number, string]),
        content: Array.from({ length: 11 }, (_, i) => [i * 500, 'a', `v${i}`] as [number, string, string]),
      },
      [[8000, 'a', 'v10']],
    ],
    [
      'a pause shorter than the settle time does not make it ready half-way',
      {
        settleMs: 2000,
        quietMs: 1000,
        until: 15_000,
        events: [
          [0, 'a'],
          [500, 'a'],
          [1000, 'a'],
          [2500, 'a'],
          [3000, 'a'],
        ],
        content: [
          [0, 'a', 'v1'],
          [1000, 'a', 'v2'],
          [2500, 'a', 'v3'],
          [3000, 'a', 'v4'],
        ],
      },
      [[6000, 'a', 'v4']],
    ],
    [
      'a change no event reported (missed by the OS) is caught by the confirming fingerprint',
      { settleMs: 2000, quietMs: 1000, until: 10_000, events: [[0, 'a']], content: [[2000, 'a', 'v1']] },
      [[5000, 'a', 'v1']],
    ],
    [
      'removed before it settled: never ready',
      { settleMs: 2000, quietMs: 1000, until: 10_000, events: [[0, 'a']], removals: [[2000, 'a']] },
      [],
    ],
    [
      'activity after it was reported with the same content: not reported twice',
      {
        settleMs: 2000,
        quietMs: 1000,
        until: 12_000,
        events: [
          [0, 'a'],
          [5000, 'a'],
        ],
      },
      [[3000, 'a', 'v0']],
    ],
    [
      'a real change after it was reported: reported again with the new content',
      {
        settleMs: 2000,
        quietMs: 1000,
        until: 12_000,
        events: [
          [0, 'a'],
          [5000, 'a'],
        ],
        content: [[5000, 'a', 'v1']],
      },
      [
        [3000, 'a', 'v0'],
        [8000, 'a', 'v1'],
      ],
    ],
    [
      'an event while a slow walk runs: that fingerprint is not trusted',
      {
        settleMs: 2000,
        quietMs: 1000,
        walkMs: 500,
        until: 12_000,
        events: [
          [0, 'a'],
          [1200, 'a'],
        ],
        content: [[1200, 'a', 'v1']],
      },
      // walk 1000–1500 is spoiled by the event at 1200; walk 2200–2700 → stable; confirm 4700–5200 → ready
      [[5200, 'a', 'v1']],
    ],
    [
      'two items settle independently',
      {
        settleMs: 1000,
        quietMs: 500,
        until: 10_000,
        events: [
          [0, 'a'],
          [0, 'b'],
          [2000, 'b'],
        ],
        content: [[2000, 'b', 'v1']],
      },
      [
        [1500, 'a', 'v0'],
        [1500, 'b', 'v0'],
        [3500, 'b', 'v1'],
      ],
    ],
    [
      // a fingerprint taken in the same instant as an event is never trusted, then two equal ones are needed
      'settle 0: ready after two fingerprints that agree, never in the instant of an event',
      { settleMs: 0, until: 1000, events: [[0, 'a']] },
      [[200, 'a', 'v0']],
    ],
  ])('%s', (_name, scenario, expected) => {
    expect(simulate(scenario)).toEqual(expected);
  });

  it('nextDueAt tells the shell when to wake up', () => {
    const tr = new SettleTracker({ settleMs: 2000, quietMs: 1000 });
    expect(tr.nextDueAt()).toBeUndefined();
    tr.activity('a', 100);
    expect(tr.nextDueAt()).toBe(1100);
    expect(tr.takeDue(1099)).toEqual([]);
    expect(tr.takeDue(1100)).toEqual(['a']);
    expect(tr.nextDueAt()).toBeUndefined(); // being checked
    expect(tr.observed('a', 'x', 1150)).toBe('waiting');
    expect(tr.nextDueAt()).toBe(3150);
    expect(tr.observed('zzz', 'x', 1150)).toBe('stale');
  });
});

describe('drop-folder names', () => {
  it.each<[string, boolean]>([
    ['Wedding Photos', false],
    ['report.pdf', false],
    ['a.partial', false],
    ['.hidden', true],
    ['.DS_Store', true],
    ['.qshare', true],
    ['.burly-duckbill-aviation.7z.partial-0a1b2c', true],
    ['film.mkv.part', true],
    ['film.mkv.PART', true],
    ['setup.exe.crdownload', true],
    ['page.download', true],
    ['x.tmp', true],
    ['~$report.docx', true],
    ['~report', false],
    ['Thumbs.db', true],
    ['desktop.ini', true],
    ['.part', true],
    ['tmp', false],
  ])('%s ignored at top level: %s', (name, ignored) => {
    expect(isIgnoredTopName(name)).toBe(ignored);
  });

  it.each<[string, string | undefined]>([
    ['Photos', 'Photos'],
    ['Photos/2024/img.jpg', 'Photos'],
    ['Photos/.DS_Store', undefined],
    ['Photos/sub/Thumbs.db', undefined],
    ['Photos/.hidden-inside', 'Photos'],
    ['Photos/in-progress.part', 'Photos'],
    ['.qshare/burly.txt', undefined],
    ['movie.mkv.part', undefined],
    ['', undefined],
    ['../outside', undefined],
  ])('an event at %j belongs to item %j', (rel, item) => {
    expect(itemOfEvent(rel)).toBe(item);
  });

  it('splits a relative path into item and rest', () => {
    expect(topLevelOf('a/b/c')).toEqual({ top: 'a', nested: 'b/c' });
    expect(topLevelOf('a')).toEqual({ top: 'a', nested: '' });
    expect(topLevelOf('.')).toBeUndefined();
  });
});
