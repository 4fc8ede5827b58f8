import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { mapPath } from '../config/pathmap.js';
import { isQshareError, QshareError } from '../errors.js';
import type { ShareRecord } from '../state/types.js';
import type { ShareDeps } from './deps.js';

export interface SeedOutcome {
  seeding: boolean;
  state: ShareRecord['state'];
  error?: QshareError;
  alreadyPresent?: boolean;
}

/**
 * Hands a recorded share to qBittorrent (skip_checking: the data is already in place) and waits until it reports the
 * torrent complete and seeding. Records the outcome. An expected failure (qBittorrent down, bad login, missing files)
 * is returned, not thrown, so the caller can still print what was made.
 */
export async function seedShare(
  deps: Pick<ShareDeps, 'config' | 'log' | 'store' | 'qbit' | 'signal' | 'now'>,
  share: ShareRecord,
): Promise<SeedOutcome> {
  const { config, log } = deps;
  let outcome: SeedOutcome;
  try {
    const torrent = await readFile(share.torrentFile);
    const session = await deps.qbit();
    const savePath = mapPath(share.savePath, config.qbittorrent.pathMap);
    // the request itself cannot be cancelled (it ends by qbittorrent.timeoutSeconds at the latest); Ctrl-C need not wait
    const added = await untilAborted(
      session.addForSeeding(
        {
          torrent,
          fileName: basename(share.torrentFile),
          savePath,
          category: config.qbittorrent.category,
          tags: config.qbittorrent.tags,
        },
        share.infoHash,
      ),
      deps.signal,
    );
    log.debug(added === 'added' ? 'torrent added to qBittorrent' : 'qBittorrent already had this torrent', {
      infoHash: share.infoHash,
    });
    await session.waitUntilSeeding(share.infoHash, {
      timeoutMs: config.qbittorrent.seedWaitSeconds * 1000,
      // after the first seconds (seedPollDelay), for a qBittorrent still checking or moving files
      pollMs: 250,
      savePathHint: savePath,
      signal: deps.signal,
    });
    outcome = { seeding: true, state: 'seeding', alreadyPresent: added === 'already-present' };
  } catch (e) {
    if (!isQshareError(e) || e.code === 'INTERRUPTED') throw e;
    outcome = { seeding: false, state: 'not-seeding', error: e };
  }
  await deps.store.update((s) => {
    const rec = s.shares.find((r) => r.id === share.id);
    if (!rec) return;
    rec.state = outcome.state;
    rec.updatedAt = deps.now().toISOString();
    if (outcome.error) rec.lastError = outcome.error.message;
    else delete rec.lastError;
  });
  return outcome;
}

/** `p`, or INTERRUPTED (with `message`) as soon as `signal` is aborted; `p` is left to end by itself. */
export function untilAborted<T>(p: Promise<T>, signal: AbortSignal, message = 'interrupted'): Promise<T> {
  if (signal.aborted) return Promise.reject(new QshareError('INTERRUPTED', message));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new QshareError('INTERRUPTED', message));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
