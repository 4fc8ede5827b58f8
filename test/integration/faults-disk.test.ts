/**
 * A disk that fills up, for real: qshare's data folder (QSHARE_HOME) on a small tmpfs (mounting needs root).
 * The free-space check before archiving passes (there is room when it looks); then another process fills the disk
 * while 7-Zip writes, as a download or a backup running at the same time would.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { e2eSetup, ls, sharesIn, until, sharedQbitNox } from '../helpers/e2e.js';
import { hasQbitNox } from '../helpers/qbit-nox.js';
import { pseudoRandom, snapshot } from '../helpers/tree.js';

const isRoot = process.getuid?.() === 0;
const have7zz = existsSync('/usr/bin/7zz');

function sh(cmd: string, args: string[]): Promise<number | null> {
  return new Promise((resolve) => spawn(cmd, args, { stdio: 'ignore' }).on('close', resolve));
}

async function withTmpfs<T>(dir: string, size: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(dir, { recursive: true });
  expect(await sh('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir])).toBe(0);
  try {
    return await fn();
  } finally {
    await sh('umount', [dir]);
  }
}

/** What qshare left in its data folder: no archive, .torrent, partial file, pending run or share. */
async function leftovers(home: string): Promise<Record<string, unknown>> {
  return {
    archives: await ls(join(home, 'archives')),
    torrents: await ls(join(home, 'torrents')),
    pending: await ls(join(home, 'pending')),
    top: (await ls(home)).filter((f) => f.includes('.partial-')),
    shares: await sharesIn(home),
  };
}
const NOTHING = { archives: [], torrents: [], pending: [], top: [], shares: [] };

describe.skipIf(!isRoot || !have7zz)('a full disk (QSHARE_HOME on a small tmpfs, as root)', () => {
  it('fills up while 7-Zip writes the archive: one message naming the folder, exit 1, nothing left; the re-run succeeds', async () => {
    const s = await e2eSetup(null);
    const src = join(s.dir, 'Photos');
    await mkdir(src);
    await writeFile(join(src, 'a.bin'), pseudoRandom(20 * 1024 * 1024, 31));
    const before = await snapshot(src);
    // 48 MiB: more than the check asks for a 20 MiB source (20 MiB + 1 % + 16 MiB), so the check passes
    await withTmpfs(s.home, '48m', async () => {
      const filler = join(s.home, 'someone-elses-download');
      const r = await runCli(['add', src, '--no-seed', '--level', '1'], {
        env: s.env,
        onSpawn: () => {
          // once 7-Zip writes, another program takes every free byte (dd stops at "No space left on device")
          void until('the partial archive', async () =>
            (await ls(join(s.home, 'archives'))).some((f) => f.includes('.partial-')),
          ).then(() => sh('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k']));
        },
      });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(
        `qshare: the disk holding ${join(s.home, 'archives')} filled up while 7-Zip was writing the archive; the partial archive was deleted`,
      );
      expect(r.stderr).toContain('free some space there');
      expect(r.stderr).not.toMatch(/unexpected error|\n\s+at /);
      expect(await leftovers(s.home)).toEqual(NOTHING);
      expect(await snapshot(src)).toEqual(before);

      await rm(filler);
      const again = await runCli(['add', src, '--no-seed', '--level', '1', '--json'], { env: s.env });
      expect(again.code, again.stderr).toBe(0);
      const out = JSON.parse(again.stdout);
      expect(await ls(join(s.home, 'archives'))).toEqual([`${out.name}.7z`]);
      expect((await sharesIn(s.home)).map((x) => x.name)).toEqual([out.name]);
    });
    await rm(s.dir, { recursive: true, force: true });
  }, 120_000);

  it('no room for the .torrent (--no-encrypt): DISK_FULL naming the file, nothing left; the re-run succeeds', async () => {
    const s = await e2eSetup(null);
    const src = join(s.dir, 'Photos');
    await mkdir(src);
    await writeFile(join(src, 'a.bin'), pseudoRandom(256 * 1024, 32));
    await withTmpfs(s.home, '1m', async () => {
      // leave one page: the run's small pending entry fits, the .torrent does not
      const st = await statfs(s.home);
      const filler = join(s.home, 'filler');
      await writeFile(filler, Buffer.alloc(Number(st.bavail) * Number(st.bsize) - 4096));
      const r = await runCli(['add', src, '--no-encrypt', '--no-seed'], { env: s.env });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `qshare: the disk is full: could not write ${join(s.home, 'torrents')}/[a-z]+-[a-z]+-[a-z]+\\.torrent; nothing was changed`,
        ),
      );
      expect(r.stderr).not.toMatch(/unexpected error|\n\s+at /);
      expect(await leftovers(s.home)).toEqual(NOTHING);

      await rm(filler);
      const again = await runCli(['add', src, '--no-encrypt', '--no-seed', '--json'], { env: s.env });
      expect(again.code, again.stderr).toBe(0);
      expect(await sharesIn(s.home)).toHaveLength(1);
    });
    await rm(s.dir, { recursive: true, force: true });
  }, 60_000);
});

describe.skipIf(!isRoot || !have7zz || !hasQbitNox())(
  'qshare stop with the data folder full (a real qbittorrent-nox)',
  () => {
    const qb = sharedQbitNox();
    const listed = async (hash: string) => ((await qb.api(`torrents/info?hashes=${hash}`)) as unknown[]).length > 0;

    it('stop: DISK_FULL without a stack, nothing changed (still seeding, no lock left), the next command does not wait; with room it stops', async () => {
      const s = await e2eSetup(qb);
      const src = join(s.dir, 'Photos');
      await mkdir(src);
      await writeFile(join(src, 'a.bin'), pseudoRandom(100_000, 33));
      // room for add's free-space check (the size + 16 MiB), then filled
      await withTmpfs(s.home, '24m', async () => {
        const add = await runCli(['add', src, '--json'], { env: s.env });
        expect(add.code, add.stderr).toBe(0);
        const share = JSON.parse(add.stdout) as { name: string; infoHash: string };
        const filler = join(s.home, 'filler');
        expect(await sh('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'])).not.toBeNull();
        expect(Number((await statfs(s.home)).bavail)).toBe(0);

        const r = await runCli(['stop', share.name], { env: s.env });
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toMatch(/^qshare: the disk is full: could not write .*state\.json/m);
        expect(r.stderr).not.toMatch(/unexpected error|\n\s+at /);
        expect(await listed(share.infoHash)).toBe(true);
        expect(
          (await ls(s.home)).filter((f) => f.includes('.lock') || f.includes('.partial-') || f.includes('.new-')),
        ).toEqual([]);
        const started = Date.now();
        const after = await runCli(['ls', '--json'], { env: s.env });
        expect(after.code, after.stderr).toBe(0);
        expect(Date.now() - started).toBeLessThan(10_000);
        expect(JSON.parse(after.stdout).shares[0]).toMatchObject({ name: share.name, state: 'seeding' });

        await rm(filler);
        const again = await runCli(['stop', share.name], { env: s.env });
        expect(again.code, again.stderr).toBe(0);
        expect(await listed(share.infoHash)).toBe(false);
        expect(JSON.parse((await runCli(['ls', '--json'], { env: s.env })).stdout).shares[0].state).toBe('stopped');
      });
      await rm(s.dir, { recursive: true, force: true });
    }, 120_000);
  },
);
