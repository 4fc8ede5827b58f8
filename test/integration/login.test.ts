/**
 * `qshare login` against a real qbittorrent-nox on loopback: a password set through qshare is kept and used by the
 * next command; a wrong password fails once (qBittorrent's own log counts one attempt) and saves nothing; the
 * localhost bypass needs no password at all; without a password and without a terminal the error names the ways.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli } from '../helpers/cli.js';
import { hasQbitNox, type QbitNox } from '../helpers/qbit-nox.js';
import { sharedQbitNox } from '../helpers/e2e.js';
import {
  hasSecretService,
  secretToolLookup,
  startSecretService,
  type SecretService,
} from '../helpers/secret-service.js';

const have7zz = existsSync('/usr/bin/7zz');
const mustRun = process.env.CI === 'true' || process.env.CI === '1';

async function setup(extra: Record<string, string> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'qshare-login-'));
  const configFile = join(dir, 'cfg', 'config.json');
  await mkdir(join(dir, 'cfg'));
  await writeFile(
    configFile,
    JSON.stringify(
      { $schema: 'keep-me', trackers: [], qbittorrent: { seedWaitSeconds: 30, category: 'mine' } },
      null,
      2,
    ),
  );
  const home = join(dir, 'home');
  const env = cliEnv({ QSHARE_HOME: home, QSHARE_CONFIG: configFile, ...extra });
  return { dir, configFile, home, env };
}

const failedAttempts = async (qb: QbitNox) => ((await qb.appLog()).match(/WebAPI login failure/g) ?? []).length;

describe.skipIf(!hasQbitNox())('qshare login (real qbittorrent-nox)', () => {
  const qb = sharedQbitNox();
  const open = sharedQbitNox({ bypassLocalAuth: true });
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('a wrong password: one attempt, a clear error, nothing saved', async () => {
    const t = await setup({ QSHARE_SECRET_STORE: 'file' });
    dirs.push(t.dir);
    const before = await readFile(t.configFile, 'utf8');
    const attemptsBefore = await failedAttempts(qb);
    const r = await runCli(['login', '--url', qb.url, '--username', qb.username, '--password-stdin'], {
      env: t.env,
      input: 'not-the-password\n',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refused the login: check the Web UI username and password/);
    expect(r.stderr).toMatch(/will not retry/);
    expect(r.stderr).toMatch(/Nothing was saved/);
    expect(r.stderr).not.toContain('not-the-password');
    expect(await readFile(t.configFile, 'utf8')).toBe(before);
    expect(existsSync(join(t.home, 'secrets.json'))).toBe(false);
    // qBittorrent itself saw exactly one failed login
    await new Promise((res) => setTimeout(res, 300));
    expect((await failedAttempts(qb)) - attemptsBefore).toBe(1);
  });

  it.skipIf(!have7zz)(
    'the right password: saved url/user (other keys kept), password in the store, used by the next command',
    async () => {
      const t = await setup({ QSHARE_SECRET_STORE: 'file' });
      dirs.push(t.dir);
      const r = await runCli(['login', '--url', qb.url, '--username', qb.username, '--password-stdin', '--json'], {
        env: t.env,
        input: `${qb.password}\n`,
      });
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out).toMatchObject({
        url: qb.url,
        username: 'admin',
        version: 'v4.5.2',
        auth: 'password',
        passwordKept: true,
      });
      const cfg = JSON.parse(await readFile(t.configFile, 'utf8'));
      expect(cfg).toEqual({
        $schema: 'keep-me',
        trackers: [],
        qbittorrent: { seedWaitSeconds: 30, category: 'mine', url: qb.url, username: 'admin' },
      });
      expect(JSON.stringify(cfg)).not.toContain(qb.password);
      const secrets = JSON.parse(await readFile(join(t.home, 'secrets.json'), 'utf8'));
      expect(secrets.secrets[`qbit:${qb.url}|admin`]).toBe(qb.password);

      // the next command logs in with the kept password: no QSHARE_QBIT_PASSWORD anywhere
      const src = join(t.dir, 'src');
      await mkdir(src);
      await writeFile(join(src, 'a.txt'), 'hi\n');
      const add = await runCli(['add', src, '--json'], { env: t.env });
      expect(add.code, add.stderr).toBe(0);
      expect(JSON.parse(add.stdout).state).toBe('seeding');
    },
  );

  it('no password and no terminal: the error names every way to give one', async () => {
    const t = await setup({ QSHARE_SECRET_STORE: 'none' });
    dirs.push(t.dir);
    const r = await runCli(['login', '--url', qb.url], { env: t.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/needs the Web UI password for admin; nothing was saved/);
    expect(r.stderr).toMatch(/--password-stdin.*QSHARE_QBIT_PASSWORD.*in a terminal/);
    // and a command that needs qBittorrent stops before any work, naming the ways too
    const src = join(t.dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'a.txt'), 'hi\n');
    const add = await runCli(['add', src], { env: { ...t.env, QSHARE_QBIT_URL: qb.url } });
    expect(add.code).toBe(1);
    expect(add.stderr).toMatch(
      /needs the Web UI password for admin\n.*run `qshare login` once \(keeps it in the keychain, or in qshare's owner-only secrets file\), or set QSHARE_QBIT_PASSWORD, or run qshare in a terminal/,
    );
    expect(existsSync(join(t.home, 'archives'))).toBe(false);
  });

  it('the localhost bypass: no password at all, nothing kept', async () => {
    const t = await setup({ QSHARE_SECRET_STORE: 'file' });
    dirs.push(t.dir);
    const r = await runCli(['login', '--url', open.url], { env: t.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/no login needed from this computer/);
    expect(r.stdout).toMatch(/needs no password from this computer, so none was kept/);
    expect(existsSync(join(t.home, 'secrets.json'))).toBe(false);
    expect(JSON.parse(await readFile(t.configFile, 'utf8')).qbittorrent.url).toBe(open.url);
  });

  describe.skipIf(!hasSecretService() && !mustRun)('with the OS keychain', () => {
    let ss: SecretService;
    beforeAll(async () => {
      ss = await startSecretService();
    });
    afterAll(async () => {
      await ss?.stop();
    });

    it('keeps the password in the keychain, where secret-tool reads it back', async () => {
      const t = await setup({ DBUS_SESSION_BUS_ADDRESS: ss.address });
      dirs.push(t.dir);
      const r = await runCli(['login', '--url', `${qb.url}/`, '--password-stdin'], {
        env: t.env,
        input: `${qb.password}\n`,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/The password is kept in the OS keychain \(Secret Service\)\./);
      expect(await secretToolLookup(ss.address, 'qshare', `qbit:${qb.url}|admin`)).toBe(qb.password);
      expect(existsSync(join(t.home, 'secrets.json'))).toBe(false);
    });
  });
});
