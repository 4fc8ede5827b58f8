import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Logger } from '../log.js';
import type { QbitSession, TorrentStatus } from '../qbit/client.js';
import { isCompletePeer, type PeerInfo } from '../qbit/download.js';
import { applyPeerDelta, EMPTY_VIEW, type PeerView, type TrackerCount } from '../qbit/peers.js';
import { stateKind } from '../qbit/payload.js';
import type { StateStore } from '../state/store.js';
import type { ShareRecord } from '../state/types.js';
import { pieceCountOfTorrent } from '../torrent/read.js';
import { emptyLedger, sentWhole, stepLedger, type SentLedger } from './sent.js';

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
  | 'handed-off'
  | 'unknown'
  | (string & {});

export interface ShareStatus {
  share: ShareRecord;
  state: LiveState;
  torrent: TorrentStatus | undefined;
  /** peers connected right now (0 when not asked) */
  peersConnected: number;
  /** recipients who have the whole file: the largest of the signals below */
  completedPeers: number;
  /** who counted whom: peers seen complete, peers sent the whole file, the trackers' count (null: none answered) */
  signals: { peers: number; uploadedTo: number; tracker: number | null };
  /** nothing was counted, no tracker gave a count, and no qshare process ever watched continuously: 0 means nothing */
  unknown: boolean;
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
      return share.doneAt ? 'done' : share.handedOffAt ? 'handed-off' : 'stopped';
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

/** Bytes a peer must have been sent by us alone to count as having the whole file: the size less one piece. Pure. */
export function wholeFileSent(size: number, pieces: number | undefined): number {
  if (!pieces || pieces <= 1) return size;
  return Math.floor((size * (pieces - 1)) / pieces);
}

/**
 * The trackers' count of completed downloads of this share, as the largest increase over the baseline (per tracker:
 * never their sum, several trackers count the same people). An encrypted share's torrent is new (its archive has a
 * random name and password), so its baseline is 0; a folder shared as it is may be a torrent others made before,
 * so its baseline is the first count seen. Pure. `undefined`: no tracker gave a count.
 */
export function trackerIncrease(trackers: TrackerCount[], baseline: Record<string, number> | undefined, fresh: boolean): { count: number | undefined; baseline: Record<string, number> } {
  const base = { ...(baseline ?? {}) };
  let count: number | undefined;
  for (const t of trackers) {
    if (t.downloaded < 0) continue;
    if (!fresh && base[t.url] === undefined) base[t.url] = t.downloaded;
    const inc = Math.max(0, t.downloaded - (fresh ? 0 : base[t.url]!));
    count = Math.max(count ?? 0, inc);
  }
  return { count, baseline: base };
}

/** The count to show and to stop at: the largest signal (the tracker's count is anonymous, so no union). Pure. */
export function completedCount(share: Pick<ShareRecord, 'completedPeers' | 'uploadedPeers' | 'trackerCompleted'>): number {
  const peers = new Set([...(share.completedPeers ?? []), ...(share.uploadedPeers ?? [])]).size;
  return Math.max(peers, share.trackerCompleted ?? 0);
}

/** Ls's "unknown (nobody was watching)": nothing counted, no tracker count, no continuous observer ever. Pure. */
export function nobodyWatching(share: ShareRecord): boolean {
  return completedCount(share) === 0 && share.trackerCompleted === undefined && share.watchedAt === undefined;
}

/** What a long-running observer remembers of one share between looks (never written anywhere). */
interface Live {
  view: PeerView;
  /** bytes sent to each peer, seen or not */
  ledger: SentLedger;
  /** when to ask the trackers to announce again (a downloading peer left uncounted: its tracker may have its news) */
  reannounceAt: number[];
  /** look at the trackers' counts at every look until then */
  trackersUntil: number;
  lastTrackerLook: number;
  peersConnected: number;
  /** the torrent's total sent at the last look, and whether it had grown: bytes may be going to peers unseen */
  lastUploaded: number;
  sending: boolean;
}

/** After a downloading peer leaves uncounted: announce again after these delays, to learn the trackers' counts. */
export const REANNOUNCE_AFTER_MS = [1_000, 4_000, 10_000];
const TRACKER_LOOK_EVERY_MS = 60_000;
const WATCHED_AT_EVERY_MS = 10 * 60_000;

/**
 * Counts who has each share from every signal qBittorrent gives, and stops a torrent whose `--recipients` target is
 * reached (stop on 5.x, pause on 4.x):
 *   - peers, incrementally (sync/torrentPeers with rid): one seen at 100 %, or one piece short and then gone
 *     (libtorrent drops the connection between two complete peers the moment the second completes);
 *   - bytes sent: a peer that was sent at least the size less one piece by us alone, on one connection or several,
 *     and whole files sent to connections that came and went between two looks (see sent.ts);
 *   - the trackers' count of completed downloads (torrents/trackers num_downloaded), as the largest increase.
 * Peers are keyed by a digest of ip|client. New counts, `doneAt` and the rest are written back to the state file.
 * One look serves `qshare ls`; `seed --until-done` and `watch` keep one observer and look again after nextDelayMs().
 */
export class ShareObserver {
  private readonly live = new Map<string, Live>();
  private lastWatchedAt = 0;
  private idleLooks = 0;

