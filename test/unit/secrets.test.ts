import { describe, expect, it } from 'vitest';
import { applyEnv, DEFAULT_CONFIG, validateConfig } from '../../src/config/schema.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { keychainProblem, openKeychain } from '../../src/secrets/keychain.js';
import { joinStores, openSecretStore, type SecretBackend, type SecretPlace } from '../../src/secrets/store.js';

describe('config: secrets.store', () => {
  it.each([
    [{ secrets: { store: 'file' } }, [], 'file'],
    [{ secrets: { store: 'none' } }, [], 'none'],
    [{ secrets: {} }, [], 'auto'],
    [{ secrets: { store: 'vault' } }, ['secrets.store: must be one of "auto", "keychain", "file", "none"'], 'auto'],
    [{ secrets: 'file' }, ['secrets: must be an object like {"store": "auto"}'], 'auto'],
    // with any problem the config is the defaults: nothing runs on half a config
    [{ secrets: { store: 'file', path: '/x' } }, ['secrets.path: unknown key (known: store)'], 'auto'],
    [{ secrets: { store: 'file' } }, [], 'file'],
  ])('%j', (raw, problems, store) => {
    const r = validateConfig(raw);
    expect(r.problems).toEqual(problems);
    expect(r.config.secrets.store).toBe(store);
  });
  it('defaults to auto; QSHARE_SECRET_STORE overrides it and is checked', () => {
    expect(DEFAULT_CONFIG.secrets.store).toBe('auto');
    expect(applyEnv(DEFAULT_CONFIG, { QSHARE_SECRET_STORE: 'file' }).config.secrets.store).toBe('file');
    expect(applyEnv(DEFAULT_CONFIG, { QSHARE_SECRET_STORE: 'plain' }).problems).toEqual([
      'QSHARE_SECRET_STORE: must be one of auto, keychain, file, none',
    ]);
  });
});

describe('keychainProblem', () => {
  it.each([
    [
      'Platform failure: DBus error: Using X11 for dbus-daemon autolaunch was disabled at compile time, set your DBUS_SESSION_BUS_ADDRESS instead',
      /^no keychain: there is no D-Bus session bus/,
    ],
    [
      'Platform failure: DBus error: The name org.freedesktop.secrets was not provided by any .service files',
      /^no keychain: no Secret Service/,
    ],
    ["Couldn't access platform storage: Secret Service: no result found", /no unlocked keyring/],
    ['Platform failure: the unlock prompt was dismissed', /unlock prompt was dismissed/],
    ['timed out', /did not answer in time/],
    ["Cannot find module '@napi-rs/keyring-linux-x64-gnu'", /no build for this platform/],
    ['something else\nentirely', /^the keychain failed: something else entirely$/],
  ])('%s', (msg, re) => {
    expect(keychainProblem(new Error(msg))).toMatch(re);
  });
});

function fakeEntries(behaviour: { fail?: Error; hang?: boolean; lie?: boolean } = {}) {
  const items = new Map<string, string>();
  return {
    items,
    entries: (account: string) => ({
      async setPassword(p: string) {
        if (behaviour.hang) return new Promise<void>(() => {});
        if (behaviour.fail) throw behaviour.fail;
        items.set(account, p);
      },
      async getPassword() {
        if (behaviour.lie) return 'something else';
        return items.get(account) ?? null;
      },
      async deletePassword() {
        return items.delete(account);
      },
    }),
  };
}

describe('openKeychain (fake backend)', () => {
  it('works when the probe round-trips, and removes the probe', async () => {
    const f = fakeEntries();
    const r = await openKeychain({ entries: f.entries });
    expect('store' in r).toBe(true);
    expect(f.items.size).toBe(0);
  });
  it('a store that fails → the reason, not a throw', async () => {
    const f = fakeEntries({ fail: new Error('Secret Service: no result found') });
    expect(await openKeychain({ entries: f.entries })).toEqual({
      problem: expect.stringMatching(/no unlocked keyring/),
    });
  });
  it('a store that hangs (an unlock prompt nobody answers) → times out', async () => {
    const f = fakeEntries({ hang: true });
    const t0 = Date.now();
    expect(await openKeychain({ entries: f.entries, timeoutMs: 100 })).toEqual({
      problem: expect.stringMatching(/did not answer in time/),
    });
    expect(Date.now() - t0).toBeLessThan(2000);
  });
  it('a store that gives back something else → not used', async () => {
    const f = fakeEntries({ lie: true });
    expect(await openKeychain({ entries: f.entries })).toEqual({
      problem: 'the keychain did not give back what was stored in it',
    });
  });
  it('openSecretStore: auto without a keychain writes to the owner-only file and says why', async () => {
    const f = fakeEntries({
      fail: new Error('The name org.freedesktop.secrets was not provided by any .service files'),
    });
    const s = await openSecretStore({
      paths: { dataDir: '/nonexistent-qshare-data' },
      config: { secrets: { store: 'auto' } },
      log: silentLogger(),
      keychain: { entries: f.entries },
    });
    expect(s.kind).toBe('file');
    expect(s.description).toBe('the owner-only file /nonexistent-qshare-data/secrets.json (mode 600)');
    expect(s.why).toBe('no keychain: no Secret Service (GNOME Keyring, KWallet, KeePassXC) answers on the session bus');
  });

  it('openSecretStore: "keychain" without one keeps nothing, warns, and names "auto"', async () => {
    const f = fakeEntries({
      fail: new Error('The name org.freedesktop.secrets was not provided by any .service files'),
    });
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l), json: false, level: 'info' });
    const s = await openSecretStore({
      paths: { dataDir: '/nonexistent-qshare-data' },
      config: { secrets: { store: 'keychain' } },
      log,
      keychain: { entries: f.entries },
    });
    expect(s.kind).toBe('none');
    expect(s.description).toMatch(
      /^no keychain: no Secret Service .* so qshare cannot keep passwords \(secrets\.store is "keychain"\)\. .*"secrets": \{"store": "auto"\}/,
    );
    expect(lines.join('')).toMatch(/^warn: no keychain/);
  });
});

