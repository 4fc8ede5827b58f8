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
