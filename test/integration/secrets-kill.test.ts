/**
 * The owner-only secrets file leaves no copies behind: a writer killed with SIGKILL in the middle of a write may
 * leave `.secrets.json.partial-<hex>` (a full copy of every password in it); the next open of the store removes it,
 * and a forgotten password is then in no file of qshare's data folder.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { openSecretStore, secretsFilePath } from '../../src/secrets/store.js';

const BUILD = join(dirname(fileURLToPath(import.meta.url)), '../../build');
const storeModule = pathToFileURL(join(BUILD, 'secrets/store.js')).href;
const logModule = pathToFileURL(join(BUILD, 'log.js')).href;

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'qshare-secrets-kill-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const partials = async () => (await readdir(dataDir)).filter((n) => n.startsWith('.secrets.json.partial-'));

/** Every file below the data folder that holds `secret`. */
function holding(secret: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (readFileSync(p).includes(Buffer.from(secret))) out.push(p);
    }
  };
  walk(dataDir);
  return out;
}

/**
 * A writer in its own process: keeps `share:<round>-<i>` = `pw-<round>-<i>` for i = 0, 1, 2 … until killed. It says
 * "writing" once its first write is done: the known point after which it is always inside its write loop.
 */
function writer(round: number): Promise<{ kill: (afterMs: number) => Promise<void> }> {
  const script = `
    const { openSecretStore } = await import(${JSON.stringify(storeModule)});
    const { silentLogger } = await import(${JSON.stringify(logModule)});
    const store = await openSecretStore({ paths: { dataDir: ${JSON.stringify(dataDir)} }, config: { secrets: { store: 'file' } }, log: silentLogger() });
    for (let i = 0; ; i++) {
      await store.set('share:${round}-' + i, 'pw-${round}-' + i);
      if (i === 0) process.stdout.write('writing\\n');
    }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return new Promise((resolve, reject) => {
    let started = false;
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!started) reject(new Error(`the writer exited (${code}) before it started writing`));
    });
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (started || !d.includes('writing')) return;
      started = true;
      resolve({
        async kill(afterMs) {
          await new Promise((r) => setTimeout(r, afterMs));
          child.kill('SIGKILL');
          await exited;
        },
      });
    });
  });
}

describe('secrets file: SIGKILL during writes leaves no copies', () => {
  it('a planted partial (as a killed write leaves it) is removed by the next open', async () => {
    const planted = join(dataDir, '.secrets.json.partial-deadbeef');
    await writeFile(planted, JSON.stringify({ version: 1, secrets: { 'share:x': 'planted-secret' } }), { mode: 0o600 });
    await openSecretStore({ paths: { dataDir }, config: { secrets: { store: 'file' } }, log: silentLogger() });
    expect(await partials()).toEqual([]);
    expect(holding('planted-secret')).toEqual([]);
  });

  it('killed at random moments: each next open removes the partial copies; forgotten passwords are in no file', async () => {
    // a file of a few hundred kB, so that a write (write + fsync + rename) takes long enough to be killed inside
    const seed = await openSecretStore({
      paths: { dataDir },
      config: { secrets: { store: 'file' } },
      log: silentLogger(),
    });
    for (let i = 0; i < 3; i++) await seed.set(`share:bulk-${i}`, 'x'.repeat(100_000));

    let leftBehind = 0;
    const deadline = Date.now() + 60_000;
    let round = 0;
    // enough rounds that some kills land inside a write (and leave a partial), within a deadline
    for (; round < 40 && (leftBehind < 3 || round < 10) && Date.now() < deadline; round++) {
      const w = await writer(round);
      await w.kill(Math.floor(Math.random() * 40));
      if ((await partials()).length > 0) leftBehind++;
      // the next open, as any later qshare command does it
      const store = await openSecretStore({
        paths: { dataDir },
        config: { secrets: { store: 'file' } },
        log: silentLogger(),
      });
      expect(await partials(), `round ${round}`).toEqual([]);
      // the file itself is whole: a killed write never damages it
      expect(await store.get('share:bulk-0')).toBe('x'.repeat(100_000));
    }
    // the test proves something only if kills did land inside writes
    expect(leftBehind, `${round} rounds`).toBeGreaterThan(0);

    // forget every password the writers kept: none is then in any file of the data folder
    const store = await openSecretStore({
      paths: { dataDir },
      config: { secrets: { store: 'file' } },
      log: silentLogger(),
    });
    const kept = Object.keys(
      JSON.parse(readFileSync(secretsFilePath({ dataDir }), 'utf8')).secrets as Record<string, string>,
    ).filter((k) => /^share:\d+-\d+$/.test(k));
    expect(kept.length).toBeGreaterThan(0);
    for (const k of kept) await store.delete(k);
    for (let r = 0; r < round; r++) expect(holding(`"pw-${r}-0"`), `round ${r}`).toEqual([]);
  }, 120_000);
});
