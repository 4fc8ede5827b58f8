/**
 * `qshare doctor` against real qbittorrent-nox instances on loopback, a real 7-Zip and filesystem.
 * Instances that get DHT turned on run without DNS (test/helpers/no-dns.ts), bound to 127.0.0.1.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli } from '../helpers/cli.js';
import { noDnsNoxWrapper } from '../helpers/no-dns.js';
import { freePort } from '../helpers/ports.js';
import { hasQbitNox, startQbitNox, type QbitNox } from '../helpers/qbit-nox.js';

const have7zz = existsSync('/usr/bin/7zz');
const TRACKER = 'http://127.0.0.1:9/announce';
const dirs: string[] = [];

async function setup(qb: QbitNox | { url: string; username: string; password: string }, config: object) {
  const dir = await mkdtemp(join(tmpdir(), 'qshare-doctor-'));
  dirs.push(dir);
  const configFile = join(dir, 'config.json');
  await writeFile(configFile, JSON.stringify(config));
  const home = join(dir, 'home');
  const env = cliEnv({
    QSHARE_HOME: home,
    QSHARE_CONFIG: configFile,
    QSHARE_QBIT_URL: qb.url,
    QSHARE_QBIT_USERNAME: qb.username,
    QSHARE_QBIT_PASSWORD: qb.password,
    QSHARE_SECRET_STORE: 'none',
  });
  return { dir, home, env };
}

interface Out {
  ok: boolean;
  checks: Array<{ id: string; status: string; detail: string; fix: string | null; fixable: boolean }>;
  fixed: string[];
  declined: string[];
}
const byId = (o: Out) => Object.fromEntries(o.checks.map((c) => [c.id, c]));

async function prefs(qb: QbitNox): Promise<Record<string, unknown>> {
  return (await qb.api('app/preferences')) as Record<string, unknown>;
}
async function torrentCount(qb: QbitNox): Promise<number> {
  return ((await qb.api('torrents/info')) as unknown[]).length;
}

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe.skipIf(!hasQbitNox() || !have7zz)('qshare doctor (real qbittorrent-nox)', () => {
  let wrapper: string | undefined;
  beforeAll(async () => {
    wrapper = await noDnsNoxWrapper();
  });

  it('a healthy instance: every check ok, exit 0; the probe torrent and its file are gone afterwards', async () => {
    if (!wrapper) throw new Error('needs root to run qbittorrent-nox without DNS (DHT is on here)');
    const qb = await startQbitNox({ dht: true, pex: true, binary: wrapper });
    try {
      const t = await setup(qb, { trackers: [TRACKER] });
      const r = await runCli(['doctor', '--json'], { env: t.env });
      expect(r.code, r.stderr + r.stdout).toBe(0);
      const out = JSON.parse(r.stdout) as Out;
      expect(out.ok).toBe(true);
      const c = byId(out);
      for (const id of [
        'qbittorrent',
        'credentials',
        'dht',
        'pex',
        'encryption',
        'anonymous',
        'proxy',
        'paths',
        'disk',
        '7zip',
      ])
        expect(c[id]?.status, `${id}: ${c[id]?.detail}`).toBe('ok');
      expect(c.qbittorrent!.detail).toMatch(/^v4\.5\.2 \(Web API 2\.8\.19\) answers at http:\/\/127\.0\.0\.1:\d+$/);
      expect(c.credentials!.detail).toBe('password accepted (from QSHARE_QBIT_PASSWORD)');
      // a loopback-only instance never sees a peer from outside, so qBittorrent itself says "firewalled"
      expect(c.connection).toMatchObject({ status: 'warn', detail: expect.stringMatching(/^firewalled/) });
      expect(c.keychain).toMatchObject({ status: 'info' });
      expect(await torrentCount(qb)).toBe(0);
      expect(await readdir(join(t.home, 'archives'))).toEqual([]);

      const human = await runCli(['doctor'], { env: t.env });
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/^qshare doctor\n {2}ok {4}qBittorrent/);
      expect(human.stdout).toMatch(/Nothing blocks sharing; 1 warning\./);
      expect(human.stdout).toMatch(/→ forward TCP and UDP port \d+ on your router/);
    } finally {
      await qb.stop();
    }
  });

  it('DHT off: reported (a failure when no tracker is configured); --fix asks, --fix --yes turns it on', async () => {
    if (!wrapper) throw new Error('needs root to run qbittorrent-nox without DNS (DHT gets turned on here)');
    const qb = await startQbitNox({ dht: false, pex: true, binary: wrapper });
    try {
      const withTracker = await setup(qb, { trackers: [TRACKER] });
      const w = await runCli(['doctor', '--json'], { env: withTracker.env });
      expect(w.code).toBe(0);
      expect(byId(JSON.parse(w.stdout)).dht).toMatchObject({
        status: 'warn',
        fixable: true,
        fix: expect.stringMatching(/qshare doctor --fix/),
      });

      const t = await setup(qb, { trackers: [] });
      const r = await runCli(['doctor'], { env: t.env });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/FAIL {2}DHT +off, and the config lists no trackers/);
      expect(r.stdout).toMatch(/1 problem blocks sharing/);

      // no terminal, no --yes: nothing changes, and it says how
      const asked = await runCli(['doctor', '--fix'], { env: t.env });
      expect(asked.code).toBe(1);
      expect(asked.stderr).toMatch(/--fix changed nothing without a terminal to confirm on: add --yes to turn DHT on/);
      expect((await prefs(qb)).dht).toBe(false);

      const fixed = await runCli(['doctor', '--fix', '--yes', '--json'], { env: t.env });
      const out = JSON.parse(fixed.stdout) as Out;
      expect(fixed.code, fixed.stdout).toBe(0);
      expect(out.fixed).toEqual(['turn DHT on']);
      expect(byId(out).dht).toMatchObject({ status: 'ok' });
      expect((await prefs(qb)).dht).toBe(true); // qBittorrent itself says so
      expect((await prefs(qb)).upnp).toBe(false); // never touched
    } finally {
      await qb.stop();
    }
  });

  it('path mapping that points where qBittorrent finds nothing: the probe fails, exit 1, probe cleaned up', async () => {
    const qb = await startQbitNox();
    try {
      const elsewhere = join(qb.profileDir, 'not-the-data-folder');
      await mkdir(elsewhere);
      const dir = await mkdtemp(join(tmpdir(), 'qshare-doctor-map-'));
      dirs.push(dir);
      const home = join(dir, 'home');
      const t = await setup(qb, {
        trackers: [TRACKER],
        qbittorrent: { pathMap: { [join(home, 'archives')]: elsewhere } },
      });
      t.env.QSHARE_HOME = home;
      const r = await runCli(['doctor', '--json'], { env: t.env });
      expect(r.code).toBe(1);
      const c = byId(JSON.parse(r.stdout));
      expect(c.paths).toMatchObject({
        status: 'fail',
        detail: expect.stringContaining(`saved at ${elsewhere} became "missingFiles"`),
        fix: expect.stringMatching(/check qbittorrent\.pathMap/),
      });
      expect(await torrentCount(qb)).toBe(0);
      expect(await readdir(join(home, 'archives'))).toEqual([]);
      expect(await readdir(elsewhere)).toEqual([]);
    } finally {
      await qb.stop();
    }
  });

  it('nothing listening: qBittorrent fails with what to do, the local checks still run, exit 1', async () => {
    const port = await freePort();
    const t = await setup(
      { url: `http://127.0.0.1:${port}`, username: 'admin', password: 'x' },
      { trackers: [TRACKER] },
    );
    const r = await runCli(['doctor', '--json'], { env: t.env });
    expect(r.code).toBe(1);
    const c = byId(JSON.parse(r.stdout));
    expect(c.qbittorrent).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^nothing is listening at/) });
    expect(c.paths).toMatchObject({ status: 'skip' });
    expect(c['7zip']).toMatchObject({ status: 'ok' });
    expect(c.disk).toMatchObject({ status: 'ok' });
  });
});
