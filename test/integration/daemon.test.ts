/**
 * qshare's own qBittorrent: `qshare add` with nothing listening at the default address starts a real qbittorrent-nox
 * (loopbackOnly: 127.0.0.1, no DHT/PeX/LSD/UPnP), seeds through it, and `qshare daemon stop|start|status` control it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli } from '../helpers/cli.js';
import { hasQbitNox } from '../helpers/qbit-nox.js';

const have7zz = existsSync('/usr/bin/7zz');
const TRACKER = 'http://127.0.0.1:9/announce';
let dir: string | undefined;
let env: NodeJS.ProcessEnv;

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** running, not a zombie waiting for a parent that is not ours to reap it */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
};

afterAll(async () => {
  if (dir) {
    // never leave a daemon behind, even when a test failed half-way
    await runCli(['daemon', 'stop'], { env }).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
});

// The managed instance starts only when nothing answers at the default address. On a developer's machine whose own
// qBittorrent holds 127.0.0.1:8080 this test cannot run without touching it, so it is skipped there (never in CI,
// where nothing else runs).
const defaultPortFree = await portFree(8080);
if (!defaultPortFree)
  console.warn('daemon.test.ts skipped: something listens at 127.0.0.1:8080 (your own qBittorrent?)');

describe.skipIf(!hasQbitNox() || !have7zz || !defaultPortFree)('the managed qBittorrent (real qbittorrent-nox)', () => {
  it('first run on a headless machine: add with nothing at the default address starts it and seeds; daemon status/stop/start control it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'qshare-daemon-'));
    const home = join(dir, 'home');
    const configFile = join(dir, 'config.json');
    await writeFile(
      configFile,
      JSON.stringify({ trackers: [TRACKER], qbittorrent: { seedWaitSeconds: 30 }, managed: { loopbackOnly: true } }),
    );
    // a fresh headless machine: the default secret store, no session bus (cliEnv drops it), nothing configured but
    // what keeps the test on loopback: the managed qBittorrent's password goes to the owner-only file
    env = cliEnv({ QSHARE_HOME: home, QSHARE_CONFIG: configFile });
    const src = join(dir, 'Holiday');
    await mkdir(src);
    await writeFile(join(src, 'a.txt'), 'x'.repeat(100_000));

    const before = await runCli(['daemon', 'status'], { env });
    expect(before.stdout).toMatch(/^qshare's qBittorrent is not running; profile /);

    const add = await runCli(['add', src, '--json'], { env });
    expect(add.code, add.stderr).toBe(0);
    expect(add.stderr).toMatch(
      /nothing is listening at http:\/\/127\.0\.0\.1:8080: started qshare's own qBittorrent at http:\/\/127\.0\.0\.1:\d+/,
    );
    const share = JSON.parse(add.stdout);
    expect(share.state).toBe('seeding');

    const st = JSON.parse((await runCli(['daemon', 'status', '--json'], { env })).stdout);
    expect(st).toMatchObject({
      running: true,
      installed: true,
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      profileDir: join(home, 'qbittorrent'),
    });
    expect(alive(st.pid)).toBe(true);
    expect((await readFile(`/proc/${st.pid}/cmdline`, 'utf8')).split('\0')).toContain(
      `--profile=${join(home, 'qbittorrent')}`,
    );

    // its Web UI: 127.0.0.1 only, user qshare, the random password only in the secret store (the opt-in file here)
    const conf = await readFile(join(home, 'qbittorrent', 'qBittorrent', 'config', 'qBittorrent.conf'), 'utf8');
    expect(conf).toMatch(/^WebUI\\Address=127\.0\.0\.1$/m);
    expect(conf).toMatch(/^Accepted=true$/m);
    const password = JSON.parse(await readFile(join(home, 'secrets.json'), 'utf8')).secrets[
      'qbit:managed|qshare'
    ] as string;
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(conf).not.toContain(password);
    const login = await fetch(`${st.url}/api/v2/auth/login`, {
      method: 'POST',
      body: new URLSearchParams({ username: 'qshare', password }),
    });
    expect(await login.text()).toBe('Ok.');
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const list = (await (
      await fetch(`${st.url}/api/v2/torrents/info?hashes=${share.infoHash}`, { headers: { cookie } })
    ).json()) as Array<{ state: string; progress: number }>;
    expect(list[0]?.progress).toBe(1);
    const prefs = (await (await fetch(`${st.url}/api/v2/app/preferences`, { headers: { cookie } })).json()) as Record<
      string,
      unknown
    >;
    expect(prefs).toMatchObject({ dht: false, pex: false, lsd: false, upnp: false, queueing_enabled: false });

    const again = await runCli(['daemon', 'start'], { env });
    expect(again.stdout).toMatch(
      /^Already running: qshare's qBittorrent \(qBittorrent v[\d.]+\) at http:\/\/127\.0\.0\.1:\d+, pid \d+\./,
    );

    const stop = await runCli(['daemon', 'stop'], { env });
    expect(stop.stdout).toMatch(/^Stopped qshare's qBittorrent\./);
    expect(alive(st.pid)).toBe(false);
    expect((await runCli(['daemon', 'status'], { env })).stdout).toMatch(/is not running/);
    expect((await runCli(['daemon', 'stop'], { env })).stdout).toMatch(/is not running/);

    // started again, it still has the share (its own resume data) and seeds it
    const start = await runCli(['daemon', 'start', '--json'], { env });
    expect(start.code, start.stderr).toBe(0);
    const s2 = JSON.parse(start.stdout);
    expect(s2).toMatchObject({ running: true, started: true, username: 'qshare' });
    const seed = await runCli(['seed', share.name], { env });
    expect(seed.code, seed.stderr).toBe(0);
    expect(seed.stdout).toMatch(/is seeding in qBittorrent \(it was already there\)/);
    await runCli(['daemon', 'stop'], { env });
    expect(alive(s2.pid)).toBe(false);
  });

  it('with secrets.store "none" it refuses to start (nowhere to keep its password), and it never starts when qshare is pointed elsewhere', async () => {
    const d = await mkdtemp(join(tmpdir(), 'qshare-daemon-no-'));
    try {
      const configFile = join(d, 'config.json');
      await writeFile(configFile, JSON.stringify({ managed: { loopbackOnly: true } }));
      const e = cliEnv({ QSHARE_HOME: join(d, 'home'), QSHARE_CONFIG: configFile, QSHARE_SECRET_STORE: 'none' });
      const r = await runCli(['daemon', 'start'], { env: e });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /cannot start its own qBittorrent: it has nowhere to keep that qBittorrent's Web UI password/,
      );
      expect(r.stderr).toMatch(/"secrets": \{"store": "auto"\}/);

      const src = join(d, 'src');
      await mkdir(src);
      await writeFile(join(src, 'a.txt'), 'hi\n');
      const port = 9; // discard port: nothing listens
      const add = await runCli(['add', src, '--json'], {
        env: { ...e, QSHARE_SECRET_STORE: 'file', QSHARE_QBIT_URL: `http://127.0.0.1:${port}` },
      });
      expect(add.code).toBe(3); // made, not seeding: no managed instance for an address the user chose
      expect(existsSync(join(d, 'home', 'qbittorrent'))).toBe(false);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});
