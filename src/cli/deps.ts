/**
 * The composition root: every dependency a command uses from outside (the state store, the secret store, 7-Zip,
 * the qBittorrent connection) is built here, once per run and only when first asked for, with the run's abort
 * signal. Commands receive them through their context and never build their own.
 */
import type { SevenZip } from '../archive/find.js';
import type { QbitSession } from '../qbit/session.js';
import { openSecretStore, type SecretStore } from '../secrets/store.js';
import { createStateStore, type StateStore } from '../state/store.js';
import type { CommandContext } from './context.js';

export interface CommandDeps {
  /** the list of shares; Ctrl-C stops a wait for another qshare's lock */
  readonly state: StateStore;
  /** the secret store, opened (and its keychain probed) once */
  secrets(): Promise<SecretStore>;
  /** 7-Zip, found once */
  sevenZip(): Promise<SevenZip>;
  /** the configured qBittorrent, connected once (one login per run) */
  qbit(): Promise<QbitSession>;
  /** a relay's qBittorrent (`relays.NAME`), connected once per run */
  relay(name: string): Promise<QbitSession>;
}

const once = <T>(make: () => Promise<T>): (() => Promise<T>) => {
  let p: Promise<T> | undefined;
  return () => (p ??= make());
};

export function makeDeps(ctx: Omit<CommandContext, 'deps'>): CommandDeps {
  let connector: (() => Promise<QbitSession>) | undefined;
  const relays = new Map<string, Promise<QbitSession>>();
  const deps: CommandDeps = {
    state: createStateStore(ctx.paths.stateFile, { log: ctx.log, signal: ctx.signal }),
    secrets: once(() => openSecretStore({ paths: ctx.paths, config: ctx.config, log: ctx.log.child('secrets') })),
    sevenZip: once(async () =>
      (await import('../archive/find.js')).findSevenZip({
        configured: ctx.config.sevenZip ?? undefined,
        cacheDir: ctx.paths.cacheDir,
      }),
    ),
    // the qBittorrent client (and the fetch machinery under it) loads only when something is sent to qBittorrent;
    // the connector memoises its session, and retries only "nothing listening"
    async qbit() {
      connector ??= (await import('./qbit-connect.js')).qbitConnector({ ...ctx, deps });
      return connector();
    },
    relay(name) {
      let r = relays.get(name);
      if (!r) {
        r = import('./qbit-connect.js').then((m) => m.connectRelay({ ...ctx, deps }, name));
        relays.set(name, r);
      }
      return r;
    },
  };
  return deps;
}
