/**
 * The drop-folder watcher on its own, with real files and real filesystem events (chokidar over inotify) in a temp
 * folder: what it reports, when.
 */
import { appendFile, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { watchDropFolder, type DropWatcher, type ReadyItem } from '../../src/watch/watcher.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(50);
  }
}

describe('watchDropFolder (real filesystem events)', () => {
  let w: DropWatcher | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  function start(dir: string, settleMs: number) {
    const ready: Array<ReadyItem & { at: number }> = [];
    const removed: string[] = [];
    w = watchDropFolder({
      dir,
      settleMs,
      log: silentLogger(),
      onReady: (i) => ready.push({ ...i, at: Date.now() }),
      onRemoved: (n) => removed.push(n),
      tickMs: 50,
    });
    return { ready, removed };
  }

  it('a folder written in chunks is reported once, after the last chunk, with all of it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qshare-drop-'));
    const { ready } = start(dir, 800);
    await w!.scanned;
    await mkdir(join(dir, 'Photos', 'day1'), { recursive: true });
    for (let i = 0; i < 8; i++) {
      await appendFile(join(dir, 'Photos', 'day1', 'big.bin'), Buffer.alloc(64 * 1024, i));
      if (i === 4) await writeFile(join(dir, 'Photos', 'late.txt'), 'late');
      await sleep(300);
    }
    const copyEnded = Date.now();
    await until(() => ready.length > 0);
    await sleep(1500);
    expect(ready).toHaveLength(1);
    expect(ready[0]!.name).toBe('Photos');
    expect(ready[0]!.info.bytes).toBe(8 * 64 * 1024 + 4);
    expect(ready[0]!.info.files).toBe(2);
    expect(ready[0]!.at - copyEnded).toBeGreaterThanOrEqual(800);
    await rm(dir, { recursive: true, force: true });
  });

  it('reports items present at start, ignores hidden and temporary names, reports removals', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qshare-drop-'));
    await writeFile(join(dir, 'before.txt'), 'x');
    await mkdir(join(dir, '.qshare'));
    await writeFile(join(dir, '.qshare', 'card.txt'), 'mine');
    const { ready, removed } = start(dir, 300);
    await w!.scanned;
    for (const n of ['.hidden', 'a.part', 'b.crdownload', 'c.tmp', '~$d.docx', '.DS_Store', 'Thumbs.db'])
      await writeFile(join(dir, n), 'tmp');
    await writeFile(join(dir, 'film.mkv.part'), 'partial');
    await until(() => ready.length >= 1);
    await rename(join(dir, 'film.mkv.part'), join(dir, 'film.mkv'));
    await until(() => ready.length >= 2);
    await sleep(800);
    expect(ready.map((r) => r.name).sort()).toEqual(['before.txt', 'film.mkv']);

    // OS noise inside an item does not make it "changed"; a real change does
    await mkdir(join(dir, 'Folder'));
    await writeFile(join(dir, 'Folder', 'a.txt'), 'a');
    await until(() => ready.some((r) => r.name === 'Folder'));
    await writeFile(join(dir, 'Folder', '.DS_Store'), 'finder');
    await sleep(900);
    expect(ready.filter((r) => r.name === 'Folder')).toHaveLength(1);
    await appendFile(join(dir, 'Folder', 'a.txt'), 'more');
    await until(() => ready.filter((r) => r.name === 'Folder').length === 2);

    await rm(join(dir, 'before.txt'));
    await until(() => removed.includes('before.txt'));
    expect(removed).toEqual(['before.txt']);
    await rm(dir, { recursive: true, force: true });
  });
});
