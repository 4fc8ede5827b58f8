/**
 * Headless by default: a server or NAS over ssh has no D-Bus session bus, so no keychain. With the default config
 * (secrets.store "auto") every feature works there with no set-up: `login` and `add` keep their secrets in the
 * owner-only file (said once), `show` gives them back, and `watch` starts and shares a dropped folder. Real
 * qbittorrent-nox, real 7-Zip, the built CLI; no secret ever reaches the config, the state, a log line or a command line.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, cliEnv, runCli, watchCmdlines } from '../helpers/cli.js';
import { sharedQbitNox, TRACKER, until } from '../helpers/e2e.js';
import { hasQbitNox } from '../helpers/qbit-nox.js';
import { pseudoRandom } from '../helpers/tree.js';

const have7zz = existsSync('/usr/bin/7zz');
const mustRun = process.env.CI === 'true' || process.env.CI === '1';
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

it('qbittorrent-nox and 7zz are installed where the tests must run', () => {
  if (mustRun) expect(hasQbitNox() && have7zz, 'install qbittorrent-nox and 7zip (see .ci/run)').toBe(true);
});

/** Files below `root` that hold `secret` (the data folder, the config folder). */
function holding(root: string, secret: string): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && readFileSync(p).includes(Buffer.from(secret))) out.push(p);
    }
  };
  walk(root);
  return out;
}

describe.skipIf(!(hasQbitNox() && have7zz) && !mustRun)(
  'headless (no session bus), the default config, real qbittorrent-nox',
  () => {
    const qb = sharedQbitNox();

    it('login, add, show and watch work with zero set-up; secrets only in the owner-only file, said once', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'qshare-headless-'));
      dirs.push(dir);
      const home = join(dir, 'home');
      const configDir = join(dir, 'config');
      await mkdir(configDir);
      const configFile = join(configDir, 'config.json');
      // nothing about secrets or passwords: only what keeps the test on loopback and quick
      await writeFile(
        configFile,
        JSON.stringify({ trackers: [TRACKER], qbittorrent: { seedWaitSeconds: 30 }, watch: { settleSeconds: 1 } }),
      );
      const env = cliEnv({ QSHARE_HOME: home, QSHARE_CONFIG: configFile });
      expect(env.DBUS_SESSION_BUS_ADDRESS).toBeUndefined();
      const secretsFile = join(home, 'secrets.json');
      const src = join(dir, 'Photos');
      await mkdir(src);
      await writeFile(join(src, 'a.jpg'), pseudoRandom(200_000, 3));

      const cmdlines = watchCmdlines();
      const stderr: string[] = [];
      // the Web UI password once, on standard input, as over ssh
      const login = await runCli(['login', '--url', qb.url, '--username', qb.username, '--password-stdin'], {
        env,
        input: `${qb.password}\n`,
      });
      stderr.push(login.stderr);
      expect(login.code, login.stderr).toBe(0);
      expect(login.stdout).toContain(`The password is kept in the owner-only file ${secretsFile} (mode 600).`);
      expect(login.stderr).toMatch(
        /passwords are kept in .*secrets\.json, a plain-text file only you can read \(mode 600\), because no keychain: there is no D-Bus session bus/,
      );

      const add = await runCli(['add', src, '--json'], { env });
      stderr.push(add.stderr);
      expect(add.code, add.stderr).toBe(0);
      const share = JSON.parse(add.stdout);
      expect(share.state).toBe('seeding');
      expect(share.passwordKept).toBe(true);
      expect(add.stderr).not.toMatch(/passwords are kept in/); // said once per data folder

      const show = await runCli(['show', share.name, '--json'], { env });
      stderr.push(show.stderr);
      expect(show.code, show.stderr).toBe(0);
      expect(JSON.parse(show.stdout)).toMatchObject({
        password: share.password,
        passwordStore: `the owner-only file ${secretsFile} (mode 600)`,
      });

      // watch, the drop folder: starts with the default config and shares what is dropped in
      const drop = join(dir, 'ToShare');
      const w = spawn(process.execPath, [CLI, 'watch', drop], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let wErr = '';
      w.stderr.setEncoding('utf8').on('data', (d: string) => (wErr += d));
      w.stdout.resume();
      const wExit = new Promise<number | null>((r) => w.on('close', (code) => r(code)));
      try {
        await until(
          'watch to start',
          async () => /watching /.test(wErr) || (w.exitCode !== null && Promise.reject(new Error(wErr))),
          30_000,
          50,
        );
        await mkdir(join(drop, 'Holiday'));
        await writeFile(join(drop, 'Holiday', 'b.jpg'), pseudoRandom(150_000, 4));
        const dropped = await until(
          'the dropped folder to be shared and seeding',
          async () => {
            const st = JSON.parse(readFileSync(join(home, 'state.json'), 'utf8')) as {
              shares: Array<{ name: string; source: string; state: string; passwordStore?: string }>;
            };
            return st.shares.find((s) => s.source === join(drop, 'Holiday') && s.state === 'seeding');
          },
          60_000,
          100,
        );
        expect(dropped.passwordStore).toBe('file');
        const showDropped = JSON.parse((await runCli(['show', dropped.name, '--json'], { env })).stdout);
        expect(showDropped.password.split('-')).toHaveLength(12);
        // no plain password file beside the card unless watch.writePasswordFile is set
        const outbox = readdirSync(join(drop, '.qshare'));
        expect(outbox.some((n) => n.endsWith('.password.txt'))).toBe(false);
        expect(outbox.some((n) => n.endsWith('.torrent'))).toBe(true);
        const passwords = [share.password as string, showDropped.password as string, qb.password];
        w.kill('SIGTERM');
        expect(await wExit).toBe(0);
        stderr.push(wErr);
        const seen = await cmdlines.stop();

        // the secrets: in the owner-only file, nowhere else
        for (const pw of passwords) {
          expect(holding(home, pw)).toEqual([secretsFile]);
          expect(holding(configDir, pw)).toEqual([]);
          expect(holding(drop, pw)).toEqual([]);
          for (const e of stderr) expect(e).not.toContain(pw);
          expect(seen.filter((c) => c.includes(pw))).toEqual([]);
        }
        expect(wErr).not.toMatch(/passwords are kept in/);
        expect(statSync(secretsFile).mode & 0o777).toBe(0o600);
        expect(statSync(home).mode & 0o777).toBe(0o700);
      } finally {
        if (w.exitCode === null) w.kill('SIGKILL');
        await cmdlines.stop().catch(() => {});
      }
    }, 180_000);

    it('add checks its path before anything else: a wrong path is said first, with no login and no password asked', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'qshare-headless-path-'));
      dirs.push(dir);
      // a configured address that needs a password qshare does not have
      const env = cliEnv({
        QSHARE_HOME: join(dir, 'home'),
        QSHARE_CONFIG: join(dir, 'none.json'),
        QSHARE_QBIT_URL: qb.url,
      });
      const r = await runCli(['add', join(dir, 'nonexistent')], { env });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/nonexistent does not exist/);
      expect(r.stderr).not.toMatch(/password/i);
      // and with the password: the path is still said before any login
      const withPw = await runCli(['add', join(dir, 'nonexistent'), '--verbose'], {
        env: { ...env, QSHARE_QBIT_PASSWORD: qb.password },
      });
      expect(withPw.code).toBe(1);
      expect(withPw.stderr).toMatch(/nonexistent does not exist/);
      expect(withPw.stderr).not.toMatch(/logging in to qBittorrent|connected to qBittorrent/);
    });
  },
);