  /** `continuous`: this observer looks again and again (seed --until-done, watch), which the record notes */
  constructor(
    private readonly deps: ObserveDeps,
    private readonly continuous = false,
  ) {}

  /** How long to wait before the next look: short while peers are connected or announces are pending, longer when idle. */
  nextDelayMs(): number {
    const busy = [...this.live.values()].some((l) => l.peersConnected > 0 || l.sending || l.reannounceAt.length > 0 || l.trackersUntil > Date.now());
    if (busy) {
      this.idleLooks = 0;
      return 250;
    }
    this.idleLooks++;
    return Math.min(5_000, 500 * this.idleLooks);
  }

  /** One look at every share. `session` undefined → qBittorrent could not be reached: states are 'unknown'. */
  async look(session: QbitSession | undefined, shares: ShareRecord[]): Promise<ShareStatus[]> {
    const deps = this.deps;
    const all = session ? await session.listAll() : new Map<string, TorrentStatus>();
    const nowMs = deps.now().getTime();
    const stampWatched = this.continuous && nowMs - this.lastWatchedAt >= WATCHED_AT_EVERY_MS;
    if (stampWatched) this.lastWatchedAt = nowMs;
    const out: ShareStatus[] = [];
    const updates = new Map<string, Partial<ShareRecord>>();
    for (const share of shares) {
      const t = all.get(share.infoHash);
      let state: LiveState = session ? liveState(share, t) : 'unknown';
      let rec: ShareRecord = share;
      let peersConnected = 0;
      let stoppedNow = false;
      if (session && t && (state === 'seeding' || state === 'checking')) {
        const u: Partial<ShareRecord> = stampWatched ? { watchedAt: deps.now().toISOString() } : {};
        const live = this.live.get(share.id) ?? { view: EMPTY_VIEW, ledger: emptyLedger(), reannounceAt: [], trackersUntil: 0, lastTrackerLook: -Infinity, peersConnected: 0, lastUploaded: t.uploaded, sending: false };
        this.live.set(share.id, live);
        const pieces = await deps.pieces(share);

        const delta = await session.syncPeers(share.infoHash, live.view.rid);
        const applied = applyPeerDelta(live.view, delta);
        live.view = applied.view;
        live.peersConnected = peersConnected = applied.connected.length;
        const before = { completed: share.completedPeers ?? [], finishing: share.finishingPeers ?? [] };
        const tally = tallyPeers(before, applied.connected, pieces);

        live.sending = t.uploaded !== live.lastUploaded || live.ledger.pending > 0;
        live.lastUploaded = t.uploaded;
        const enough = wholeFileSent(share.size, pieces);
        const uploaded = new Set(share.uploadedPeers ?? []);
        live.ledger = stepLedger(live.ledger, {
          now: nowMs,
          torrentUploaded: t.uploaded,
          connected: applied.connected,
          left: applied.left,
          keyOf: peerKey,
          enough,
          size: share.size,
          counted: new Set([...tally.completed, ...uploaded]),
        });
        for (const k of sentWhole(live.ledger, enough, share.size)) uploaded.add(k);
        // a peer that was downloading and left without being counted: its client may have told a tracker it finished
        const counted = new Set([...tally.completed, ...uploaded]);
        if (applied.left.some((p) => !counted.has(peerKey(p)) && (p.progress > 0 || p.uploaded > 0))) {
          live.reannounceAt = REANNOUNCE_AFTER_MS.map((ms) => nowMs + ms);
          live.trackersUntil = nowMs + REANNOUNCE_AFTER_MS.at(-1)! + 5_000;
        }
        if (live.reannounceAt.length > 0 && live.reannounceAt[0]! <= nowMs) {
          while (live.reannounceAt.length > 0 && live.reannounceAt[0]! <= nowMs) live.reannounceAt.shift();
          await session.reannounce(share.infoHash).catch((e: unknown) => deps.log.debug(`reannounce failed: ${(e as Error).message}`));
        }

        let trackerCompleted = share.trackerCompleted;
        if (live.trackersUntil > nowMs || nowMs - live.lastTrackerLook >= TRACKER_LOOK_EVERY_MS) {
          live.lastTrackerLook = nowMs;
          const trackers = await session.getTrackers(share.infoHash).catch(() => [] as TrackerCount[]);
          const inc = trackerIncrease(trackers, share.trackerBaseline, share.encrypted);
          if (!share.encrypted && JSON.stringify(inc.baseline) !== JSON.stringify(share.trackerBaseline ?? {})) u.trackerBaseline = inc.baseline;
          if (inc.count !== undefined && (trackerCompleted === undefined || inc.count > trackerCompleted)) trackerCompleted = u.trackerCompleted = inc.count;
        }

        if (tally.completed.length !== before.completed.length || tally.finishing.join() !== before.finishing.join()) {
          u.completedPeers = tally.completed;
          u.finishingPeers = tally.finishing;
        }
        if (uploaded.size !== (share.uploadedPeers ?? []).length) u.uploadedPeers = [...uploaded];
        rec = { ...share, ...u, ...(trackerCompleted !== undefined ? { trackerCompleted } : {}) };
        const n = completedCount(rec);
        if (n > completedCount(share)) deps.log.info(`${share.name}: ${n} ${n === 1 ? 'recipient has' : 'recipients have'} the whole file (${signalText(rec)})`, { share: share.name });
        if (shouldStop(rec, n, state)) {
          await session.stopTorrent(share.infoHash);
          stoppedNow = true;
          state = 'done';
          u.doneAt = deps.now().toISOString();
          u.finishingPeers = [];
          rec = { ...rec, ...u };
          this.live.delete(share.id);
          deps.log.info(`${share.name}: ${n} of ${share.recipients} recipients have the whole file; seeding stopped`, { share: share.name });
        }
        if (Object.keys(u).length > 0) updates.set(share.id, u);
      } else {
        this.live.delete(share.id);
      }
      out.push({ share: rec, state, torrent: t, peersConnected, completedPeers: completedCount(rec), signals: signalsOf(rec), unknown: nobodyWatching(rec), stoppedNow });
    }
    if (updates.size > 0) await this.save(updates);
    return out;
  }

