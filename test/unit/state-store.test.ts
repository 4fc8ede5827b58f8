import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createStateStore as createStore,
  findShare,
  parseState,
  type StateStoreOptions,
} from '../../src/state/store.js';
import type { ShareRecord } from '../../src/state/types.js';

/** A store whose warnings are collected in `warnings`. */
const warnings: string[] = [];
function createStateStore(file: string, opts: Partial<StateStoreOptions> = {}) {
  return createStore(file, { log: { warn: (m: string) => void warnings.push(m) }, ...opts });
}

function rec(over: Partial<ShareRecord>): ShareRecord {
  return {
    id: 'a1b2c3d4',
    name: 'burly-duckbill-aviation',
    source: '/src',
    encrypted: true,
    archive: '/d/a.7z',
    torrentFile: '/d/a.torrent',
    savePath: '/d',
    infoHash: 'f'.repeat(40),
    magnet: 'magnet:?',
    size: 1,
    trackers: [],
    private: false,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    state: 'seeding',
    ...over,
  };
}

describe('state store', () => {
  it('starts empty, writes atomically with mode 0600, reads back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qshare-state-'));
    const store = createStateStore(join(dir, 'state.json'));
    expect(await store.list()).toEqual([]);
    await store.update((s) => void s.shares.push(rec({})));
    expect((await store.list())[0]?.name).toBe('burly-duckbill-aviation');
    expect((await stat(join(dir, 'state.json'))).mode & 0o777).toBe(0o600);
  });

  it('serialises concurrent updates: none is lost', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qshare-state-'));
    const file = join(dir, 'state.json');
    const a = createStateStore(file);
    const b = createStateStore(file);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).update((s) => void s.shares.push(rec({ id: `id${i}`, name: `n${i}` }))),
      ),
    );
    expect((await a.list()).map((s) => s.id).sort()).toHaveLength(20);
  });

  it('a damaged state file is kept aside and reported, never emptied; a new list starts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qshare-state-'));
    const file = join(dir, 'state.json');
    const damaged = '{"version":1,"shares":[{"id"';
    await writeFile(file, damaged);
    warnings.length = 0;
    const store = createStateStore(file, { now: () => new Date('2026-05-01T10:00:00.000Z') });
    expect(await store.list()).toEqual([]);
    const aside = join(dir, 'state.json.damaged-2026-05-01T10-00-00-000Z');
    expect(await readFile(aside, 'utf8')).toBe(damaged);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`it was kept as ${aside}`);
    await store.update((s) => void s.shares.push(rec({})));
    expect((await store.list()).map((s) => s.id)).toEqual(['a1b2c3d4']);
    expect(warnings).toHaveLength(1); // reported once
    // damaged again, in the same millisecond: a second name, the first copy untouched
    await writeFile(file, 'garbage');
    await store.update(() => {});
    expect(await readFile(aside, 'utf8')).toBe(damaged);
    expect(await readFile(`${aside}-1`, 'utf8')).toBe('garbage');
  });

  it('a state file of a newer qshare is left alone with an error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qshare-state-'));
    const file = join(dir, 'state.json');
    await writeFile(file, '{"version":2,"shares":{}}');
    await expect(createStateStore(file).update(() => {})).rejects.toThrow(/newer qshare .* left untouched/);
    expect(await readFile(file, 'utf8')).toBe('{"version":2,"shares":{}}');
  });

  it.each([
    ['', 'it is empty'],
    ['{"version":1', 'not JSON'],
    ['[]', 'not a qshare list'],
    ['{"version":1,"shares":{}}', 'not a qshare list'],
    ['{"version":1,"shares":[{"id":"x"}]}', 'not complete'],
    ['null', 'not a qshare list'],
  ])('parseState(%j) → damaged: %s', (text, why) => {
    const r = parseState(text, '/s.json');
    expect('damaged' in r && r.damaged).toContain(why);
  });

  it('removes temp files of state writes that died, under the lock', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qshare-state-'));
    const file = join(dir, 'state.json');
    await writeFile(join(dir, '.state.json.partial-0badf00d'), '{"half');
    await createStateStore(file).update((s) => void s.shares.push(rec({})));
    expect((await readdir(dir)).sort()).toEqual(['state.json']);
  });

  it('Ctrl-C while waiting for another process holding the lock → INTERRUPTED at once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qshare-state-'));
    const file = join(dir, 'state.json');
    await writeFile(`${file}.lock`, `${process.pid}\n`);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const t0 = Date.now();
    await expect(createStateStore(file, { signal: ac.signal }).update(() => {})).rejects.toMatchObject({
      code: 'INTERRUPTED',
    });
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('takes over a lock left by a dead process', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qshare-state-'));
    const file = join(dir, 'state.json');
    await writeFile(`${file}.lock`, '999999999\n');
    await createStateStore(file, { lockWaitMs: 2000 }).update((s) => void s.shares.push(rec({})));
    expect(await createStateStore(file).list()).toHaveLength(1);
  });

  it('waits for a live lock, then gives up with words', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qshare-state-'));
    const file = join(dir, 'state.json');
    await writeFile(`${file}.lock`, `${process.pid}\n`);
    await expect(createStateStore(file, { lockWaitMs: 200 }).update(() => {})).rejects.toThrow(
      /another qshare process/,
    );
  });
});

describe('findShare', () => {
  const shares = [
    rec({ id: 'aaaa1111', name: 'one', infoHash: '1'.repeat(40) }),
    rec({ id: 'aaaa2222', name: 'two', infoHash: '2'.repeat(40) }),
  ];
  it.each([
    ['one', 'one'],
    ['TWO', 'two'],
    ['aaaa1111', 'one'],
    ['aaaa2', 'two'],
    ['aaaa', undefined],
    ['1111111111', 'one'],
    ['abc', undefined],
    ['three', undefined],
  ])('%s → %s', (ref, name) => {
    expect(findShare(shares, ref)?.name).toBe(name);
  });
});
