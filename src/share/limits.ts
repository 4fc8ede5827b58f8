import { checkRecipientsCount, expireMinutes } from '../config/schema.js';
import { isQshareError, QshareError } from '../errors.js';
import type { Logger } from '../log.js';
import type { QbitSession } from '../qbit/session.js';
import type { StateStore } from '../state/store.js';
import type { ShareRecord } from '../state/types.js';

/** `--expire 7d` / `48h` → minutes. Pure; throws USAGE on anything else. */
export function parseExpire(text: string): number {
  const m = expireMinutes(text);
  if (typeof m !== 'number') throw new QshareError('USAGE', `--expire ${m.problem}`);
  return m;
}

/** `--recipients N`: a whole number from 1 to 1000. Pure. */
export function checkRecipients(n: number): number {
  const problem = checkRecipientsCount(n);
  if (problem) throw new QshareError('USAGE', `--recipients ${problem}`);
  return n;
}

/** Records --recipients / --expire on a share. */
export async function recordLimits(
  store: StateStore,
  share: ShareRecord,
  limits: { recipients?: number; expireMinutes?: number },
  now: () => Date,
): Promise<ShareRecord> {
  if (limits.recipients === undefined && limits.expireMinutes === undefined) return share;
  const next = { ...share, ...limits };
  await store.update((s) => {
    const r = s.shares.find((x) => x.id === share.id);
    if (!r) return;
    if (limits.recipients !== undefined) r.recipients = limits.recipients;
    if (limits.expireMinutes !== undefined) r.expireMinutes = limits.expireMinutes;
    r.updatedAt = now().toISOString();
  });
  return next;
}

/**
 * qBittorrent's own share limits for the torrent, the safety net that works while qshare is not running: ratio
 * = recipients (uploaded ≥ N × size) and seeding time = --expire. Nothing is sent when the share has neither.
 * A refusal is returned as an error (the share seeds anyway), not thrown.
 */
export async function applyShareLimits(
  session: QbitSession,
  share: ShareRecord,
  log: Logger,
): Promise<QshareError | undefined> {
  if (share.recipients === undefined && share.expireMinutes === undefined) return undefined;
  try {
    await session.setShareLimits(share.infoHash, {
      ...(share.recipients !== undefined ? { ratio: share.recipients } : {}),
      ...(share.expireMinutes !== undefined ? { seedingTimeMinutes: share.expireMinutes } : {}),
    });
    log.debug('share limits set in qBittorrent', {
      ratio: share.recipients ?? 'global',
      seedingTimeMinutes: share.expireMinutes ?? 'global',
    });
    return undefined;
  } catch (e) {
    if (!isQshareError(e) || e.code === 'INTERRUPTED') throw e;
    return e;
  }
}
