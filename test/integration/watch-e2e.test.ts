/**
 * `qshare watch` end to end, as a user runs it: the built CLI as a long-running process, real files and real
 * filesystem events in temp folders, real 7-Zip, a real qbittorrent-nox on loopback (throwaway profile). Trackers
 * point at a closed loopback port: nothing leaves the machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFailed } from 'vitest';
import type { WatchItem } from '../../src/state/journal.js';
import type { ShareRecord } from '../../src/state/types.js';
import { CLI, cliEnv, runCli } from '../helpers/cli.js';
import { hasQbitNox, startQbitNox, type QbitNox } from '../helpers/qbit-nox.js';
import { qbTorrents, sleep, TRACKER, until as untilHelper, sharedQbitNox } from '../helpers/e2e.js';
import { pseudoRandom, snapshot } from '../helpers/tree.js';

const have7zz = existsSync('/usr/bin/7zz');
// watch reacts in seconds: poll more patiently than the helper's default
const until = <T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 40_000,
  everyMs = 200,
): Promise<T> => untilHelper(what, fn, timeoutMs, everyMs);

interface Setup {
  dir: string;
  home: string;
  drop: string;
  env: NodeJS.ProcessEnv;
}

async function setup(qb: QbitNox, extra: { watch?: object; level?: number } = {}): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'qshare-watch-'));
  const home = join(dir, 'home');
  const drop = join(dir, 'ToShare');
  await mkdir(drop);
  const configFile = join(dir, 'config.json');
  await writeFile(
    configFile,
    JSON.stringify({
      trackers: [TRACKER],
      qbittorrent: { seedWaitSeconds: 30 },
      level: extra.level ?? 0,
      watch: { settleSeconds: 1, writePasswordFile: true, ...extra.watch },
    }),
  );
  const env = cliEnv({
    QSHARE_HOME: home,
    QSHARE_CONFIG: configFile,
    QSHARE_SECRET_STORE: 'file',
    QSHARE_QBIT_URL: qb.url,
    QSHARE_QBIT_USERNAME: qb.username,
    QSHARE_QBIT_PASSWORD: qb.password,
  });
  return { dir, home, drop, env };
}

interface Watcher {
  child: ChildProcess;
  /** every stderr line so far (JSON lines: stderr is not a TTY) */
  lines(): string[];
  logs(): Array<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startWatch(s: Setup): Watcher {
  onTestFailed(async () => {
    console.error(
      `--- qshare watch log ---\n${lines().join('\n')}\n--- journal ---\n${JSON.stringify(await journal(s), null, 1)}`,
    );
  });
  const child = spawn(process.execPath, [CLI, 'watch', s.drop], { env: s.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('close', (code, signal) => r({ code, signal })),
  );
  const lines = () => err.split('\n').filter((l) => l.trim() !== '');
  return {
    child,
    exited,
    lines,
    logs: () =>
      lines().flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
  };
}

async function started(w: Watcher): Promise<void> {
  await until(
    'the watcher to start',
    async () =>
      w.logs().some((l) => String(l.msg).startsWith('watching ')) ||
      (w.child.exitCode !== null && Promise.reject(new Error(w.lines().join('\n')))),
    20_000,
    50,
  );
}

async function stopWatch(w: Watcher): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
  return w.exited;
}

async function journal(s: Setup): Promise<WatchItem[]> {
  try {
    return (JSON.parse(await readFile(join(s.home, 'watch.json'), 'utf8')) as { items: WatchItem[] }).items;
  } catch {
    return [];
  }
}

async function shares(s: Setup): Promise<ShareRecord[]> {
  try {
    return (JSON.parse(await readFile(join(s.home, 'state.json'), 'utf8')) as { shares: ShareRecord[] }).shares;
  } catch {
    return [];
  }
}

