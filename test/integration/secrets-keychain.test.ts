/**
 * The secret store against a real Secret Service: GNOME Keyring on a private D-Bus session bus (no desktop, no
 * activation), read back independently with secret-tool. Also the two headless "no keychain" states (no bus at
 * all, a bus where nothing answers), and the opt-in 0600 file.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type SecretStoreChoice } from '../../src/config/schema.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { openSecretStore, qbitSecretKey, secretsFilePath, shareSecretKey } from '../../src/secrets/store.js';
import {
  hasSecretService,
  secretToolLookup,
  startSecretService,
  type SecretService,
} from '../helpers/secret-service.js';

// In CI the parts are installed by .ci/run: a missing gnome-keyring there must fail, not skip.
const available = hasSecretService();
const mustRun = process.env.CI === 'true' || process.env.CI === '1';

const config = (store: SecretStoreChoice) => ({ secrets: { ...DEFAULT_CONFIG.secrets, store } });
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'qshare-secrets-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

it('the Secret Service parts are installed where the tests must run', () => {
  if (mustRun) expect(available, 'install dbus, gnome-keyring and libsecret-tools (see .ci/run)').toBe(true);
});

/**
 * The keychain library reads the session bus address once per process, so each keychain scenario runs in its own
 * Node process against the built module (dist/), with only the bus address it should see.
 */
const STORE_MODULE = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '../../build/secrets/store.js')).href;