/** An in-memory place; `fails` makes every call throw, as an unreachable keychain does. */
function place(
  kind: SecretPlace,
  items: Record<string, string> = {},
  fails = false,
): SecretBackend & { items: Map<string, string>; reads: number } {
  const m = new Map(Object.entries(items));
  const b = {
    kind,
    description: `the ${kind}`,
    items: m,
    reads: 0,
    async get(k: string) {
      b.reads++;
      if (fails) throw new Error(`${kind} is down`);
      return m.get(k);
    },
    async set(k: string, v: string) {
      if (fails) throw new Error(`${kind} is down`);
      m.set(k, v);
    },
    async delete(k: string) {
      if (fails) throw new Error(`${kind} is down`);
      return m.delete(k);
    },
  };
  return b;
}

describe('joinStores: writes go to one place, reads and deletes reach every place', () => {
  it.each([
    // [what, primary's items, other's items, prefer, expected place or undefined]
    ['in the primary', { k: 'p' }, {}, undefined, 'keychain'],
    ['only in the other place (made while the keychain was absent)', {}, { k: 'f' }, undefined, 'file'],
    ['in both: the primary wins without a preference', { k: 'p' }, { k: 'f' }, undefined, 'keychain'],
    ['in both: the place the state names wins', { k: 'p' }, { k: 'f' }, 'file', 'file'],
    ['the named place lacks it: the others are still asked', { k: 'p' }, {}, 'file', 'keychain'],
    ['nowhere', {}, {}, undefined, undefined],
  ] as const)('%s', async (_what, prim, other, prefer, where) => {
    const k = place('keychain', prim);
    const f = place('file', other);
    const s = joinStores(k, 'the keychain', [async () => f], silentLogger());
    const found = await s.find('k', prefer);
    expect(found?.kind).toBe(where);
    expect(found?.secret).toBe(where === undefined ? undefined : where === 'keychain' ? 'p' : 'f');
  });

  it('a hit in the primary opens no other place', async () => {
    let opened = 0;
    const s = joinStores(
      place('file', { k: 'v' }),
      'the file',
      [async () => (opened++, place('keychain'))],
      silentLogger(),
    );
    expect(await s.get('k')).toBe('v');
    expect(opened).toBe(0);
    expect(await s.get('missing')).toBeUndefined();
    expect(await s.get('missing')).toBeUndefined();
    expect(opened).toBe(1); // opened once, then remembered
  });

  it('set writes only to the primary; none writes nowhere', async () => {
    const k = place('keychain');
    const f = place('file');
    await joinStores(k, 'the keychain', [async () => f], silentLogger()).set('a', '1');
    expect([k.items.get('a'), f.items.get('a')]).toEqual(['1', undefined]);
    const none = joinStores(null, 'nothing', [async () => f], silentLogger());
    expect(none.kind).toBe('none');
    await none.set('b', '2');
    expect(f.items.has('b')).toBe(false);
  });

  it('delete removes the secret from every place, and an unreachable other place does not stop it', async () => {
    const k = place('keychain', { a: '1' });
    const f = place('file', { a: '1' });
    await joinStores(
      f,
      'the file',
      [async () => k, async () => place('keychain', {}, true), async () => null],
      silentLogger(),
    ).delete('a');
    expect([k.items.has('a'), f.items.has('a')]).toEqual([false, false]);
  });

  it("the primary's failures are the user's to see; another place that fails reads as empty", async () => {
    const broken = joinStores(
      place('keychain', {}, true),
      'the keychain',
      [async () => place('file', { a: 'f' })],
      silentLogger(),
    );
    await expect(broken.get('a')).rejects.toThrow(/keychain is down/);
    await expect(broken.delete('a')).rejects.toThrow(/keychain is down/);
    const quiet = joinStores(place('file', {}), 'the file', [async () => place('keychain', {}, true)], silentLogger());
    expect(await quiet.get('a')).toBeUndefined();
    const opening = joinStores(
      place('file', {}),
      'the file',
      [async () => Promise.reject(new Error('no module'))],
      silentLogger(),
    );
    expect(await opening.get('a')).toBeUndefined();
  });
});
