/**
 * qshare's list of shares (state.json) under faults: damaged on disk, and written by several qshare processes at
 * once (`qshare add` while `qshare watch` runs). The built CLI, real files, real 7-Zip, a real qbittorrent-nox.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WatchItem } from '../../src/state/journal.js';
import { CLI, runCli } from '../helpers/cli.js';
import { e2eSetup, ls, qbTorrents, sharedQbitNox, sharesIn, until } from '../helpers/e2e.js';
import { hasQbitNox } from '../helpers/qbit-nox.js';
import { pseudoRandom } from '../helpers/tree.js';

const have7zz = existsSync('/usr/bin/7zz');

describe.skipIf(!have7zz)('a damaged state file', () => {
  it('is kept aside and reported, never emptied; the command goes on with a new list', async () => {
    const s = await e2eSetup(null);
    await mkdir(s.home, { recursive: true });
    const damaged = '{"version":1,"shares":[{"id":"0a1b2c3d","name":"first-ever-share"'; // cut off
    await writeFile(join(s.home, 'state.json'), damaged);
    const src = join(s.dir, 'f');
    await mkdir(src);
    await writeFile(join(src, 'a.txt'), 'hello');

    const r = await runCli(['add', src, '--no-seed', '--json'], { env: s.env });
    expect(r.code, r.stderr).toBe(0);
    const asides = (await ls(s.home)).filter((f) => f.startsWith('state.json.damaged-'));
    expect(asides).toHaveLength(1);
    expect(await readFile(join(s.home, asides[0]!), 'utf8')).toBe(damaged);
    const warning = r.stderr.split('\n').filter((l) => l.includes('was damaged'));
    expect(warning).toHaveLength(1);
    expect(warning[0]).toContain(`it was kept as ${join(s.home, asides[0]!)} and a new, empty list was started`);
    expect((await sharesIn(s.home)).map((x) => x.name)).toEqual([JSON.parse(r.stdout).name]);

    // read-only commands do the same, once
    await writeFile(join(s.home, 'state.json'), 'not json at all');
    const list = await runCli(['ls'], { env: s.env });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stderr).toContain('was damaged (not JSON');
    expect(list.stdout).toContain('No shares yet');
    expect((await ls(s.home)).filter((f) => f.startsWith('state.json.damaged-'))).toHaveLength(2);
    const again = await runCli(['ls'], { env: s.env });
    expect(again.stderr).not.toContain('damaged');
  });
});

describe.skipIf(!have7zz)('a damaged drop-folder journal (watch.json)', () => {
  it('qshare watch refuses to start, saying so and what to do, exit 1; the journal is left as it was', async () => {
    // unlike the list of shares it is not moved aside by itself: without it, items already shared could be shared again
    const s = await e2eSetup(null, { watch: { settleSeconds: 1, writePasswordFile: true } });
    s.env.QSHARE_SECRET_STORE = 'file';
    const drop = join(s.dir, 'ToShare');
    await mkdir(drop);
    await mkdir(s.home, { recursive: true });
    await writeFile(join(s.home, 'watch.json'), '{"version":1,"items":[');
    const r = await runCli(['watch', drop], { env: s.env, timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`the drop-folder journal ${join(s.home, 'watch.json')} is damaged`);
    expect(r.stderr).toContain('move it aside');
    expect(await readFile(join(s.home, 'watch.json'), 'utf8')).toBe('{"version":1,"items":[');
    expect(await ls(s.home)).not.toContain('watch.lock');
  });
});

describe.skipIf(!hasQbitNox() || !have7zz)('two qshare processes at once (real qbittorrent-nox)', () => {
  const nox = sharedQbitNox();

  it('`qshare add` (three at once) while `qshare watch` shares three drops: six shares, none lost, nothing left over', async () => {
    const qb = nox;
    const s = await e2eSetup(qb, { watch: { settleSeconds: 1, writePasswordFile: true } });
    s.env.QSHARE_SECRET_STORE = 'file';
    const drop = join(s.dir, 'ToShare');
    await mkdir(drop);
    const watch = spawn(process.execPath, [CLI, 'watch', drop], { env: s.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    watch.stderr.setEncoding('utf8').on('data', (d: string) => (log += d));
    const exited = new Promise<number | null>((r) => watch.on('close', r));
    try {
      await until('the watcher to start', async () => log.includes('watching '), 20_000);
      const sources = await Promise.all(
        [1, 2, 3].map(async (i) => {
          const src = join(s.dir, `added-${i}`);
          await mkdir(src);
          await writeFile(join(src, 'a.bin'), pseudoRandom(3 * 1024 * 1024, 50 + i));
          return src;
        }),
      );
      const adds = Promise.all(sources.map((src) => runCli(['add', src, '--json'], { env: s.env })));
      for (const i of [1, 2, 3]) await writeFile(join(drop, `dropped-${i}.bin`), pseudoRandom(3 * 1024 * 1024, 60 + i));

      for (const r of await adds) expect(r.code, r.stderr).toBe(0);
      await until(
        'the three drops to seed',
        async () => {
          const j = JSON.parse(await readFile(join(s.home, 'watch.json'), 'utf8').catch(() => '{"items":[]}')) as {
            items: WatchItem[];
          };
          return j.items.length === 3 && j.items.every((i) => i.state === 'seeding');
        },
        90_000,
        200,
      );
      const recs = await sharesIn(s.home);
      expect(recs).toHaveLength(6);
      expect(new Set(recs.map((x) => x.id)).size).toBe(6);
      expect(new Set(recs.map((x) => x.name)).size).toBe(6);
      const seeded = new Set((await qbTorrents(qb)).map((t) => t.hash));
      for (const x of recs) expect(seeded.has(x.infoHash), x.name).toBe(true);
      expect((await ls(join(s.home, 'archives'))).sort()).toEqual(recs.map((x) => `${x.name}.7z`).sort());
      expect((await ls(join(s.home, 'torrents'))).sort()).toEqual(recs.map((x) => `${x.name}.torrent`).sort());
      expect(
        (await ls(s.home)).filter((f) => f.includes('.partial-') || f === 'state.json.lock' || f.includes('damaged')),
      ).toEqual([]);
      expect(await ls(join(s.home, 'pending'))).toEqual([]);
    } finally {
      watch.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 150_000);
});
