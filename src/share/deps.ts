import type { SevenZip } from '../archive/find.js';
import type { Config } from '../config/schema.js';
import type { Paths } from '../config/paths.js';
import type { Logger } from '../log.js';
import type { QbitSession } from '../qbit/session.js';
import type { SecretStore } from '../secrets/store.js';
import type { StateStore } from '../state/store.js';

/** Reports long work (archive, hashing) to whoever shows it; the CLI draws a bar on a TTY, or nothing. */
export interface Progress {
  start(phase: string, totalBytes: number): void;
  /** `total` corrects the total given to start() once it is known */
  update(doneBytes: number, info?: { detail?: string; total?: number }): void;
  end(): void;
}

export const noProgress: Progress = { start() {}, update() {}, end() {} };

/** Everything the share pipeline needs from outside, passed in so tests can swap any part. */
export interface ShareDeps {
  config: Config;
  paths: Paths;
  log: Logger;
  store: StateStore;
  /** finds 7-Zip; called only when an archive is made */
  sevenZip: () => Promise<SevenZip>;
  /** where archive passwords are kept (so `qshare show` can give them again); none: nothing is kept */
  secrets?: () => Promise<SecretStore>;
  /** connects to qBittorrent (one login); called only when seeding */
  qbit: () => Promise<QbitSession>;
  /** connects to a relay (`relays.NAME`); watch hands its shares to config defaultRelays */
  relay?: (name: string) => Promise<QbitSession>;
  progress: Progress;
  signal: AbortSignal;
  now: () => Date;
  /** "qshare 0.1.0", written as the torrent's `created by` */
  createdBy: string;
  random?: (n: number) => number;
}
