import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Logger } from '../log.js';
import type { QbitSession, TorrentStatus } from '../qbit/client.js';
import { isCompletePeer, type PeerInfo } from '../qbit/download.js';
import { stateKind } from '../qbit/payload.js';
import type { StateStore } from '../state/store.js';
import type { ShareRecord } from '../state/types.js';
import { pieceCountOfTorrent } from '../torrent/read.js';

/** What `qshare ls` shows for a share: its record joined with what qBittorrent says now. */
export type LiveState =
  | 'seeding'
  | 'stopped'
  | 'done'
  | 'checking'
  | 'missing'
  | 'error'
  | 'not-in-qbittorrent'
  | 'created'
  | 'unknown'
  | (string & {});

export interface ShareStatus {
  share: ShareRecord;
  state: LiveState;
  torrent: TorrentStatus | undefined;
  /** peers connected right now (0 when not asked) */
  peersConnected: number;
  /** distinct peers seen with the complete file, ever (while qshare observed) */
  completedPeers: number;
  /** true when this observation stopped the torrent (the recipients target was reached) */
  stoppedNow: boolean;
}

/** A peer's identity for counting: a short digest of ip + client. Two people behind one router with the same app count once. */
export function peerKey(p: PeerInfo): string {
  return createHash('sha256').update(`${p.ip}|${p.client}`).digest('hex').slice(0, 16);
}

export interface PeerTally {
  completed: string[];
  finishing: string[];
}

/**
 * Updates who has the whole file from the peers connected now. Pure. A peer counts as complete when it is seen at
 * 100 %, or when it was seen one piece short of the end (`finishing`) and is no longer connected: qBittorrent
 * (libtorrent) drops the connection between two complete peers at the moment the second completes, so a peer at
 * 100 % is rarely visible. `pieces` undefined: only 100 % counts.
 */
export function tallyPeers(before: PeerTally, peers: PeerInfo[], pieces: number | undefined): PeerTally {
  const completed = [...before.completed];
  const add = (k: string) => {
    if (!completed.includes(k)) completed.push(k);
  };
  const connected = new Map<string, PeerInfo>();
  for (const p of peers) {
    const k = peerKey(p);
    const prev = connected.get(k);
    if (!prev || p.progress > prev.progress) connected.set(k, p);
  }
  for (const k of before.finishing) if (!connected.has(k)) add(k);
  const finishing: string[] = [];
  const almost = pieces !== undefined && pieces > 1 ? (pieces - 1) / pieces - 1e-9 : Infinity;
  for (const [k, p] of connected) {
    if (isCompletePeer(p)) add(k);
    else if (p.progress >= almost && !completed.includes(k)) finishing.push(k);
  }
  return { completed, finishing };
}

/** The state to show, from the record and the torrent as qBittorrent lists it (undefined: not listed). Pure. */
export function liveState(share: ShareRecord, t: TorrentStatus | undefined): LiveState {
  if (!t) {
    if (share.doneAt) return 'done';
    if (share.state === 'stopped' || share.state === 'created') return share.state;
    return 'not-in-qbittorrent';
  }
  switch (stateKind(t.state)) {
    case 'active-up':
      return 'seeding';
    case 'stopped-up':
    case 'stopped-down':
      return share.doneAt ? 'done' : 'stopped';
    case 'missing':
      return 'missing';
    case 'error':
      return 'error';
    case 'checking':
      return 'checking';
    default:
      return t.state;
  }
}

/** The recipients target is reached and the torrent still runs: time to stop it. Pure. */
export function shouldStop(share: ShareRecord, completed: number, state: LiveState): boolean {
  return share.recipients !== undefined && share.recipients > 0 && completed >= share.recipients && (state === 'seeding' || state === 'checking');
}

export interface ObserveDeps {
  store: StateStore;
  log: Logger;
  now: () => Date;
  /** how many pieces the share's torrent has (from its .torrent), for spotting peers one piece from the end */
  pieces: (share: ShareRecord) => Promise<number | undefined>;
}

/** ObserveDeps.pieces from the share's own .torrent file. */
export async function piecesFromTorrentFile(share: ShareRecord): Promise<number | undefined> {
  const bytes = await readFile(share.torrentFile).catch(() => undefined);
  return bytes ? pieceCountOfTorrent(bytes) : undefined;
}

/**
 * Looks at every share in qBittorrent: counts peers seen with the whole file (sync/torrentPeers, progress 1), and
 * stops (5.x) or pauses (4.x) a torrent whose `--recipients` target is reached. New completions and `doneAt` are
 * written back to the state file. `session` undefined → qBittorrent could not be reached: states are 'unknown'.
 */
export async function observeShares(deps: ObserveDeps, session: QbitSession | undefined, shares: ShareRecord[]): Promise<ShareStatus[]> {
  const all = session ? await session.listAll() : new Map<string, TorrentStatus>();
  const out: ShareStatus[] = [];
  const updates = new Map<string, Pick<ShareRecord, 'completedPeers' | 'finishingPeers' | 'doneAt'>>();
  for (const share of shares) {
    const t = all.get(share.infoHash);
    let state: LiveState = session ? liveState(share, t) : 'unknown';
    let peersConnected = 0;
    let completed = share.completedPeers ?? [];
    let stoppedNow = false;
    if (session && t && (state === 'seeding' || state === 'checking')) {
      const peers = await session.getPeers(share.infoHash);
      peersConnected = peers.length;
      const before = { completed, finishing: share.finishingPeers ?? [] };
      const tally = tallyPeers(before, peers, await deps.pieces(share));
      if (tally.completed.length > completed.length) {
        deps.log.info(`${share.name}: ${tally.completed.length} ${tally.completed.length === 1 ? 'peer has' : 'peers have'} been seen with the whole file`);
      }
      if (tally.completed.length !== completed.length || tally.finishing.join() !== before.finishing.join()) {
        updates.set(share.id, { completedPeers: tally.completed, finishingPeers: tally.finishing });
      }
      completed = tally.completed;
      if (shouldStop(share, completed.length, state)) {
        await session.stopTorrent(share.infoHash);
        stoppedNow = true;
        state = 'done';
        const doneAt = deps.now().toISOString();
        updates.set(share.id, { completedPeers: completed, finishingPeers: [], doneAt });
        deps.log.info(`${share.name}: ${completed.length} of ${share.recipients} recipients' peers have the whole file; seeding stopped`);
      }
    }
    out.push({ share: { ...share, completedPeers: completed, ...(updates.get(share.id) ?? {}) }, state, torrent: t, peersConnected, completedPeers: completed.length, stoppedNow });
  }
  if (updates.size > 0) {
    await deps.store.update((s) => {
      for (const r of s.shares) {
        const u = updates.get(r.id);
        if (!u) continue;
        // merge with what another process may have recorded meanwhile
        r.completedPeers = [...new Set([...(r.completedPeers ?? []), ...(u.completedPeers ?? [])])];
        if (u.finishingPeers) r.finishingPeers = u.finishingPeers.filter((k) => !r.completedPeers!.includes(k));
        if (u.doneAt && !r.doneAt) r.doneAt = u.doneAt;
        r.updatedAt = deps.now().toISOString();
      }
    });
  }
  return out;
}
