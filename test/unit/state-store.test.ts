import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createStateStore, findShare } from '../../src/state/store.js';
import type { ShareRecord } from '../../src/state/types.js';

function rec(over: Partial<ShareRecord>): ShareRecord {
  return {
    id: 'a1b2c3d4', name: 'burly-duckbill-aviation', source: '/src', encrypted: true, archive: '/d/a.7z', torrentFile: '/d/a.torrent',
    savePath: '/d', infoHash: 'f'.repeat(40), magnet: 'magnet:?', size: 1, trackers: [], private: false,
    createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', state: 'seeding', ...over,
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
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).update((s) => void s.shares.push(rec({ id: `id${i}`, name: `n${i}` })))),
    );
    expect((await a.list()).map((s) => s.id).sort()).toHaveLength(20);
  });

  it('never empties a damaged state file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qshare-state-'));
    const file = join(dir, 'state.json');
    await writeFile(file, '{"version":1,"shares":[{"id"');
    const store = createStateStore(file);
    await expect(store.list()).rejects.toThrow(/is damaged .* left untouched/);
    await expect(store.update(() => {})).rejects.toThrow(/damaged/);
    expect(await readFile(file, 'utf8')).toBe('{"version":1,"shares":[{"id"');
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
    await expect(createStateStore(file, { lockWaitMs: 200 }).update(() => {})).rejects.toThrow(/another qshare process/);
  });
});

describe('findShare', () => {
  const shares = [rec({ id: 'aaaa1111', name: 'one', infoHash: '1'.repeat(40) }), rec({ id: 'aaaa2222', name: 'two', infoHash: '2'.repeat(40) })];
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