function inChild(
  bus: string | undefined,
  store: SecretStoreChoice,
  body: string,
  data = dataDir,
): Promise<{ kind: string; description: string; out: unknown; warnings: string }> {
  const script = `
    const { openSecretStore, qbitSecretKey, shareSecretKey } = await import(${JSON.stringify(STORE_MODULE)});
    const { createLogger } = await import(${JSON.stringify(STORE_MODULE.replace(/secrets\/store\.js$/, 'log.js'))});
    let warnings = '';
    const log = createLogger({ write: (l) => (warnings += l), json: false, level: 'info' });
    const store = await openSecretStore({ paths: { dataDir: ${JSON.stringify(data)} }, config: { secrets: { store: ${JSON.stringify(store)} } }, log });
    const out = await (async () => { ${body} })();
    process.stdout.write(JSON.stringify({ kind: store.kind, description: store.description, out, warnings }));
  `;
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: data };
  if (bus) env.DBUS_SESSION_BUS_ADDRESS = bus;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      { env, timeout: 30_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${err.message}\n${stderr}`));
        resolve(JSON.parse(stdout));
      },
    );
  });
}

describe.skipIf(!available && !mustRun)('OS keychain (real GNOME Keyring on a private bus)', () => {
  let ss: SecretService;
  beforeAll(async () => {
    ss = await startSecretService();
  });
  afterAll(async () => {
    await ss?.stop();
  });

  it('auto picks the keychain; set/get/delete round-trip, and secret-tool reads the same item', async () => {
    const key = qbitSecretKey('http://127.0.0.1:8080', 'admin');
    const r = await inChild(
      ss.address,
      'auto',
      `
      const key = ${JSON.stringify(key)};
      const seen = [await store.get(key)];
      await store.set(key, 'pässword with spaces');
      seen.push(await store.get(key));
      return seen;`,
    );
    expect(r.kind).toBe('keychain');
    expect(r.description).toMatch(/keychain/i);
    expect(r.out).toEqual([null, 'pässword with spaces']);
    expect(r.warnings).toBe('');
    // an independent reader (libsecret's secret-tool) finds the same item
    expect(await secretToolLookup(ss.address, 'qshare', key)).toBe('pässword with spaces');
    // a later process reads it, replaces it, deletes it
    const r2 = await inChild(
      ss.address,
      'keychain',
      `
      const key = ${JSON.stringify(key)};
      const seen = [await store.get(key)];
      await store.set(key, 'changed');
      seen.push(await store.get(key));
      await store.delete(key);
      seen.push(await store.get(key) ?? null);
      await store.delete(key);
      return seen;`,
    );
    expect(r2.out).toEqual(['pässword with spaces', 'changed', null]);
    expect(await secretToolLookup(ss.address, 'qshare', key)).toBeUndefined();
    // the probe item is not left behind, and nothing went to the plain-text file
    expect(await secretToolLookup(ss.address, 'qshare', 'qshare-probe')).toBeUndefined();
    await expect(stat(secretsFilePath({ dataDir }))).rejects.toThrow(/ENOENT/);
  });

  it('keeps each share password under its own key', async () => {
    const r = await inChild(
      ss.address,
      'auto',
      `
      await store.set(shareSecretKey('aaaa1111'), 'one');
      await store.set(shareSecretKey('bbbb2222'), 'two');
      return [await store.get(shareSecretKey('aaaa1111')), await store.get(shareSecretKey('bbbb2222'))];`,
    );
    expect(r.out).toEqual(['one', 'two']);
    expect(await secretToolLookup(ss.address, 'qshare', shareSecretKey('bbbb2222'))).toBe('two');
  });
});

describe.skipIf(!available && !mustRun)(
  'reading is forgiving: a secret is found in the place it was written (real GNOME Keyring)',
  () => {
    let ss: SecretService;
    beforeAll(async () => {
      ss = await startSecretService();
    });
    afterAll(async () => {
      await ss?.stop();
    });

    it('made with the file fallback (no bus), then the keychain appears: still read, new ones go to the keychain, and forgetting clears both', async () => {
      const data = await mkdtemp(join(tmpdir(), 'qshare-forgiving-'));
      try {
        const file = secretsFilePath({ dataDir: data });
        const headless = await inChild(
          undefined,
          'auto',
          `await store.set('share:old', 'from-the-file'); return null;`,
          data,
        );
        expect(headless.kind).toBe('file');
        // the same data folder on a desktop session: the keychain is chosen, the old secret still found (in the file)
        const desktop = await inChild(
          ss.address,
          'auto',
          `
        const found = await store.find('share:old', 'file');
        await store.set('share:new', 'in-the-keychain');
        return { where: found && found.kind, secret: found && found.secret, unpreferred: (await store.find('share:old', 'keychain')).secret };`,
          data,
        );
        expect(desktop.kind).toBe('keychain');
        expect(desktop.out).toEqual({ where: 'file', secret: 'from-the-file', unpreferred: 'from-the-file' });
        expect(await secretToolLookup(ss.address, 'qshare', 'share:new')).toBe('in-the-keychain');
        expect(JSON.parse(await readFile(file, 'utf8')).secrets).toEqual({ 'share:old': 'from-the-file' });
        // the other way round: secrets.store "file" still reads what the keychain holds
        const fileChoice = await inChild(ss.address, 'file', `return (await store.find('share:new')) ?? null;`, data);
        expect(fileChoice.out).toMatchObject({ kind: 'keychain', secret: 'in-the-keychain' });
        // forgetting removes a secret from whichever place holds it
        await inChild(
          ss.address,
          'auto',
          `await store.delete('share:old'); await store.delete('share:new'); return null;`,
          data,
        );
        expect(await secretToolLookup(ss.address, 'qshare', 'share:new')).toBeUndefined();
        expect(JSON.parse(await readFile(file, 'utf8')).secrets).toEqual({});
      } finally {
        await rm(data, { recursive: true, force: true });
      }
    });
  },
);

describe.skipIf(!available && !mustRun)('no keychain: a state, not a crash', () => {
  it('no session bus at all (a server, ssh) → auto keeps secrets in the owner-only file, and says so once', async () => {
    const data = await mkdtemp(join(tmpdir(), 'qshare-headless-'));
    try {
      const r = await inChild(
        undefined,
        'auto',
        `await store.set('k', 'v'); return (await store.get('k')) ?? null;`,
        data,
      );
      const file = secretsFilePath({ dataDir: data });
      expect(r.kind).toBe('file');
      expect(r.description).toBe(`the owner-only file ${file} (mode 600)`);
      expect(r.out).toBe('v');
      expect(r.warnings).toMatch(
        /^passwords are kept in .*secrets\.json, a plain-text file only you can read \(mode 600\), because no keychain: there is no D-Bus session bus.*"none".*"keychain"/,
      );
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await stat(data)).mode & 0o777).toBe(0o700);
      // a second run (another process) keeps more, and says nothing more
      const r2 = await inChild(
        undefined,
        'auto',
        `await store.set('k2', 'v2'); return [await store.get('k'), await store.get('k2')];`,
        data,
      );
      expect(r2.out).toEqual(['v', 'v2']);
      expect(r2.warnings).toBe('');
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  });

  it('a bus where no Secret Service answers → none; "keychain" warns about it', async () => {
    const bare = await startSecretService({ keyring: false });
    try {
      const r = await inChild(bare.address, 'keychain', 'return null;');
      expect(r.kind).toBe('none');
      expect(r.description).toMatch(/no Secret Service .* answers on the session bus/);
      expect(r.warnings).toMatch(/^warn: no keychain/);
    } finally {
      await bare.stop();
    }
  });
});

describe('secrets.store "file" and "none"', () => {
  it('file: 0600 JSON in the data folder, says once (when the file is made) that it is plain text', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qshare-secrets-file-'));
    try {
      const lines: string[] = [];
      const log = createLogger({ write: (l) => lines.push(l), json: false, level: 'info' });
      const store = await openSecretStore({ paths: { dataDir: join(dir, 'home') }, config: config('file'), log });
      expect(store.kind).toBe('file');
      expect(store.description).toContain(join(dir, 'home', 'secrets.json'));
      await store.set(shareSecretKey('abcd'), 'hunter22');
      await store.set(qbitSecretKey('http://x:1', 'me'), 'pw');
      expect(lines.filter((l) => /plain-text file/.test(l))).toHaveLength(1);
      const file = secretsFilePath({ dataDir: join(dir, 'home') });
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await stat(join(dir, 'home'))).mode & 0o777).toBe(0o700);
      const parsed = JSON.parse(await readFile(file, 'utf8'));
      expect(parsed.secrets).toEqual({ 'share:abcd': 'hunter22', 'qbit:http://x:1|me': 'pw' });
      expect(parsed.warning).toMatch(/Plain text/);
      expect(await store.get('share:abcd')).toBe('hunter22');
      await store.delete('share:abcd');
      expect(await store.get('share:abcd')).toBeUndefined();
      expect(await store.get('qbit:http://x:1|me')).toBe('pw');

      // loosened by someone: narrowed back with a warning
      await chmod(file, 0o644);
      expect(await store.get('qbit:http://x:1|me')).toBe('pw');
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(lines.join('')).toMatch(/could be read by other users/);

      // damaged: reported, never emptied
      await writeFile(file, '{not json');
      await expect(store.get('x')).rejects.toMatchObject({
        code: 'SECRET',
        message: expect.stringMatching(/is damaged .* left untouched/),
      });
      await expect(store.set('x', 'y')).rejects.toMatchObject({ code: 'SECRET' });
      expect(await readFile(file, 'utf8')).toBe('{not json');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('concurrent writers do not lose each other', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qshare-secrets-file-'));
    try {
      const store = await openSecretStore({ paths: { dataDir: dir }, config: config('file'), log: silentLogger() });
      await Promise.all(Array.from({ length: 12 }, (_, i) => store.set(`share:${i}`, `pw${i}`)));
      for (let i = 0; i < 12; i++) expect(await store.get(`share:${i}`)).toBe(`pw${i}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('none keeps nothing and says so', async () => {
    const store = await openSecretStore({ paths: { dataDir }, config: config('none'), log: silentLogger() });
    expect(store.kind).toBe('none');
    expect(store.description).toMatch(/"none"/);
  });
});
