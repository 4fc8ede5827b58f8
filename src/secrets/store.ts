import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Paths } from '../config/paths.js';
import type { Logger } from '../log.js';
import { fileSecretStore } from './file-store.js';
import { openKeychain, type KeychainOptions } from './keychain.js';

/**
 * Where qshare keeps secrets it must remember: archive passwords (so `qshare show` can give them again) and the
 * qBittorrent Web UI password or API key. Never the config file, never the state file.
 *
 * Keys: `share:<share id>` for an archive password, `qbit:<url without credentials>|<username>` for the Web UI.
 */
export interface SecretStore {
  /** 'keychain' = the OS keychain (Secret Service on Linux); 'file' = the opt-in 0600 plain-text file; 'none' = nothing is kept */
  readonly kind: 'keychain' | 'file' | 'none';
  /** a sentence for the user: where secrets go, or why they are not kept */
  readonly description: string;
  get(key: string): Promise<string | undefined>;
  set(key: string, secret: string): Promise<void>;
  delete(key: string): Promise<void>;
}

export const shareSecretKey = (shareId: string) => `share:${shareId}`;
export const qbitSecretKey = (url: string, username: string) => `qbit:${url}|${username}`;

/** Keeps nothing: used when no keychain answers and the user has not opted into the plain-text file. */
export function noSecretStore(reason: string): SecretStore {
  return {
    kind: 'none',
    description: reason,
    get: async () => undefined,
    set: async () => {},
    delete: async () => {},
  };
}

/** The opt-in plain-text store's file: `<data folder>/secrets.json`. */
export function secretsFilePath(paths: Pick<Paths, 'dataDir'>): string {
  return join(paths.dataDir, 'secrets.json');
}

export interface OpenSecretStoreOptions {
  paths: Pick<Paths, 'dataDir'>;
  config: Pick<Config, 'secrets'>;
  log: Logger;
  /** for tests: keychain options (timeout, a fake) */
  keychain?: KeychainOptions;
}

/**
 * The one way commands get a SecretStore, by `secrets.store` in the config:
 *   auto (default) → the OS keychain when it answers and can store (probed once), otherwise none, with the reason;
 *   keychain       → the same, but a missing keychain is a warning;
 *   file           → the 0600 plain-text file in the data folder (each write warns that it is plain text);
 *   none           → nothing is ever kept.
 * Never throws for a missing keychain: that is a state (`kind: 'none'` and a `description` saying why and what to do).
 */
export async function openSecretStore(opts: OpenSecretStoreOptions): Promise<SecretStore> {
  const choice = opts.config.secrets.store;
  const log = opts.log;
  if (choice === 'none') return noSecretStore('qshare keeps no passwords (secrets.store is "none")');
  if (choice === 'file') return fileSecretStore(secretsFilePath(opts.paths), log);
  const opened = await openKeychain(opts.keychain);
  if ('store' in opened) {
    log.debug('secrets go to the OS keychain');
    return opened.store;
  }
  const reason =
    `${opened.problem}, so qshare cannot keep passwords. ` +
    `To keep them anyway in a plain-text file (mode 600) in ${opts.paths.dataDir}, set "secrets": {"store": "file"} in the config (or QSHARE_SECRET_STORE=file)`;
  if (choice === 'keychain') log.warn(reason);
  else log.debug(reason);
  return noSecretStore(reason);
}
