import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Paths } from '../config/paths.js';
import type { Logger } from '../log.js';
import { cleanDeadWrites, fileBackend } from './file-store.js';
import { keychainReader, openKeychain, type KeychainOptions } from './keychain.js';

/** A place that holds secrets: the OS keychain, or the owner-only file in the data folder. */
export type SecretPlace = 'keychain' | 'file';

/** One place's get/set/delete; `SecretStore` joins them. */
export interface SecretBackend {
  readonly kind: SecretPlace;
  readonly description: string;
  get(key: string): Promise<string | undefined>;
  set(key: string, secret: string): Promise<void>;
  /** true when something was removed */
  delete(key: string): Promise<boolean>;
}

/** A secret as found, with the place that held it. */
export interface FoundSecret {
  secret: string;
  kind: SecretPlace;
  description: string;
}

/**
 * Where qshare keeps secrets it must remember: archive passwords (so `qshare show` can give them again) and the
 * qBittorrent Web UI password or API key. Never the config file, never the state file.
 *
 * Keys: `share:<share id>` for an archive password, `qbit:<url without credentials>|<username>` for the Web UI.
 */
export interface SecretStore {
  /** where `set` writes: 'keychain' = the OS keychain (Secret Service on Linux), 'file' = the 0600 file, 'none' = nowhere */
  readonly kind: SecretPlace | 'none';
  /** a sentence for the user: where secrets go, or why they are not kept */
  readonly description: string;
  /** why secrets go where they go, when that is not the keychain (for doctor) */
  readonly why?: string;
  /**
   * The secret, looked up first in `prefer` (where the state says it was written), then in every other place qshare
   * can read: a share made while the keychain was absent is still found once it appears, and the other way round.
   */
  find(key: string, prefer?: SecretPlace): Promise<FoundSecret | undefined>;
  get(key: string): Promise<string | undefined>;
  set(key: string, secret: string): Promise<void>;
  /** Removes the secret from every place qshare can reach ("forget" means in no store of qshare's). */
  delete(key: string): Promise<void>;
}

export const shareSecretKey = (shareId: string) => `share:${shareId}`;
export const qbitSecretKey = (url: string, username: string) => `qbit:${url}|${username}`;

/** The owner-only store's file: `<data folder>/secrets.json`. */
export function secretsFilePath(paths: Pick<Paths, 'dataDir'>): string {
  return join(paths.dataDir, 'secrets.json');
}

/**
 * Joins the place writes go to (`primary`, or none) with the places only read and cleaned (`others`, opened when
 * first needed). Pure composition: the backends do the I/O.
 */
export function joinStores(
  primary: SecretBackend | null,
  description: string,
  others: Array<() => Promise<SecretBackend | null>>,
  log: Logger,
  why?: string,
): SecretStore {
  const opened = others.map((open) => {
    let p: Promise<SecretBackend | null> | undefined;
    return () =>
      (p ??= open().catch((e: unknown) => {
        log.debug(`a secret store could not be opened: ${(e as Error).message}`);
        return null;
      }));
  });
  /** every place, primary first, each opened once */
  async function* places(): AsyncGenerator<SecretBackend> {
    if (primary) yield primary;
    for (const o of opened) {
      const b = await o();
      if (b) yield b;
    }
  }
  const find = async (key: string, prefer?: SecretPlace): Promise<FoundSecret | undefined> => {
    const tried = new Set<SecretBackend>();
    const attempt = async (b: SecretBackend): Promise<FoundSecret | undefined> => {
      tried.add(b);
      const v = await readQuietly(b, key, log, b === primary);
      return v === undefined ? undefined : { secret: v, kind: b.kind, description: b.description };
    };
    // the place the state names first (it may be one that is only read), then every other in order
    if (prefer) {
      for await (const b of places()) {
        if (b.kind !== prefer) continue;
        const hit = await attempt(b);
        if (hit) return hit;
        break;
      }
    }
    for await (const b of places()) {
      if (tried.has(b)) continue;
      const hit = await attempt(b);
      if (hit) return hit;
    }
    return undefined;
  };
  return {
    kind: primary?.kind ?? 'none',
    description,
    ...(why !== undefined ? { why } : {}),
    find,
    async get(key) {
      return (await find(key))?.secret;
    },
    async set(key, secret) {
      if (primary) await primary.set(key, secret);
    },
    async delete(key) {
      // the place writes go to must answer; one only read that cannot be reached holds nothing qshare can remove
      let failure: unknown;
      for await (const b of places()) {
        try {
          await b.delete(key);
        } catch (e) {
          if (b === primary) failure = e;
          else log.debug(`could not remove ${key} from ${b.description}: ${(e as Error).message}`);
        }
      }
      if (failure) throw failure;
    },
  };
}

/** The primary's read errors are the user's to see; a secondary place that fails to read just holds nothing. */
async function readQuietly(
  b: SecretBackend,
  key: string,
  log: Logger,
  isPrimary: boolean,
): Promise<string | undefined> {
  if (isPrimary) return b.get(key);
  try {
    return await b.get(key);
  } catch (e) {
    log.debug(`could not read ${b.description}: ${(e as Error).message}`);
    return undefined;
  }
}

export interface OpenSecretStoreOptions {
  paths: Pick<Paths, 'dataDir'>;
  config: Pick<Config, 'secrets'>;
  log: Logger;
  /** for tests: keychain options (timeout, a fake) */
  keychain?: KeychainOptions;
}

/**
 * The one way commands get a SecretStore, by `secrets.store` in the config (where new secrets are written):
 *   auto (default) → the OS keychain when its probe passes, otherwise the owner-only file in the data folder (0600,
 *                    said once: when that file is first made);
 *   keychain       → the keychain, or a warning and nothing kept: never a file;
 *   file           → the owner-only file;
 *   none           → nothing is ever kept.
 * Whatever the choice, secrets written earlier are read from, and deleted from, both places.
 * Never throws for a missing keychain: that is a state (`kind` and a `description` saying why and what to do).
 */
export async function openSecretStore(opts: OpenSecretStoreOptions): Promise<SecretStore> {
  const choice = opts.config.secrets.store;
  const log = opts.log;
  const path = secretsFilePath(opts.paths);
  // a write that died (killed mid-write) left a partial copy of the file: remove it before anything else
  await cleanDeadWrites(path, log);
  const file = (why: string) => fileBackend(path, log, why);
  const existingFile = async () => file('');
  const keychainAlso = () => keychainReader(opts.keychain);

  if (choice === 'none')
    return joinStores(
      null,
      'qshare keeps no passwords (secrets.store is "none")',
      [existingFile, keychainAlso],
      log,
      'secrets.store is "none"',
    );
  if (choice === 'file') {
    const f = file('secrets.store is "file"');
    return joinStores(f, f.description, [keychainAlso], log, 'secrets.store is "file"');
  }
  const opened = await openKeychain(opts.keychain);
  if ('store' in opened) {
    log.debug('secrets go to the OS keychain');
    return joinStores(opened.store, opened.store.description, [existingFile], log);
  }
  if (choice === 'keychain') {
    const reason =
      `${opened.problem}, so qshare cannot keep passwords (secrets.store is "keychain"). ` +
      `To keep them in an owner-only file (mode 600) in ${opts.paths.dataDir} instead, set "secrets": {"store": "auto"} in the config`;
    log.warn(reason);
    return joinStores(null, reason, [existingFile], log, opened.problem);
  }
  log.debug(`${opened.problem}: secrets go to ${path}`);
  const f = file(opened.problem);
  return joinStores(f, f.description, [keychainAlso], log, opened.problem);
}
