/**
 * Secrets and access (issue #7), with the built CLI, real 7-Zip and a real qbittorrent-nox on 127.0.0.1: through a
 * whole share's life (add, ls, show, seed, stop, all with --verbose) the archive password shows only where the user
 * asked for it (add's and show's output, and the opt-in plain-text store), the Web UI password nowhere; no process's
 * command line holds either; qshare's data folder and its folders are 0700 and its secret files 0600.
 * (`get`: test/integration/get-hardening.test.ts; `watch`: test/integration/watch-e2e.test.ts.)
 */
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliEnv, runCli, watchCmdlines, type CliResult } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { hasQbitNox } from '../helpers/qbit-nox.js';
import { pseudoRandom } from '../helpers/tree.js';
import { sharedQbitNox } from '../helpers/e2e.js';

const have7zz = existsSync('/usr/bin/7zz');
const TRACKER = 'http://127.0.0.1:9/announce';

/** Every file below root (links not followed) with its mode. */
function files(root: string): Array<{ path: string; mode: number; dir: boolean }> {
  const out: Array<{ path: string; mode: number; dir: boolean }> = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const st = lstatSync(p);
      out.push({ path: p, mode: st.mode & 0o777, dir: st.isDirectory() });
      if (st.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out;
}

function holding(root: string, secret: string): string[] {
  return files(root)
    .filter((f) => !f.dir && readFileSync(f.path).includes(Buffer.from(secret)))
    .map((f) => f.path);
}

describe.skipIf(!hasQbitNox() || !have7zz)('secrets and access (real qbittorrent-nox)', () => {
  const qb = sharedQbitNox();

  it("a share's whole life: the archive password only in add's and show's output and the opt-in file; the Web UI password nowhere; 0700 folders, 0600 secret files", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qshare-secrets-'));
    const home = join(dir, 'home');
    const configDir = join(dir, 'config');
    await mkdir(configDir);
    const configFile = join(configDir, 'config.json');
    await writeFile(
      configFile,
      JSON.stringify({
        trackers: [TRACKER],
        qbittorrent: { seedWaitSeconds: 30, timeoutSeconds: 30 },
        secrets: { store: 'file' },
      }),
    );
    const env = cliEnv({
      QSHARE_HOME: home,
      QSHARE_CONFIG: configFile,
      QSHARE_QBIT_URL: qb.url,
      QSHARE_QBIT_USERNAME: qb.username,
      QSHARE_QBIT_PASSWORD: qb.password,
    });
    const src = join(dir, 'Photos');
    await mkdir(src);
    await writeFile(join(src, 'a.jpg'), pseudoRandom(300_000, 2));

    const watcher = watchCmdlines();
    const add = await runCli(['add', src, '--json', '--verbose'], { env });
    expect(add.code, add.stderr).toBe(0);
    const share = JSON.parse(add.stdout);
    const runs: Record<string, CliResult> = {
      ls: await runCli(['ls', '--json', '--verbose'], { env }),
      lsText: await runCli(['ls', '--verbose'], { env }),
      show: await runCli(['show', share.name, '--json', '--verbose'], { env }),
      seed: await runCli(['seed', share.name, '--json', '--verbose'], { env }),
      stop: await runCli(['stop', share.name, '--json', '--verbose'], { env }),
      seedAgain: await runCli(['seed', share.name, '--verbose'], { env }),
    };
    const cmdlines = await watcher.stop();
    for (const [what, r] of Object.entries(runs)) expect(r.code, `${what}: ${r.stderr}`).toBe(0);

    const pw: string = share.password;
    expect(pw.split('-')).toHaveLength(12);
    // where the user asked for it
    expect(add.stdout).toContain(pw);
    expect(JSON.parse(runs.show!.stdout).password).toBe(pw);
    // nowhere else: no log line (all ran with --verbose), no other output, no command line (7-Zip and qBittorrent ran)
    expect(cmdlines.some((c) => /(^|\/)7zz a /.test(c))).toBe(true);
    expect(cmdlines.some((c) => /qbittorrent-nox/.test(c))).toBe(true);
    for (const c of cmdlines) {
      expect(c).not.toContain(pw);
      expect(c).not.toContain(qb.password);
    }
    expect(add.stderr).toMatch(/"level":"debug"/);
    expect(add.stderr).not.toContain(pw);
    for (const [what, r] of Object.entries(runs)) {
      if (what !== 'show') expect(r.stdout, what).not.toContain(pw);
      expect(r.stderr, what).not.toContain(pw);
    }
    for (const r of [add, ...Object.values(runs)]) expect(r.stdout + r.stderr).not.toContain(qb.password);

    // files: the archive password only in the plain-text store the config opted into; the Web UI password in none
    expect(holding(home, pw)).toEqual([join(home, 'secrets.json')]);
    expect(holding(configDir, pw)).toEqual([]);
    expect(holding(home, qb.password)).toEqual([]);
    expect(holding(configDir, qb.password)).toEqual([]);

    // access: every folder qshare made is 0700, its secret files (and the state, the .torrents) 0600
    const all = files(home);
    expect((lstatSync(home).mode & 0o777).toString(8)).toBe('700');
    for (const f of all.filter((x) => x.dir)) expect(`${f.path} ${f.mode.toString(8)}`).toBe(`${f.path} 700`);
    for (const name of ['secrets.json', 'state.json'])
      expect((lstatSync(join(home, name)).mode & 0o777).toString(8)).toBe('600');
    for (const t of await readdir(join(home, 'torrents')))
      expect((lstatSync(join(home, 'torrents', t)).mode & 0o777).toString(8)).toBe('600');
  });

  it('a failing add (the folder changes under 7-Zip) with --password-stdin --verbose --json: the password is in no message, output or file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qshare-secrets-'));
    const home = join(dir, 'home');
    const configFile = join(dir, 'config.json');
    await writeFile(configFile, JSON.stringify({ trackers: [TRACKER], secrets: { store: 'none' } }));
    const env = cliEnv({
      QSHARE_HOME: home,
      QSHARE_CONFIG: configFile,
      QSHARE_QBIT_URL: `http://127.0.0.1:${await freePort()}`,
    });
    const src = join(dir, 'busy');
    await mkdir(src);
    await writeFile(join(src, 'big.bin'), pseudoRandom(16 * 1024 * 1024, 3));
    const pw = 'my own secret passphrase 42';
    let changed = false;
    const r = await runCli(['add', src, '--no-seed', '--level', '1', '--password-stdin', '--json', '--verbose'], {
      env,
      input: `${pw}\n`,
      onSpawn: (child) => {
        const poll = setInterval(async () => {
          if (
            !changed &&
            (await readdir(join(home, 'archives')).catch(() => [])).some((f) => f.includes('.partial-'))
          ) {
            changed = true;
            clearInterval(poll);
            await writeFile(join(src, 'late.txt'), 'x');
          }
        }, 10);
        child.on('close', () => clearInterval(poll));
      },
    });
    expect(changed).toBe(true);
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout).error.code).toBe('SOURCE_CHANGED');
    expect(r.stdout + r.stderr).not.toContain(pw);
    expect(holding(home, pw)).toEqual([]);
  });
});
