import { describe, expect, it } from 'vitest';
import { applyEnv, DEFAULT_CONFIG, validateConfig } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log.js';
import { keychainProblem, openKeychain } from '../../src/secrets/keychain.js';
import { openSecretStore } from '../../src/secrets/store.js';

describe('config: secrets.store', () => {
  it.each([
    [{ secrets: { store: 'file' } }, [], 'file'],
    [{ secrets: { store: 'none' } }, [], 'none'],
    [{ secrets: {} }, [], 'auto'],
    [{ secrets: { store: 'vault' } }, ['secrets.store: must be one of "auto", "keychain", "file", "none"'], 'auto'],
    [{ secrets: 'file' }, ['secrets: must be an object like {"store": "auto"}'], 'auto'],
    [{ secrets: { store: 'file', path: '/x' } }, ['secrets.path: unknown key (known: store)'], 'file'],
  ])('%j', (raw, problems, store) => {
    const r = validateConfig(raw);
    expect(r.problems).toEqual(problems);
    expect(r.config.secrets.store).toBe(store);
  });
  it('defaults to auto; QSHARE_SECRET_STORE overrides it and is checked', () => {
    expect(DEFAULT_CONFIG.secrets.store).toBe('auto');
    expect(applyEnv(DEFAULT_CONFIG, { QSHARE_SECRET_STORE: 'file' }).config.secrets.store).toBe('file');
    expect(applyEnv(DEFAULT_CONFIG, { QSHARE_SECRET_STORE: 'plain' }).problems).toEqual(['QSHARE_SECRET_STORE: must be one of auto, keychain, file, none']);
  });
});

describe('keychainProblem', () => {
  it.each([
    ['Platform failure: DBus error: Using X11 for dbus-daemon autolaunch was disabled at compile time, set your DBUS_SESSION_BUS_ADDRESS instead', /^no keychain: there is no D-Bus session bus/],
    ['Platform failure: DBus error: The name org.freedesktop.secrets was not provided by any .service files', /^no keychain: no Secret Service/],
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
    expect(await openKeychain({ entries: f.entries })).toEqual({ problem: expect.stringMatching(/no unlocked keyring/) });
  });
  it('a store that hangs (an unlock prompt nobody answers) → times out', async () => {
    const f = fakeEntries({ hang: true });
    const t0 = Date.now();
    expect(await openKeychain({ entries: f.entries, timeoutMs: 100 })).toEqual({ problem: expect.stringMatching(/did not answer in time/) });
    expect(Date.now() - t0).toBeLessThan(2000);
  });
  it('a store that gives back something else → not used', async () => {
    const f = fakeEntries({ lie: true });
    expect(await openKeychain({ entries: f.entries })).toEqual({ problem: 'the keychain did not give back what was stored in it' });
  });
  it('openSecretStore falls back to none with the reason and how to opt into the file', async () => {
    const f = fakeEntries({ fail: new Error('The name org.freedesktop.secrets was not provided by any .service files') });
    const s = await openSecretStore({ paths: { dataDir: '/data' }, config: { secrets: { store: 'auto' } }, log: silentLogger(), keychain: { entries: f.entries } });
    expect(s.kind).toBe('none');
    expect(s.description).toBe(
      'no keychain: no Secret Service (GNOME Keyring, KWallet, KeePassXC) answers on the session bus, so qshare cannot keep passwords. To keep them anyway in a plain-text file (mode 600) in /data, set "secrets": {"store": "file"} in the config (or QSHARE_SECRET_STORE=file)',
    );
  });
});