function sevenZip(args: string[], stdin: string): Promise<number | null> {
  return new Promise((resolve) => {
    const p = spawn('7zz', args, { stdio: ['pipe', 'ignore', 'ignore'], env: { ...process.env, LC_ALL: 'C.UTF-8' } });
    p.on('close', resolve);
    p.stdin.end(stdin);
  });
}

async function password(s: Setup, name: string): Promise<string> {
  return (await readFile(join(s.drop, '.qshare', `${name}.password.txt`), 'utf8')).trim();
}

const allSeeding = (items: WatchItem[], n: number) => items.length === n && items.every((i) => i.state === 'seeding');

describe.skipIf(!hasQbitNox() || !have7zz)(
  'qshare watch (real qbittorrent-nox, real 7-Zip, real filesystem events)',
  () => {
    const qb = sharedQbitNox();

    it('a folder copied in slowly is shared once, after the copy ends, with the whole content; SIGTERM stops it cleanly', async () => {
      const s = await setup(qb, { watch: { settleSeconds: 1.5 } });
      const w = startWatch(s);
      try {
        await started(w);
        const src = join(s.drop, 'Holiday 2026');
        await mkdir(join(src, 'day 1'), { recursive: true });
        for (let i = 0; i < 12; i++) {
          await appendFile(join(src, 'day 1', 'video.bin'), pseudoRandom(100_000, i + 1));
          if (i === 6) await writeFile(join(src, 'notes été.txt'), 'written half-way through\n');
          await sleep(350);
        }
        const copyEnded = Date.now();
        const items = await until(
          'the share to seed',
          async () => {
            const j = await journal(s);
            return allSeeding(j, 1) && j;
          },
          30_000,
        );
        const it0 = items[0]!;
        expect(Date.parse(it0.queuedAt)).toBeGreaterThanOrEqual(copyEnded);
        expect(it0.entry).toBe('Holiday 2026');
        expect(it0.bytes).toBe(12 * 100_000 + 'written half-way through\n'.length);

        // exactly one share, seeding in qBittorrent, complete
        const recs = await shares(s);
        expect(recs).toHaveLength(1);
        expect(recs[0]!.infoHash).toBe(it0.infoHash);
        const mine = (await qbTorrents(qb)).filter((t) => t.hash === it0.infoHash);
        expect(mine).toHaveLength(1);
        expect(mine[0]!.progress).toBe(1);
        expect(w.logs().filter((l) => String(l.msg).startsWith('queued '))).toHaveLength(1);

        // the archive holds the whole, final content, and only the password opens it
        const pw = await password(s, it0.name);
        const x = join(s.dir, 'extracted');
        expect(await sevenZip(['x', `-o${x}`, '--', recs[0]!.archive!], `${pw}\n`)).toBe(0);
        expect(await snapshot(join(x, 'Holiday 2026'))).toEqual(await snapshot(src));
        expect(await sevenZip(['t', '--', recs[0]!.archive!], 'wrong password\n')).toBe(2);

        // the outputs beside the drop folder; the password is in the secret store too, never in a log or the journal
        const out = (await readdir(join(s.drop, '.qshare'))).sort();
        expect(out).toEqual([`${it0.name}.password.txt`, `${it0.name}.torrent`, `${it0.name}.txt`]);
        const card = await readFile(join(s.drop, '.qshare', `${it0.name}.txt`), 'utf8');
        expect(card).toContain(it0.magnet!);
        expect(card).toContain(`qshare show ${it0.name}`);
        expect(card).not.toContain(pw);
        expect(await readFile(join(s.drop, '.qshare', `${it0.name}.torrent`))).toEqual(
          await readFile(recs[0]!.torrentFile),
        );
        expect(await readFile(join(s.home, 'secrets.json'), 'utf8')).toContain(`share:${it0.id}`);
        expect(w.lines().join('\n')).not.toContain(pw);
        expect(await readFile(join(s.home, 'watch.json'), 'utf8')).not.toContain(pw);
        expect(await readFile(join(s.home, 'state.json'), 'utf8')).not.toContain(pw);

        const t0 = Date.now();
        const end = await stopWatch(w);
        expect(end.code, w.lines().join('\n')).toBe(0);
        expect(Date.now() - t0).toBeLessThan(5000);
        expect(w.logs().some((l) => l.msg === 'stopped')).toBe(true);
      } finally {
        await stopWatch(w);
      }
    }, 120_000);

    it('20 items dropped at once are all shared, exactly once each', async () => {
      const s = await setup(qb);
      const w = startWatch(s);
      try {
        await started(w);
        const names: string[] = [];
        for (let i = 0; i < 20; i++) {
          const n = i % 2 === 0 ? `file-${i}.bin` : `folder-${i}`;
          names.push(n);
          if (i % 2 === 0) await writeFile(join(s.drop, n), pseudoRandom(20_000 + i, i + 100));
          else {
            await mkdir(join(s.drop, n, 'sub'), { recursive: true });
            await writeFile(join(s.drop, n, 'sub', 'a.bin'), pseudoRandom(10_000 + i, i + 200));
          }
        }
        const items = await until(
          '20 shares to seed',
          async () => {
            const j = await journal(s);
            return allSeeding(j, 20) && j;
          },
          120_000,
        );
        expect(items.map((i) => i.entry).sort()).toEqual([...names].sort());
        expect(new Set(items.map((i) => i.name)).size).toBe(20);
        const recs = await shares(s);
        expect(recs).toHaveLength(20);
        expect(new Set(recs.map((r) => r.source)).size).toBe(20);
        const hashes = new Set(recs.map((r) => r.infoHash));
        const inQbit = (await qbTorrents(qb)).filter((t) => hashes.has(String(t.hash)));
        expect(inQbit).toHaveLength(20);
        for (const t of inQbit) expect(t.progress).toBe(1);
        const archives = await readdir(join(s.home, 'archives'));
        expect(archives.filter((a) => a.endsWith('.7z'))).toHaveLength(20);
        expect(archives.filter((a) => a.includes('.partial-'))).toEqual([]);
        // one archive at a time (watch.concurrency 1): every "archiving" line is followed by that item's "shared" line
        const seq = w
          .logs()
          .filter((l) => l.state === 'archiving' || l.state === 'adding')
          .map((l) => `${l.state}:${l.item}`);
        for (let i = 0; i < seq.length; i += 2) {
          expect(seq[i]!.startsWith('archiving:')).toBe(true);
          expect(seq[i + 1]).toBe(`adding:${seq[i]!.slice('archiving:'.length)}`);
        }
      } finally {
        await stopWatch(w);
      }
    }, 120_000);

    it('killed with SIGKILL mid-archive, then restarted: the item completes, no partial file is left, nothing is shared twice', async () => {
      const s = await setup(qb, { level: 1 });
      const big = join(s.dir, 'big.bin');
      await writeFile(big, pseudoRandom(48 * 1024 * 1024, 9));
      const archives = join(s.home, 'archives');
      const w1 = startWatch(s);
      let partial: string | undefined;
      try {
        await started(w1);
        await writeFile(join(s.drop, 'big.bin'), await readFile(big));
        partial = await until(
          '7-Zip to write its partial archive',
          async () => (await readdir(archives).catch(() => [] as string[])).find((f) => f.includes('.partial-')),
          30_000,
          20,
        );
        w1.child.kill('SIGKILL');
        expect((await w1.exited).signal).toBe('SIGKILL');
      } finally {
        await stopWatch(w1);
      }
      expect((await journal(s))[0]!.state).toBe('archiving');

      const w2 = startWatch(s);
      try {
        await started(w2);
        const items = await until(
          'the share to seed after the restart',
          async () => {
            const j = await journal(s);
            return allSeeding(j, 1) && j;
          },
          90_000,
        );
        expect(w2.lines().join('\n')).toContain(
          `removed a partial file left by an interrupted run: ${join(archives, partial!)}`,
        );
        const files = await readdir(archives);
        expect(files).toEqual([`${items[0]!.name}.7z`]);
        const recs = await shares(s);
        expect(recs).toHaveLength(1);
        expect((await qbTorrents(qb)).filter((t) => t.hash === recs[0]!.infoHash)).toHaveLength(1);
        // the password kept for the (re-made) archive opens it
        expect(await sevenZip(['t', '--', join(archives, files[0]!)], `${await password(s, items[0]!.name)}\n`)).toBe(
          0,
        );
      } finally {
        await stopWatch(w2);
      }
      await rm(s.dir, { recursive: true, force: true });
    }, 120_000);

    it('temp and hidden files are ignored; a change after sharing is logged and left alone', async () => {
      const s = await setup(qb);
      const w = startWatch(s);
      try {
        await started(w);
        await mkdir(join(s.drop, '.hidden folder'));
        await writeFile(join(s.drop, '.hidden folder', 'x.txt'), 'hidden');
        for (const n of [
          '.hidden.txt',
          'movie.mkv.part',
          'setup.exe.crdownload',
          'scratch.tmp',
          '~$report.docx',
          '.DS_Store',
          'Thumbs.db',
        ])
          await writeFile(join(s.drop, n), 'temporary');
        await writeFile(join(s.drop, 'real.txt'), 'the real thing\n');
        const items = await until('real.txt to seed', async () => {
          const j = await journal(s);
          return j.length > 0 && j.every((i) => i.state === 'seeding') && j;
        });
        await sleep(3000); // several settle periods: nothing else may turn up
        expect((await journal(s)).map((i) => i.entry)).toEqual(['real.txt']);
        expect(await shares(s)).toHaveLength(1);
        const name = items[0]!.name;
        expect((await readdir(join(s.drop, '.qshare'))).sort()).toEqual([
          `${name}.password.txt`,
          `${name}.torrent`,
          `${name}.txt`,
        ]);

        await appendFile(join(s.drop, 'real.txt'), 'edited later\n');
        await until(
          'the change to be logged',
          async () => w.logs().some((l) => String(l.msg).includes('changed after it was shared')),
          20_000,
        );
        await sleep(1500);
        expect(await shares(s)).toHaveLength(1);
        expect(await journal(s)).toHaveLength(1);
        expect((await journal(s))[0]!.state).toBe('seeding');
      } finally {
        await stopWatch(w);
      }
      await rm(s.dir, { recursive: true, force: true });
    }, 120_000);
  },
);

