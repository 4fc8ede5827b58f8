/**
 * The drop-folder worker with fake steps (no 7-Zip, no qBittorrent) and a real journal file: the state machine,
 * bounds, waiting/retrying, removal and change rules, resuming and stopping.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QshareError, type ErrorCode } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { createQbitGate } from '../../src/share/qbit-gate.js';
import type { Arrival } from '../../src/share/queue.js';
import { ShareWorker, type WorkerSteps } from '../../src/share/worker.js';
import { openJournal, type Journal, type WatchItem } from '../../src/state/journal.js';

const D = '/drop';
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new QshareError('INTERRUPTED', 'interrupted'));
    });
  });

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(5);
  }
}

const arrival = (entry: string, p: Partial<Arrival> = {}): Arrival => ({
  dropDir: D,
  entry,
  dev: 1,
  ino: entry.length * 1000 + entry.charCodeAt(0),
  fingerprint: 'fp1',
  bytes: 10,
  ...p,
});

interface Fake {
  steps: WorkerSteps;
  calls: string[];
  maxConcurrentArchives: number;
  present: Set<string>;
  /** errors the next archive/add calls throw, in order */
  archiveErrors: ErrorCode[];
  addErrors: ErrorCode[];
  archiveMs: number;
}

function fake(): Fake {
  let n = 0;
  let concurrent = 0;
  const f: Fake = {
    calls: [],
    maxConcurrentArchives: 0,
    present: new Set(),
    archiveErrors: [],
    addErrors: [],
    archiveMs: 20,
    steps: {
      newIdentity: async () => {
        n++;
        return { id: `id${n}`, name: `share-${n}` };
      },
      sourcePresent: async (it) => f.present.has(it.entry),
      resetArchive: async (it) => void f.calls.push(`reset ${it.entry}`),
      archive: async (it, signal) => {
        f.calls.push(`archive ${it.entry} ${it.fingerprint}`);
        concurrent++;
        f.maxConcurrentArchives = Math.max(f.maxConcurrentArchives, concurrent);
        try {
          await sleep(f.archiveMs, signal);
          const code = f.archiveErrors.shift();
          if (code)
            throw new QshareError(
              code,
              code === 'DISK_SPACE' ? 'not enough free space for the encrypted archive' : `archive failed: ${code}`,
            );
        } finally {
          concurrent--;
        }
        return { archive: `/data/archives/${it.name}.7z` };
      },
      hash: async (it) => {
        f.calls.push(`hash ${it.entry}`);
        return { torrentFile: `/t/${it.name}.torrent`, infoHash: 'ab'.repeat(20), magnet: 'magnet:?', size: 10 };
      },
      add: async (it, signal) => {
        await sleep(5, signal);
        const code = f.addErrors.shift();
        if (code) throw new QshareError(code, `qbit: ${code}`);
        f.calls.push(`add ${it.entry}`);
      },
      discard: async (it) => void f.calls.push(`discard ${it.entry}`),
    },
  };
  return f;
}

const RETRY = { baseMs: 20, qbitCapMs: 60, spaceCapMs: 60 };

async function setup(
  f: Fake,
  opts: { concurrency?: number; journal?: Journal; gate?: ReturnType<typeof createQbitGate> } = {},
) {
  const dir = await mkdtemp(join(tmpdir(), 'qshare-worker-'));
  const journal = opts.journal ?? (await openJournal(join(dir, 'watch.json')));
  const stop = new AbortController();
  const w = new ShareWorker({
    journal,
    steps: f.steps,
    gate: opts.gate ?? { blocked: undefined, drop() {} },
    log: silentLogger(),
    dropDir: D,
    concurrency: opts.concurrency ?? 1,
    signal: stop.signal,
    retry: RETRY,
  });
  const byEntry = (e: string) => journal.items().find((i) => i.entry === e && !i.sourceGone);
  const states = () => Object.fromEntries(journal.items().map((i) => [i.entry, i.state]));
  return { w, journal, stop, byEntry, states, file: journal.file };
}

