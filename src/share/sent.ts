/**
 * The ledger of bytes sent: how much qshare's seeder sent each peer, including peers that came and went between two
 * looks (on a LAN a small share is sent in less time than one look takes). Pure.
 *
 * What qBittorrent gives: per open connection, the payload bytes sent to that peer (`uploaded` in sync/torrentPeers,
 * fresh at each look), and the torrent's payload bytes sent in all (`uploaded` in torrents/info, refreshed by qBittorrent
 * about every 1.5 s). The difference, less what is explained by the connections seen, is what went to connections
 * nobody saw. A peer's figure is the most any one of its connections showed, never their sum: libtorrent carries what
 * an endpoint was sent into its next connection (measured: a reconnection opened at 7,999,488 = the previous 8,000,273
 * in whole KiB), so a sum would count a reconnecting peer twice. It is judged only at a quiet look (no byte seen going anywhere for QUIET_MS, longer than qBittorrent's
 * refresh), where the torrent's figure has caught up with the connections' and the difference is exact.
 *
 * Unseen bytes go first to peers that left uncounted (a client that reconnected between looks), the one closest to
 * the whole file first; then each whole file's worth counts as one recipient nobody saw (`unseen-N`); a remainder
 * smaller than that (a stranger's last bytes) is written off once it has stopped growing for WRITE_OFF_MS.
 */
import type { PeerInfo } from '../qbit/download.js';

/** No byte seen going to any peer for this long: the torrent's own total has caught up (qBittorrent refreshes ~1.5 s). */
export const QUIET_MS = 3_000;
/** Unseen bytes too few for a whole file are written off once they have not grown for this long. */
export const WRITE_OFF_MS = 30_000;
/** A peer that left uncounted may be given unseen bytes for this long. */
export const CANDIDATE_MS = 60_000;

export interface SentLedger {
  /** the torrent's total before anything seen here (undefined until the first quiet look) */
  base: number | undefined;
  /** per peer key: the most bytes one of its connections that have ended showed */
  closed: Record<string, number>;
  /** per address: the open connection's peer key and the bytes sent on it so far */
  open: Record<string, { key: string; sent: number }>;
  /** per address: the key it last had (a reconnection is listed before its client is known) */
  keyAt: Record<string, string>;
  /** per peer key: unseen bytes given to it */
  credit: Record<string, number>;
  /** unseen bytes given to someone or written off */
  settled: number;
  /** peers that left uncounted having been sent something, and until when they may be given unseen bytes */
  candidates: Record<string, number>;
  /** sum of the seen bytes at the last look, and when it last changed */
  seen: number;
  seenChangedAt: number;
  /** unseen bytes not yet settled at the last quiet look, and when they last grew */
  pending: number;
  pendingGrewAt: number;
  /** how many unseen recipients were counted (their keys: unseen-<time>-1, …, unique across processes) */
  unseenCount: number;
}

/** A new ledger. Its first look is quiet unless bytes are already being sent (then the base waits for a quiet look). */
export function emptyLedger(): SentLedger {
  return {
    base: undefined,
    closed: {},
    open: {},
    keyAt: {},
    credit: {},
    settled: 0,
    candidates: {},
    seen: 0,
    seenChangedAt: -Infinity,
    pending: 0,
    pendingGrewAt: 0,
    unseenCount: 0,
  };
}

export interface LedgerLook {
  now: number;
  /** the torrent's `uploaded` (payload bytes sent, all time) as qBittorrent lists it now */
  torrentUploaded: number;
  connected: PeerInfo[];
  /** peers that left since the last look, as last seen */
  left: PeerInfo[];
  keyOf: (p: PeerInfo) => string;
  /** bytes that count as the whole file (the size less one piece) and the size */
  enough: number;
  size: number;
  /** keys some signal already counts */
  counted: ReadonlySet<string>;
}

/** Bytes seen sent to one peer key: the most any of its connections showed. */
function seenTo(l: Pick<SentLedger, 'closed' | 'open'>, key: string): number {
  let n = l.closed[key] ?? 0;
  for (const c of Object.values(l.open)) if (c.key === key) n = Math.max(n, c.sent);
  return n;
}

