import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cleanDeadRuns,
  isDead,
  parseEntry,
  pendingNames,
  reservePending,
  type PendingEnv,
} from '../../src/share/pending.js';

const NOW = Date.parse('2026-05-01T12:00:00.000Z');
const env = (over: Partial<PendingEnv> = {}): PendingEnv => ({
  pid: 100,
  host: 'here',
  alive: (p) => p === 100 || p === 200,
  now: NOW,
  ...over,
});

describe('isDead', () => {
  it.each([
    ['this run', { pid: 100, host: 'here', startedAt: '2026-05-01T11:59:00.000Z' }, false],
    ['another live run', { pid: 200, host: 'here', startedAt: '2026-05-01T11:00:00.000Z' }, false],
    ['a run whose process is gone', { pid: 300, host: 'here', startedAt: '2026-05-01T11:59:59.000Z' }, true],
    ['another machine, recent', { pid: 300, host: 'there', startedAt: '2026-05-01T00:00:00.000Z' }, false],
    ['another machine, over a day old', { pid: 300, host: 'there', startedAt: '2026-04-30T11:00:00.000Z' }, true],
  ])('%s → %s', (_w, e, dead) => {
    expect(isDead(e, env())).toBe(dead);
  });
});

describe('parseEntry', () => {
  it.each([
    ['{"name":"a","pid":1,"host":"h","startedAt":"x","files":["/d/a.7z"]}', true],
    ['{"name":"a","pid":1,"host":"h","startedAt":"x","files":["relative"]}', false],
    ['{"name":"a","pid":"1","host":"h","startedAt":"x","files":[]}', false],
    ['', false],
    ['{', false],
  ])('%s → %s', (text, ok) => {
    expect(parseEntry(text) !== undefined).toBe(ok);
  });
});

async function layout() {
  const root = await mkdtemp(join(tmpdir(), 'qshare-pending-'));
  const dir = join(root, 'pending');
  const archives = join(root, 'archives');
  const torrents = join(root, 'torrents');
  await Promise.all([mkdir(dir), mkdir(archives), mkdir(torrents)]);
  return { root, dir, archives, torrents };
}

describe('reservePending / cleanDeadRuns (real files)', () => {
  it('reserves a name exclusively, and releases it', async () => {
    const { dir } = await layout();
    const run = await reservePending(dir, { name: 'a-b-c', files: ['/x/a-b-c.7z'] }, env());
    expect(await pendingNames(dir)).toEqual(new Set(['a-b-c']));
    await expect(reservePending(dir, { name: 'a-b-c', files: [] }, env({ pid: 200 }))).rejects.toMatchObject({
      code: 'USAGE',
    });
    await run.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it("removes a dead run's archive, .torrent and partials; keeps a file a share holds, and live runs' files", async () => {
    const { dir, archives, torrents } = await layout();
    const deadArchive = join(archives, 'dead-run-x.7z');
    const deadTorrent = join(torrents, 'dead-run-x.torrent');
    await reservePending(dir, { name: 'dead-run-x', files: [deadArchive, deadTorrent] }, env({ pid: 300 }));
    await writeFile(deadArchive, 'made');
    await writeFile(join(archives, '.dead-run-x.7z.partial-abcdef012345'), 'half');
    await writeFile(join(archives, '.dead-run-x.7z.partial-abcdef012345.001'), 'half');
    await writeFile(deadTorrent, 'held by a record');

    const liveArchive = join(archives, 'live-run-y.7z');
    await reservePending(dir, { name: 'live-run-y', files: [liveArchive] }, env({ pid: 200 }));
    await writeFile(join(archives, '.live-run-y.7z.partial-0123456789ab'), 'growing');
    await writeFile(join(archives, 'other.7z'), 'not ours to judge');

    const removed = await cleanDeadRuns(dir, (p) => p === deadTorrent, env());
    expect(removed.sort()).toEqual(
      [
        deadArchive,
        join(archives, '.dead-run-x.7z.partial-abcdef012345'),
        join(archives, '.dead-run-x.7z.partial-abcdef012345.001'),
      ].sort(),
    );
    expect((await readdir(archives)).sort()).toEqual(['.live-run-y.7z.partial-0123456789ab', 'other.7z']);
    expect(await readdir(torrents)).toEqual(['dead-run-x.torrent']);
    expect(await readdir(dir)).toEqual(['live-run-y.json']);
  });

  it('a dead run that made nothing yet: its entry goes, nothing is reported removed', async () => {
    const { dir, archives } = await layout();
    await reservePending(
      dir,
      { name: 'early-death-z', files: [join(archives, 'early-death-z.7z')] },
      env({ pid: 300 }),
    );
    expect(await cleanDeadRuns(dir, () => false, env())).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('leaves an entry it cannot read', async () => {
    const { dir } = await layout();
    await writeFile(join(dir, 'odd.json'), 'not json');
    expect(await cleanDeadRuns(dir, () => false, env())).toEqual([]);
    expect(await readdir(dir)).toEqual(['odd.json']);
  });
});
