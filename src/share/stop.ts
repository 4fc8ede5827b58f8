import { rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Paths } from '../config/paths.js';
import { isQshareError } from '../errors.js';
import type { Logger } from '../log.js';
import type { QbitSession } from '../qbit/session.js';
import type { SecretStore } from '../secrets/store.js';
import { shareSecretKey } from '../secrets/store.js';
import type { StateStore } from '../state/store.js';
import type { ShareRecord } from '../state/types.js';
import { isInside } from '../fsx/paths.js';

export interface StopDeps {
  paths: Paths;
  log: Logger;
  store: StateStore;
  qbit: () => Promise<QbitSession>;
  /** only asked with --delete, to forget the archive password */
  secrets?: () => Promise<SecretStore>;
  /** a relay's qBittorrent by name (the share's relays are stopped too) */
  relay?: (name: string) => Promise<QbitSession>;
  now: () => Date;
}

/** What stop did on one relay: removed the torrent there (its files too with --delete), or why not. */
export interface RelayStop {
  name: string;
  removed: boolean;
  error?: string;
}

export interface StopResult {
  /** qBittorrent had the torrent and removed it */
  removedFromQbit: boolean;
  /** files qshare deleted (its own archive and .torrent; never the user's source) */
  deleted: string[];
  /** the record is gone (with --delete) */
  forgotten: boolean;
  /** the share's relays, each stopped or not (unreachable relays keep their copy: each says why) */
  relays: RelayStop[];
}

/** Files of a share that qshare made and may delete: its archive and .torrent, only inside qshare's own folders. Pure. */
export function ownFiles(share: ShareRecord, paths: Paths): string[] {
  const out: string[] = [];
  const mine = (p: string | null, dir: string) =>
    p !== null &&
    isInside(resolve(p), resolve(dir)) &&
    resolve(p) !== resolve(dir) &&
    !isInside(resolve(share.source), resolve(p));
  if (share.encrypted && mine(share.archive, paths.archivesDir)) out.push(share.archive as string);
  if (mine(share.torrentFile, paths.torrentsDir)) out.push(share.torrentFile);
  return out;
}

/**
 * `qshare stop`: removes the torrent from qBittorrent, always keeping the files there (deleteFiles=false). With
 * `deleteFiles`, also deletes qshare's own archive and .torrent, forgets the password and the record. The user's
 * source folder is never touched: for a --no-encrypt share the seeded data IS the source, and only the .torrent goes.
 */
export async function stopShare(deps: StopDeps, share: ShareRecord, deleteFiles: boolean): Promise<StopResult> {
  const session = await deps.qbit();
  const present = await session.getTorrent(share.infoHash);
  const relays = await stopOnRelays(deps, share, deleteFiles);
  if (!deleteFiles) {
    // recorded first: when the state cannot be written (a full disk), nothing has happened yet
    const before = await setState(deps, share.id, { state: 'stopped', lastError: undefined });
    if (present) {
      try {
        await session.remove(share.infoHash, false);
      } catch (e) {
        if (before) await setState(deps, share.id, before).catch(() => undefined);
        throw e;
      }
    }
    return { removedFromQbit: present !== undefined, deleted: [], forgotten: false, relays };
  }
  // --delete: each step can be done again, and deleting the archive frees space for the last write; if that write
  // still fails, running the same stop --delete again finishes it
  if (present) await session.remove(share.infoHash, false);
  const deleted: string[] = [];
  for (const f of ownFiles(share, deps.paths)) {
    await rm(f, { force: true });
    deleted.push(f);
    deps.log.debug('deleted', { file: f, folder: dirname(f) });
  }
  if (deps.secrets) {
    try {
      await (await deps.secrets()).delete(shareSecretKey(share.id));
    } catch (e) {
      if (!isQshareError(e)) throw e;
      deps.log.warn(`could not forget the password of ${share.name}: ${e.message}`);
    }
  }
  await deps.store.update((s) => {
    s.shares = s.shares.filter((r) => r.id !== share.id);
  });
  return { removedFromQbit: present !== undefined, deleted, forgotten: true, relays };
}

/**
 * Removes the share from each relay that holds it (with `deleteFiles`, that torrent's files there too: only that
 * torrent's, as qBittorrent's deleteFiles does). A relay that cannot be reached is reported and keeps its copy.
 */
async function stopOnRelays(deps: StopDeps, share: ShareRecord, deleteFiles: boolean): Promise<RelayStop[]> {
  const out: RelayStop[] = [];
  const relays = (share.relays ?? []).filter((r) => r.added && (r.state !== 'stopped' || deleteFiles));
  if (relays.length === 0 || !deps.relay) return out;
  for (const r of relays) {
    try {
      const relay = await deps.relay(r.name);
      const there = await relay.getTorrent(share.infoHash);
      if (there) await relay.remove(share.infoHash, deleteFiles);
      out.push({ name: r.name, removed: there !== undefined });
    } catch (e) {
      if (!isQshareError(e) || e.code === 'INTERRUPTED') throw e;
      deps.log.warn(
        `relay "${r.name}" still has "${share.name}": ${e.message}. Remove it in that qBittorrent's Web UI, or run this stop again once it answers`,
      );
      out.push({ name: r.name, removed: false, error: e.message });
    }
  }
  if (!deleteFiles) {
    await deps.store.update((s) => {
      const rec = s.shares.find((x) => x.id === share.id);
      for (const rr of rec?.relays ?? [])
        if (out.some((o) => o.name === rr.name && o.error === undefined)) rr.state = 'stopped';
    });
  }
  return out;
}

type Recorded = Pick<ShareRecord, 'state' | 'lastError'>;

/** Sets a share's recorded state (and last error); returns what it had (undefined: no such share). */
async function setState(deps: StopDeps, id: string, to: Recorded): Promise<Recorded | undefined> {
  let before: Recorded | undefined;
  await deps.store.update((s) => {
    const r = s.shares.find((x) => x.id === id);
    if (!r) return;
    before = { state: r.state, lastError: r.lastError };
    r.state = to.state;
    if (to.lastError === undefined) delete r.lastError;
    else r.lastError = to.lastError;
    r.updatedAt = deps.now().toISOString();
  });
  return before;
}