describe.skipIf(!hasQbitNox() || !have7zz)('qshare watch while qBittorrent is down', () => {
  it('qBittorrent stopped while items arrive, then started: every item ends up seeding, with one login', async () => {
    const qb = await startQbitNox();
    const s = await setup(qb);
    const w = startWatch(s);
    try {
      await qb.kill();
      await started(w);
      for (const n of ['one.bin', 'two.bin', 'three.bin'])
        await writeFile(join(s.drop, n), pseudoRandom(30_000, n.length));
      await until('all three to wait for qBittorrent', async () => {
        const j = await journal(s);
        return (
          j.length === 3 &&
          j.every((i) => i.state === 'waiting' && i.next === 'adding' && i.code === 'QBIT_UNREACHABLE' && i.recorded)
        );
      });
      // the journal is written just before the log line, which then crosses a pipe
      await until(
        'the wait to be logged',
        async () => /waits: nothing is listening at http:\/\/127\.0\.0\.1:\d+/.test(w.lines().join('\n')),
        5_000,
      );
      await qb.restart();
      await until('all three to seed', async () => allSeeding(await journal(s), 3), 90_000);
      const hashes = new Set((await shares(s)).map((r) => r.infoHash));
      const inQbit = (await qbTorrents(qb)).filter((t) => hashes.has(String(t.hash)));
      expect(inQbit).toHaveLength(3);
      for (const t of inQbit) expect(t.progress).toBe(1);
      expect(w.logs().filter((l) => String(l.msg).startsWith('connected to qBittorrent'))).toHaveLength(1);
    } finally {
      await stopWatch(w);
      await qb.stop();
    }
    await rm(s.dir, { recursive: true, force: true });
  }, 120_000);
});