/** Bytes sent to one peer key: seen, plus unseen bytes given to it. */
export function sentTo(l: SentLedger, key: string): number {
  return seenTo(l, key) + (l.credit[key] ?? 0);
}

/**
 * Keys that have the whole file by the bytes sent (unseen recipients included): a peer still connected needs all
 * `size` bytes (one piece short and connected is still downloading: stopping then would strand it); one that left
 * needs `enough`, the size less one piece (it may have had that piece from someone else).
 */
export function sentWhole(l: SentLedger, enough: number, size: number): string[] {
  const connected = new Set(Object.values(l.open).map((c) => c.key));
  const keys = new Set([...Object.keys(l.closed), ...Object.keys(l.credit), ...connected]);
  return [...keys].filter((k) => enough > 0 && sentTo(l, k) >= (connected.has(k) ? size : enough));
}

function seenSum(l: Pick<SentLedger, 'closed' | 'open'>): number {
  const keys = new Set([...Object.keys(l.closed), ...Object.values(l.open).map((c) => c.key)]);
  let n = 0;
  for (const k of keys) n += seenTo(l, k);
  return n;
}

/** One look: updates the connections, and at a quiet look gives the unseen bytes out. */
export function stepLedger(before: SentLedger, look: LedgerLook): SentLedger {
  const l: SentLedger = {
    ...before,
    closed: { ...before.closed },
    open: { ...before.open },
    keyAt: { ...before.keyAt },
    credit: { ...before.credit },
    candidates: { ...before.candidates },
  };
  const close = (addr: string) => {
    const c = l.open[addr];
    if (!c) return;
    l.closed[c.key] = Math.max(l.closed[c.key] ?? 0, c.sent);
    delete l.open[addr];
    if (c.sent > 0) l.candidates[c.key] = look.now + CANDIDATE_MS;
  };
  for (const p of look.left) {
    const c = l.open[p.address];
    if (c) c.sent = Math.max(c.sent, p.uploaded);
    close(p.address);
  }
  for (const p of look.connected) {
    // qBittorrent lists a connection before the handshake names its client: such a peer is the one that last had
    // this address (libtorrent carries its bytes into it), or, at an address never seen, nobody yet
    const key = p.client !== '' ? look.keyOf(p) : l.keyAt[p.address];
    if (key === undefined) continue;
    l.keyAt[p.address] = key;
    const c = l.open[p.address];
    // fewer bytes than before on the same address: that connection ended and a new one, not carrying it, began
    if (c && p.uploaded < c.sent) close(p.address);
    const open = l.open[p.address];
    l.open[p.address] = { key, sent: Math.max(open?.sent ?? 0, p.uploaded) };
  }
  for (const [k, until] of Object.entries(l.candidates))
    if (until <= look.now || look.counted.has(k) || sentTo(l, k) >= look.enough) delete l.candidates[k];

  const seen = seenSum(l);
  if (seen !== l.seen) {
    l.seen = seen;
    l.seenChangedAt = look.now;
  }
  if (look.now - l.seenChangedAt < QUIET_MS) return l;
  if (l.base === undefined) {
    l.base = look.torrentUploaded - seen;
    return l;
  }
  let unseen = look.torrentUploaded - l.base - seen - l.settled;
  if (unseen > l.pending) l.pendingGrewAt = look.now;
  const give = (key: string, max: number) => {
    const n = Math.min(unseen, max);
    l.credit[key] = (l.credit[key] ?? 0) + n;
    l.settled += n;
    unseen -= n;
  };
  const waiting = Object.keys(l.candidates)
    .map((k) => ({ k, short: look.enough - sentTo(l, k) }))
    .sort((a, b) => a.short - b.short);
  for (const { k, short } of waiting) {
    if (unseen < short) break;
    give(k, look.size - sentTo(l, k));
    delete l.candidates[k];
  }
  while (look.enough > 0 && unseen >= look.enough)
    give(`unseen-${look.now.toString(36)}-${++l.unseenCount}`, look.size);
  if (unseen > 0 && look.now - l.pendingGrewAt >= WRITE_OFF_MS) {
    l.settled += unseen;
    unseen = 0;
  }
  l.pending = Math.max(0, unseen);
  return l;
}