  private async save(updates: Map<string, Partial<ShareRecord>>): Promise<void> {
    const deps = this.deps;
    await deps.store.update((s) => {
      for (const r of s.shares) {
        const u = updates.get(r.id);
        if (!u) continue;
        // merged with what another process may have recorded meanwhile
        if (u.completedPeers) r.completedPeers = [...new Set([...(r.completedPeers ?? []), ...u.completedPeers])];
        if (u.uploadedPeers) r.uploadedPeers = [...new Set([...(r.uploadedPeers ?? []), ...u.uploadedPeers])];
        if (u.finishingPeers) r.finishingPeers = u.finishingPeers.filter((k) => !(r.completedPeers ?? []).includes(k));
        if (u.trackerCompleted !== undefined) r.trackerCompleted = Math.max(r.trackerCompleted ?? 0, u.trackerCompleted);
        if (u.trackerBaseline) r.trackerBaseline = { ...u.trackerBaseline, ...(r.trackerBaseline ?? {}) };
        if (u.watchedAt) r.watchedAt = u.watchedAt;
        if (u.doneAt && !r.doneAt) r.doneAt = u.doneAt;
        r.updatedAt = deps.now().toISOString();
      }
    });
  }
}

/** Each signal's count for a record. Pure. */
export function signalsOf(r: ShareRecord): ShareStatus['signals'] {
  return { peers: (r.completedPeers ?? []).length, uploadedTo: (r.uploadedPeers ?? []).length, tracker: r.trackerCompleted ?? null };
}

/** "peers 1, sent 2, tracker 2": what counted, for logs and ls. Pure. */
export function signalText(r: ShareRecord): string {
  const s = signalsOf(r);
  const parts = [s.peers > 0 ? `seen complete ${s.peers}` : '', s.uploadedTo > 0 ? `sent the whole file ${s.uploadedTo}` : '', s.tracker !== null ? `tracker ${s.tracker}` : ''].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'no signal yet';
}

/** One look at the shares, as `qshare ls` takes it. */
export function observeShares(deps: ObserveDeps, session: QbitSession | undefined, shares: ShareRecord[]): Promise<ShareStatus[]> {
  return new ShareObserver(deps).look(session, shares);
}
