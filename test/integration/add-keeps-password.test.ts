/**
 * `qshare add` keeps the archive password where `qshare show` can find it again (shareSecretKey(id)): the real
 * keychain (GNOME Keyring on a private bus, read back with secret-tool), the opt-in file, or nowhere, saying so.
 * --no-seed: qBittorrent plays no part here.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli } from '../helpers/cli.js';
import {
  hasSecretService,
  secretToolLookup,
  startSecretService,
  type SecretService,
} from '../helpers/secret-service.js';

const have7zz = existsSync('/usr/bin/7zz');
const mustRun = process.env.CI === 'true' || process.env.CI === '1';

async function setup(extra: Record<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), 'qshare-keep-'));
  const src = join(dir, 'src');
  await mkdir(src);
  await writeFile(join(src, 'a.txt'), 'hello\n');
  const configFile = join(dir, 'config.json');
  await writeFile(configFile, JSON.stringify({ trackers: [] }));
  const env = cliEnv({ QSHARE_HOME: join(dir, 'home'), QSHARE_CONFIG: configFile, ...extra });
  return { dir, src, env, home: join(dir, 'home') };
}

describe.skipIf(!have7zz || (!hasSecretService() && !mustRun))('qshare add keeps the archive password', () => {
  let ss: SecretService;
  const dirs: string[] = [];
  beforeAll(async () => {
    ss = await startSecretService();
  });
  afterAll(async () => {
    await ss?.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('in the OS keychain under share:<id>, and says so', async () => {
    const t = await setup({ DBUS_SESSION_BUS_ADDRESS: ss.address });
    dirs.push(t.dir);
    const r = await runCli(['add', t.src, '--no-seed', '--json'], { env: t.env });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.passwordKept).toBe(true);
    expect(out.passwordStore).toMatch(/keychain/i);
    expect(await secretToolLookup(ss.address, 'qshare', `share:${out.id}`)).toBe(out.password);
    expect(existsSync(join(t.home, 'secrets.json'))).toBe(false);

    const human = await runCli(['add', t.src, '--no-seed'], { env: t.env });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/Kept in the OS keychain \(Secret Service\)\./);
    expect(human.stdout).not.toMatch(/could not keep/);
  });

  it('no keychain (no session bus, as over ssh): in the owner-only file, said once, and show gives it back', async () => {
    const t = await setup({});
    dirs.push(t.dir);
    const r = await runCli(['add', t.src, '--no-seed'], { env: t.env });
    expect(r.code, r.stderr).toBe(0);
    const file = join(t.home, 'secrets.json');
    expect(r.stdout).toContain(`Kept in the owner-only file ${file} (mode 600).`);
    expect(r.stderr).toMatch(
      /passwords are kept in .*secrets\.json, a plain-text file only you can read \(mode 600\), because no keychain: there is no D-Bus session bus/,
    );
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(t.home)).mode & 0o777).toBe(0o700);
    const again = await runCli(['add', t.src, '--no-seed', '--json'], { env: t.env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/passwords are kept in/); // said once per data folder
    const out = JSON.parse(again.stdout);
    const show = JSON.parse((await runCli(['show', out.name, '--json'], { env: t.env })).stdout);
    expect(show.password).toBe(out.password);
    expect(show.passwordStore).toBe(`the owner-only file ${file} (mode 600)`);
  });

  it('with secrets.store "none": nowhere, says why and to save it now', async () => {
    const t = await setup({ QSHARE_SECRET_STORE: 'none' });
    dirs.push(t.dir);
    const r = await runCli(['add', t.src, '--no-seed'], { env: t.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /qshare could not keep it \(qshare keeps no passwords \(secrets\.store is "none"\)\): save it now\./,
    );
    expect(existsSync(join(t.home, 'secrets.json'))).toBe(false);
  });

  it('in the 0600 file when secrets.store is "file", with a plain-text notice', async () => {
    const t = await setup({ QSHARE_SECRET_STORE: 'file', DBUS_SESSION_BUS_ADDRESS: ss.address });
    dirs.push(t.dir);
    const r = await runCli(['add', t.src, '--no-seed', '--json'], { env: t.env });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.passwordKept).toBe(true);
    expect(r.stderr).toMatch(/plain-text file/);
    const file = join(t.home, 'secrets.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8')).secrets[`share:${out.id}`]).toBe(out.password);
    // the keychain was not used
    expect(await secretToolLookup(ss.address, 'qshare', `share:${out.id}`)).toBeUndefined();
  });
});