describe.skipIf(!hasQbitNox() || !have7zz)('qshare watch with a wrong Web UI password', () => {
  it('logs in once, never again: the items wait with the reason, and the address is not banned', async () => {
    // two failed logins would ban 127.0.0.1: a retry loop could not go unnoticed
    const qb = await startQbitNox({ extraConf: { Preferences: { 'WebUI\\MaxAuthenticationFailCount': '2' } } });
    const s = await setup(qb);
    s.env.QSHARE_QBIT_PASSWORD = 'definitely-wrong';
    const w = startWatch(s);
    try {
      await started(w);
      for (const n of ['a.bin', 'b.bin']) await writeFile(join(s.drop, n), pseudoRandom(10_000, n.charCodeAt(0)));
      await until('both to wait for a restart', async () => {
        const j = await journal(s);
        return (
          j.length === 2 && j.every((i) => i.state === 'waiting' && i.code === 'QBIT_AUTH' && i.retryAt === undefined)
        );
      });
      await sleep(8000); // several backoff periods of the qBittorrent-down case
      const blocked = w
        .logs()
        .filter((l) => String(l.msg).includes('will not try to log in to qBittorrent again until it is restarted'));
      expect(blocked).toHaveLength(1);
      expect(w.lines().join('\n')).not.toContain('definitely-wrong');
      // one failed login so far: the right password still gets in (a second failure would have banned us)
      expect(await qb.login()).toMatch(/^SID=/);
    } finally {
      await stopWatch(w);
      await qb.stop();
    }
    await rm(s.dir, { recursive: true, force: true });
  }, 120_000);
});

