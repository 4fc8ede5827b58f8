/**
 * Incremental peer lists: `sync/torrentPeers?hash=…&rid=N`. With the rid of the last answer, qBittorrent sends only
 * what changed: the changed fields of changed peers, the addresses of peers that left (`peers_removed`), and
 * `full_update: true` when it could not diff (first call, or a rid it no longer knows). Pure.
 */
import type { PeerInfo } from './download.js';

/** One answer, read: `peers` holds raw partial peer objects keyed by "ip:port". */
export interface PeerDelta {
  rid: number;
  full: boolean;
  peers: Record<string, Record<string, unknown>>;
  removed: string[];
}

export function parsePeerDelta(answer: unknown): PeerDelta {
  const a = (typeof answer === 'object' && answer !== null ? answer : {}) as Record<string, unknown>;
  const peers: Record<string, Record<string, unknown>> = {};
  if (typeof a.peers === 'object' && a.peers !== null) {
    for (const [addr, raw] of Object.entries(a.peers as Record<string, unknown>))
      if (typeof raw === 'object' && raw !== null) peers[addr] = raw as Record<string, unknown>;
  }
  return {
    rid: typeof a.rid === 'number' && Number.isInteger(a.rid) ? a.rid : 0,
    full: a.full_update === true,
    peers,
    removed: Array.isArray(a.peers_removed) ? a.peers_removed.filter((x): x is string => typeof x === 'string') : [],
  };
}

/** The peer list as known after a series of answers. */
export interface PeerView {
  rid: number;
  /** every connected peer, all fields merged from the answers so far */
  raw: Record<string, Record<string, unknown>>;
}

export const EMPTY_VIEW: PeerView = { rid: 0, raw: {} };

function toPeer(address: string, p: Record<string, unknown>): PeerInfo {
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const ip =
    typeof p.ip === 'string' ? p.ip : typeof p.i2p_dest === 'string' ? p.i2p_dest : address.replace(/:\d+$/, '');
  return {
    address,
    ip,
    client: typeof p.client === 'string' ? p.client : '',
    progress: num(p.progress),
    uploaded: num(p.uploaded),
    downloaded: num(p.downloaded),
  };
}

/**
 * Applies one answer. Returns the new view, the peers connected now, and the peers that left since the last answer
 * (as they were last seen: their progress and what they were sent before they went).
 */
export function applyPeerDelta(
  view: PeerView,
  d: PeerDelta,
): { view: PeerView; connected: PeerInfo[]; left: PeerInfo[] } {
  const raw: Record<string, Record<string, unknown>> = d.full ? {} : { ...view.raw };
  const left: PeerInfo[] = [];
  if (d.full) {
    // a full answer lists everyone: whoever is not in it has left
    for (const [addr, p] of Object.entries(view.raw)) if (!(addr in d.peers)) left.push(toPeer(addr, p));
  }
  for (const addr of d.removed) {
    const p = raw[addr];
    if (p) left.push(toPeer(addr, p));
    delete raw[addr];
  }
  for (const [addr, fields] of Object.entries(d.peers)) raw[addr] = { ...(d.full ? {} : raw[addr]), ...fields };
  return { view: { rid: d.rid, raw }, connected: Object.entries(raw).map(([a, p]) => toPeer(a, p)), left };
}

/** A tracker as torrents/trackers lists it: `num_downloaded` is the tracker's count of completed downloads, -1 unknown. */
export interface TrackerCount {
  url: string;
  downloaded: number;
}

/** torrents/trackers → the real trackers (not DHT/PeX/LSD) with their completed-downloads count. Pure. */
export function parseTrackers(answer: unknown): TrackerCount[] {
  if (!Array.isArray(answer)) return [];
  const out: TrackerCount[] = [];
  for (const t of answer) {
    if (typeof t !== 'object' || t === null) continue;
    const o = t as Record<string, unknown>;
    const url = typeof o.url === 'string' ? o.url : '';
    if (!/^(https?|udp):\/\//i.test(url)) continue; // "** [DHT] **" and friends
    out.push({
      url,
      downloaded: typeof o.num_downloaded === 'number' && Number.isFinite(o.num_downloaded) ? o.num_downloaded : -1,
    });
  }
  return out;
}
