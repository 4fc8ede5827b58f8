import { QshareError } from '../errors.js';
import type { SecretBackend } from './store.js';

/** The service name every qshare item carries in the keychain (`secret-tool search service qshare`). */
export const KEYCHAIN_SERVICE = 'qshare';
const PROBE_ACCOUNT = 'qshare-probe';
const DEFAULT_TIMEOUT_MS = 5_000;

interface AsyncEntryLike {
  setPassword(password: string, signal?: AbortSignal | null): Promise<void>;
  getPassword(signal?: AbortSignal | null): Promise<string | null>;
  deletePassword(signal?: AbortSignal | null): Promise<boolean>;
}
type EntryFactory = (account: string) => AsyncEntryLike;

/** Pins Linux to the Secret Service: the library's default silently falls back to the kernel keyring (lost at reboot). */
async function loadEntryFactory(): Promise<EntryFactory> {
  const mod = await import('@napi-rs/keyring');
  return (account) => new mod.AsyncEntry(KEYCHAIN_SERVICE, account, { linux: { store: 'secret-service' } });
}

/** Turns the library's errors into a sentence saying why there is no usable keychain. Pure. */
export function keychainProblem(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (/DBUS_SESSION_BUS_ADDRESS|autolaunch/i.test(msg))
    return 'no keychain: there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set; usual on a server or over ssh)';
  if (/org\.freedesktop\.secrets was not provided|ServiceUnknown|not provided by any \.service/i.test(msg))
    return 'no keychain: no Secret Service (GNOME Keyring, KWallet, KeePassXC) answers on the session bus';
  if (/dismissed/i.test(msg)) return 'the keychain is locked and its unlock prompt was dismissed';
  if (/no result found|locked/i.test(msg))
    return 'the keychain has no unlocked keyring to store into (it is locked, or no default keyring exists)';
  if (/timed out|abort/i.test(msg)) return 'the keychain did not answer in time (is an unlock prompt waiting?)';
  if (/Cannot find module|was not found|native binding/i.test(msg))
    return 'the keychain module (@napi-rs/keyring) has no build for this platform';
  return `the keychain failed: ${msg.replace(/\s+/g, ' ').slice(0, 160)}`;
}

async function withTimeout<T>(timeoutMs: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const signal = AbortSignal.timeout(timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), timeoutMs + 100);
  });
  try {
    return await Promise.race([fn(signal), late]);
  } finally {
    clearTimeout(timer);
  }
}

export interface KeychainOptions {
  timeoutMs?: number;
  /** for tests: a fake entry factory */
  entries?: EntryFactory;
}

/**
 * Opens the OS keychain and proves it works with a write, read back and delete of a probe item, so "a keychain
 * that answers but cannot store" (locked, no default keyring) is found now rather than after a login.
 * Returns the store, or the reason there is none (never throws).
 */
export async function openKeychain(
  opts: KeychainOptions = {},
): Promise<{ store: SecretBackend } | { problem: string }> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let entries: EntryFactory;
  try {
    entries = opts.entries ?? (await loadEntryFactory());
    const probe = entries(PROBE_ACCOUNT);
    const value = `probe-${process.pid}-${Date.now()}`;
    await withTimeout(timeoutMs, (s) => probe.setPassword(value, s));
    const back = await withTimeout(timeoutMs, (s) => probe.getPassword(s));
    await withTimeout(timeoutMs, (s) => probe.deletePassword(s)).catch(() => false);
    if (back !== value) return { problem: 'the keychain did not give back what was stored in it' };
  } catch (e) {
    return { problem: keychainProblem(e) };
  }
  return { store: keychainBackend(entries, timeoutMs) };
}

function keychainBackend(entries: EntryFactory, timeoutMs: number): SecretBackend {
  const fail = (what: string, e: unknown) =>
    new QshareError('SECRET', `could not ${what} the OS keychain: ${keychainProblem(e)}`, { cause: e });
  return {
    kind: 'keychain',
    description:
      process.platform === 'darwin'
        ? 'the macOS Keychain'
        : process.platform === 'win32'
          ? 'the Windows Credential Manager'
          : 'the OS keychain (Secret Service)',
    async get(key) {
      try {
        return (await withTimeout(timeoutMs, (s) => entries(key).getPassword(s))) ?? undefined;
      } catch (e) {
        throw fail('read from', e);
      }
    },
    async set(key, secret) {
      try {
        await withTimeout(timeoutMs, (s) => entries(key).setPassword(secret, s));
      } catch (e) {
        throw fail('store in', e);
      }
    },
    async delete(key) {
      try {
        return await withTimeout(timeoutMs, (s) => entries(key).deletePassword(s));
      } catch (e) {
        throw fail('delete from', e);
      }
    },
  };
}

/**
 * The keychain only to read and clean (secrets written there while it was the store), without the write probe:
 * null when it is not there. Writes no probe item into a keychain the user did not choose.
 */
export async function keychainReader(opts: KeychainOptions = {}): Promise<SecretBackend | null> {
  try {
    const entries = opts.entries ?? (await loadEntryFactory());
    return keychainBackend(entries, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  } catch {
    return null;
  }
}