describe('qshare watch: setup problems and --install-service (no qBittorrent needed)', () => {
  it('refuses to run with nowhere to keep passwords, saying what to do', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qshare-watch-'));
    const env = cliEnv({
      QSHARE_HOME: join(dir, 'home'),
      QSHARE_CONFIG: join(dir, 'none.json'),
      QSHARE_SECRET_STORE: 'none',
    });
    const r = await runCli(['watch', join(dir, 'drop')], { env, timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('qshare watch makes a new password for every share and needs somewhere to keep it');
    expect(r.stderr).toContain('writePasswordFile');
  });

  it('refuses a drop folder inside the data folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qshare-watch-'));
    const env = cliEnv({
      QSHARE_HOME: join(dir, 'home'),
      QSHARE_CONFIG: join(dir, 'none.json'),
      QSHARE_SECRET_STORE: 'file',
    });
    const r = await runCli(['watch', join(dir, 'home', 'drop')], { env, timeoutMs: 20_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/must not be inside one another/);
  });

  it('--install-service writes a systemd user unit running this watch, and no password', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qshare-watch-'));
    const env = cliEnv({
      HOME: dir,
      XDG_CONFIG_HOME: join(dir, 'cfg'),
      QSHARE_HOME: join(dir, 'home'),
      QSHARE_QBIT_PASSWORD: 'never-in-the-unit',
    });
    const r = await runCli(['watch', join(dir, 'My Drop'), '--install-service'], { env });
    expect(r.code, r.stderr).toBe(0);
    const unit = await readFile(join(dir, 'cfg', 'systemd', 'user', 'qshare-watch.service'), 'utf8');
    expect(unit).toContain(`ExecStart="${process.execPath}" "${CLI}" "watch" "${join(dir, 'My Drop')}"`);
    expect(unit).toContain(`Environment="QSHARE_HOME=${join(dir, 'home')}"`);
    expect(unit).not.toContain('never-in-the-unit');
    expect(r.stdout).toContain('systemctl --user enable --now qshare-watch');
    expect(existsSync(join(dir, 'My Drop'))).toBe(false); // nothing else was done
  });
});
