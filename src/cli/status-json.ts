import type { ShareStatus } from '../share/observe.js';

/** A share's status as --json gives it: ls (one per share) and seed --until-done (its last look). Pure. */
export function statusJson(s: ShareStatus): Record<string, unknown> {
  const t = s.torrent;
  return {
    id: s.share.id,
    name: s.share.name,
    infoHash: s.share.infoHash,
    size: s.share.size,
    state: s.state,
    peers: s.peersConnected,
    uploaded: t?.uploaded ?? null,
    ratio: t?.ratio ?? null,
    completedPeers: s.completedPeers,
    // who counted whom: peers seen with the whole file, peers sent the whole file, the trackers' count (null: none)
    signals: s.signals,
    // true: 0 means nothing (nobody was watching and no tracker gave a count)
    completedUnknown: s.unknown,
    recipients: s.share.recipients ?? null,
    expireMinutes: s.share.expireMinutes ?? null,
    seedingTimeSeconds: t?.seedingTime ?? null,
    doneAt: s.share.doneAt ?? null,
    createdAt: s.share.createdAt,
    encrypted: s.share.encrypted,
    ...(s.share.lastError ? { lastError: s.share.lastError } : {}),
  };
}
