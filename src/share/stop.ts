import { rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Paths } from '../config/paths.js';
import { isQshareError } from '../errors.js';
import type { Logger } from '../log.js';
import type { QbitSession } from '../qbit/client.js';
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
  now: () => Date;
}

export interface StopResult {
  /** qBittorrent had the torrent and removed it */
  removedFromQbit: boolean;
  /** files qshare deleted (its own archive and .torrent; never the user's source) */
  deleted: string[];
  /** the record is gone (with --delete) */
  forgotten: boolean;
}

/** Files of a share that qshare made and may delete: its archive and .torrent, only inside qshare's own folders. Pure. */
export function ownFiles(share: ShareRecord, paths: Paths): string[] {
  const out: string[] = [];
  const mine = (p: string | null, dir: string) => p !== null && isInside(resolve(p), resolve(dir)) && resolve(p) !== resolve(dir) && !isInside(resolve(share.source), resolve(p));
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
  if (present) await session.remove(share.infoHash, false);
  const deleted: string[] = [];
  if (deleteFiles) {
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
  } else {
    await deps.store.update((s) => {
      const r = s.shares.find((x) => x.id === share.id);
      if (!r) return;
      r.state = 'stopped';
      r.updatedAt = deps.now().toISOString();
      delete r.lastError;
    });
  }
  return { removedFromQbit: present !== undefined, deleted, forgotten: deleteFiles };
}