describe('ShareWorker', () => {
  it('shares every arrival exactly once, one archive at a time, in arrival order', async () => {
    const f = fake();
    const names = ['a', 'bb', 'ccc', 'dddd', 'eeeee', 'ffffff'];
    for (const n of names) f.present.add(n);
    const { w, journal } = await setup(f);
    w.start();
    for (const n of names) await w.arrival(arrival(n));
    await until(() => journal.items().every((i) => i.state === 'seeding'));
    expect(f.maxConcurrentArchives).toBe(1);
    expect(f.calls.filter((c) => c.startsWith('archive')).map((c) => c.split(' ')[1])).toEqual(names);
    for (const n of names) expect(f.calls.filter((c) => c === `add ${n}`)).toHaveLength(1);
    // the same arrivals again (a restart, a second report) change nothing
    for (const n of names) await w.arrival(arrival(n));
    await sleep(50);
    expect(f.calls.filter((c) => c.startsWith('archive'))).toHaveLength(names.length);
    // the journal on disk says the same
    const onDisk = JSON.parse(await readFile(journal.file, 'utf8')) as { items: WatchItem[] };
    expect(onDisk.items.map((i) => i.state)).toEqual(names.map(() => 'seeding'));
    expect(new Set(onDisk.items.map((i) => i.name)).size).toBe(names.length);
    await w.stop();
  });

  it('concurrency 2 runs two archives at once, never three', async () => {
    const f = fake();
    const names = ['a', 'bb', 'ccc', 'dddd', 'eeeee'];
    for (const n of names) f.present.add(n);
    const { w, journal } = await setup(f, { concurrency: 2 });
    w.start();
    for (const n of names) await w.arrival(arrival(n));
    await until(() => journal.items().every((i) => i.state === 'seeding'));
    expect(f.maxConcurrentArchives).toBe(2);
    await w.stop();
  });

  it('too little free space: the item waits with the reason, then goes on when there is room', async () => {
    const f = fake();
    f.present.add('big');
    f.archiveErrors.push('DISK_SPACE', 'DISK_SPACE');
    const { w, byEntry, journal } = await setup(f);
    const seen: Array<Partial<WatchItem>> = [];
    const orig = journal.change.bind(journal);
    journal.change = (fn) =>
      orig(fn).finally(() => {
        const i = byEntry('big');
        if (i) seen.push({ state: i.state, next: i.next, reason: i.reason, code: i.code, retryAt: i.retryAt });
      });
    w.start();
    await w.arrival(arrival('big'));
    await until(() => byEntry('big')?.state === 'seeding');
    const waits = seen.filter((s) => s.state === 'waiting');
    expect(waits.length).toBeGreaterThanOrEqual(2);
    expect(waits[0]).toMatchObject({
      next: 'archiving',
      code: 'DISK_SPACE',
      reason: 'not enough free space for the encrypted archive',
    });
    expect(waits[0]!.retryAt).toBeDefined();
    expect(byEntry('big')!.reason).toBeUndefined();
    expect(f.calls.filter((c) => c.startsWith('discard'))).toEqual([]);
    await w.stop();
  });

  it('qBittorrent down: the archive is made once, the hand-over waits and retries with backoff until it works', async () => {
    const f = fake();
    f.present.add('x');
    f.addErrors.push('QBIT_UNREACHABLE', 'QBIT_UNREACHABLE', 'QBIT_UNREACHABLE');
    let drops = 0;
    const { w, byEntry } = await setup(f, { gate: { blocked: undefined, drop: () => void drops++ } as never });
    w.start();
    await w.arrival(arrival('x'));
    await until(() => byEntry('x')?.state === 'waiting');
    expect(byEntry('x')).toMatchObject({ next: 'adding', code: 'QBIT_UNREACHABLE', recorded: true });
    await until(() => byEntry('x')?.state === 'seeding');
    expect(f.calls.filter((c) => c.startsWith('archive'))).toHaveLength(1);
    expect(f.calls.filter((c) => c.startsWith('hash'))).toHaveLength(1);
    expect(drops).toBe(3);
    await w.stop();
  });

  it('a refused login stops every retry: one login attempt in all, items wait without a retry time', async () => {
    const f = fake();
    for (const n of ['a', 'bb', 'ccc']) f.present.add(n);
    let logins = 0;
    const gate = createQbitGate(async () => {
      logins++;
      throw new QshareError('QBIT_AUTH', 'qBittorrent refused the login');
    }, silentLogger());
    f.steps.add = async () => {
      await gate.session();
    };
    const { w, journal } = await setup(f, { gate });
    w.start();
    for (const n of ['a', 'bb', 'ccc']) await w.arrival(arrival(n));
    await until(() => journal.items().length === 3 && journal.items().every((i) => i.state === 'waiting'));
    await sleep(200); // several backoff periods
    expect(logins).toBe(1);
    for (const i of journal.items()) {
      expect(i.retryAt).toBeUndefined();
      expect(i.reason).toContain('refused the login');
    }
    await w.stop();
  });

  it('removed while archiving: the archive step is interrupted, what it made is discarded, the item dropped', async () => {
    const f = fake();
    f.archiveMs = 2000;
    f.present.add('oops');
    const { w, journal } = await setup(f);
    w.start();
    await w.arrival(arrival('oops'));
    await until(() => f.calls.includes('archive oops fp1'));
    f.present.delete('oops');
    const t0 = Date.now();
    await w.removal('oops');
    await until(() => journal.items().length === 0);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(f.calls).toContain('discard oops');
    expect(f.calls.some((c) => c.startsWith('add'))).toBe(false);
    await w.stop();
  });

  it('removed after it was shared: the share goes on to seeding', async () => {
    const f = fake();
    f.present.add('keep');
    f.addErrors.push('QBIT_UNREACHABLE');
    const { w, journal } = await setup(f);
    w.start();
    await w.arrival(arrival('keep'));
    await until(() => journal.items()[0]?.state === 'waiting');
    f.present.delete('keep');
    await w.removal('keep');
    await until(() => journal.items()[0]?.state === 'seeding');
    expect(journal.items()[0]!.sourceGone).toBe(true);
    expect(f.calls.some((c) => c.startsWith('discard'))).toBe(false);
    await w.stop();
  });

  it('changed while archiving: starts again with the new content; changed after sharing: left alone', async () => {
    const f = fake();
    f.archiveMs = 300;
    f.present.add('doc');
    const { w, journal } = await setup(f);
    w.start();
    await w.arrival(arrival('doc'));
    await until(() => f.calls.includes('archive doc fp1'));
    await w.arrival(arrival('doc', { fingerprint: 'fp2' }));
    await until(() => journal.items()[0]?.state === 'seeding');
    expect(f.calls.filter((c) => c.startsWith('archive'))).toEqual(['archive doc fp1', 'archive doc fp2']);
    expect(f.calls).toContain('discard doc');
    expect(journal.items()).toHaveLength(1);

    await w.arrival(arrival('doc', { fingerprint: 'fp3' }));
    await sleep(100);
    expect(journal.items()[0]).toMatchObject({ state: 'seeding', fingerprint: 'fp2', changedNoticed: 'fp3' });
    expect(f.calls.filter((c) => c.startsWith('archive'))).toHaveLength(2);
    await w.stop();
  });

  it('a dropped-in replacement under a shared name is a new share; the first one stays', async () => {
    const f = fake();
    f.present.add('Photos');
    const { w, journal } = await setup(f);
    w.start();
    await w.arrival(arrival('Photos', { ino: 1 }));
    await until(() => journal.items()[0]?.state === 'seeding');
    await w.arrival(arrival('Photos', { ino: 2, fingerprint: 'other' }));
    await until(() => journal.items().length === 2 && journal.items().every((i) => i.state === 'seeding'));
    expect(journal.items()[0]!.sourceGone).toBe(true);
    expect(journal.items()[1]!.name).not.toBe(journal.items()[0]!.name);
    await w.stop();
  });

  it('resumes a journal left by a killed run: shared items go on at once, unshared ones wait for the watcher', async () => {
    const f = fake();
    const dir = await mkdtemp(join(tmpdir(), 'qshare-worker-'));
    const journal = await openJournal(join(dir, 'watch.json'));
    const base = { dropDir: D, dev: 1, fingerprint: 'fp1', bytes: 1, attempts: 0, queuedAt: 'x', updatedAt: 'x' };
    await journal.change((j) => {
      j.items.push(
        {
          ...base,
          id: 'A',
          name: 'share-a',
          entry: 'A',
          source: `${D}/A`,
          ino: 1,
          seq: 1,
          state: 'archiving',
          recorded: false,
        },
        {
          ...base,
          id: 'B',
          name: 'share-b',
          entry: 'B',
          source: `${D}/B`,
          ino: 2,
          seq: 2,
          state: 'adding',
          recorded: true,
        },
        {
          ...base,
          id: 'C',
          name: 'share-c',
          entry: 'C',
          source: `${D}/C`,
          ino: 3,
          seq: 3,
          state: 'queued',
          recorded: false,
        },
        {
          ...base,
          id: 'E',
          name: 'share-e',
          entry: 'E',
          source: `${D}/E`,
          ino: 5,
          seq: 5,
          state: 'waiting',
          next: 'adding',
          recorded: true,
          reason: 'refused',
        },
      );
      j.nextSeq = 6;
    });
    f.present.add('A');
    const { w } = await setup(f, { journal });
    const r = await w.resume();
    expect(r.held.map((i) => i.id)).toEqual(['A', 'C']);
    w.start();
    await until(() => journal.get('B')?.state === 'seeding' && journal.get('E')?.state === 'seeding');
    expect(f.calls.some((c) => c.startsWith('archive'))).toBe(false); // A and C are held
    await w.afterScan(async (e) => f.present.has(e));
    await until(() => journal.get('C') === undefined);
    await w.arrival({ dropDir: D, entry: 'A', dev: 1, ino: 1, fingerprint: 'fp1', bytes: 1 });
    await until(() => journal.get('A')?.state === 'seeding');
    expect(f.calls.filter((c) => c.includes(' A'))).toEqual(['reset A', 'archive A fp1', 'hash A', 'add A']);
    expect(f.calls).toContain('discard C');
    await w.stop();
  });

  it('a stop interrupts the archive and leaves the item where it was for the next start', async () => {
    const f = fake();
    f.archiveMs = 5000;
    f.present.add('slow');
    const { w, journal, stop } = await setup(f);
    w.start();
    await w.arrival(arrival('slow'));
    await until(() => f.calls.includes('archive slow fp1'));
    const t0 = Date.now();
    stop.abort();
    await w.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(journal.items()[0]!.state).toBe('archiving');
    expect(f.calls.some((c) => c.startsWith('discard'))).toBe(false);
    const onDisk = JSON.parse(await readFile(journal.file, 'utf8')) as { items: WatchItem[] };
    expect(onDisk.items[0]!.state).toBe('archiving');
  });

  it('an item that fails for good (unreadable) is failed with its reason and its leftovers discarded', async () => {
    const f = fake();
    f.present.add('bad');
    f.archiveErrors.push('INPUT');
    const { w, byEntry } = await setup(f);
    w.start();
    await w.arrival(arrival('bad'));
    await until(() => byEntry('bad')?.state === 'failed');
    expect(byEntry('bad')).toMatchObject({ code: 'INPUT', reason: 'archive failed: INPUT', recorded: false });
    expect(f.calls).toContain('discard bad');
    await w.stop();
  });
});
