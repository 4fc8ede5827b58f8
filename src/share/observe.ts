import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { readFile } from 'node:fs/promises';
import { splitPeer } from '../config/schema.js';
import { isQshareError } from '../errors.js';
import type { Logger } from '../log.js';
import type { QbitSession, TorrentStatus } from '../qbit/session.js';
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

/** The recipients target is reached and the share still runs (here, or on its relays after a hand-off): time to stop it. Pure. */
export function shouldStop(share: ShareRecord, completed: number, state: LiveState): boolean {
  return (
    share.recipients !== undefined &&
    share.recipients > 0 &&
    completed >= share.recipients &&
    (state === 'seeding' || state === 'checking' || state === 'handed-off')
  );
}

/** The relays a share is on (they took it and it was not stopped there). Pure. */
export function activeRelays(share: ShareRecord): string[] {
  return (share.relays ?? []).filter((r) => r.added && r.state !== 'stopped').map((r) => r.name);
}

/** A relay's addresses: its peer host as given (an IP), or what the name resolves to. */
export async function relayAddresses(peer: string): Promise<string[]> {
  const host = splitPeer(peer)?.host;
  if (host === undefined) return [];
  if (isIP(host)) return [host];
  return (await lookup(host, { all: true }).catch(() => [])).map((a) => a.address);
}

export interface ObserveDeps {
  store: StateStore;
  log: Logger;
  now: () => Date;
  /** how many pieces the share's torrent has (from its .torrent), for spotting peers one piece from the end */
  pieces: (share: ShareRecord) => Promise<number | undefined>;
  /** a relay's qBittorrent by name: a share's relays see recipients home never meets, so they are counted there too */
  relay?: (name: string) => Promise<QbitSession>;
  /** a relay's addresses from its peer address (default: relayAddresses), so that a relay never counts as a recipient */
  relayIps?: (peer: string) => Promise<string[]>;
}

/** What an observer remembers of one share on one relay between looks. */
interface RelayLive {
  view: PeerView;
  ledger: SentLedger;
  /** peers first seen there with the whole file (home, another relay, a seed): never recipients of the relay's */
  seeds: Set<string>;
  /** peers seen there downloading */
  downloading: Set<string>;
  finishing: string[];
  completed: Set<string>;
  uploaded: Set<string>;
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
export function trackerIncrease(
  trackers: TrackerCount[],
  baseline: Record<string, number> | undefined,
  fresh: boolean,
): { count: number | undefined; baseline: Record<string, number> } {
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
export function completedCount(
  share: Pick<ShareRecord, 'completedPeers' | 'uploadedPeers' | 'trackerCompleted'>,
): number {
  const peers = new Set([...(share.completedPeers ?? []), ...(share.uploadedPeers ?? [])]).size;
  return Math.max(peers, share.trackerCompleted ?? 0);
}

/**
 * A tracker's completed count less the share's relays: each relay that took the share downloads it whole and tells
 * the trackers so, and is no recipient. Counting a relay that never completes out too errs on seeding longer. Pure.
 */
export function trackerCountWithoutRelays(
  count: number | undefined,
  share: Pick<ShareRecord, 'relays'>,
): number | undefined {
  if (count === undefined) return undefined;
  return Math.max(0, count - (share.relays ?? []).filter((r) => r.added).length);
}

/** Ls's "unknown (nobody was watching)": nothing counted, no tracker count, no continuous observer ever. Pure. */
export function nobodyWatching(share: ShareRecord): boolean {
  return completedCount(share) === 0 && share.trackerCompleted === undefined && share.watchedAt === undefined;
}

/** One look's step of a sent ledger (sent.ts) for a share's torrent, and the peers it now says were sent the whole file. */
function sentStep(
  ledger: SentLedger,
  o: {
    now: number;
    torrentUploaded: number;
    applied: { connected: PeerInfo[]; left: PeerInfo[] };
    share: ShareRecord;
    pieces: number | undefined;
    counted: Set<string>;
  },
): { ledger: SentLedger; whole: string[] } {
  const enough = wholeFileSent(o.share.size, o.pieces);
  const next = stepLedger(ledger, {
    now: o.now,
    torrentUploaded: o.torrentUploaded,
    connected: o.applied.connected,
    left: o.applied.left,
    keyOf: peerKey,
    enough,
    size: o.share.size,
    counted: o.counted,
  });
  return { ledger: next, whole: sentWhole(next, enough, o.share.size) };
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
  /** the keys of the share's relays as this computer saw them (a relay downloading from home is no recipient) */
  relayKeys: Set<string>;
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
  private readonly relayLive = new Map<string, RelayLive>();
  private readonly ipsOfRelay = new Map<string, Promise<string[]>>();
  private lastWatchedAt = 0;
  private idleLooks = 0;

  /** `continuous`: this observer looks again and again (seed --until-done, watch), which the record notes */
  constructor(
    private readonly deps: ObserveDeps,
    private readonly continuous = false,
  ) {}

  /** How long to wait before the next look: short while peers are connected or announces are pending, longer when idle. */
  nextDelayMs(): number {
    const busy =
      [...this.live.values()].some(
        (l) => l.peersConnected > 0 || l.sending || l.reannounceAt.length > 0 || l.trackersUntil > Date.now(),
      ) || [...this.relayLive.values()].some((l) => Object.keys(l.view.raw).length > 0);
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
      const u: Partial<ShareRecord> = {};
      if (
        stampWatched &&
        session &&
        (state === 'seeding' || state === 'checking' || (state === 'handed-off' && activeRelays(share).length > 0))
      )
        u.watchedAt = deps.now().toISOString();
      if (session && t && (state === 'seeding' || state === 'checking')) {
        const live = this.live.get(share.id) ?? {
          view: EMPTY_VIEW,
          ledger: emptyLedger(),
          reannounceAt: [],
          trackersUntil: 0,
          lastTrackerLook: -Infinity,
          peersConnected: 0,
          lastUploaded: t.uploaded,
          sending: false,
          relayKeys: new Set<string>(),
        };
        this.live.set(share.id, live);
        const pieces = await deps.pieces(share);

        const delta = await session.syncPeers(share.infoHash, live.view.rid);
        const applied = applyPeerDelta(live.view, delta);
        live.view = applied.view;
        live.peersConnected = peersConnected = applied.connected.length;
        // the share's relays download from home like anyone else: they are not recipients
        const relayIps = await this.relayIpsOf(share);
        for (const p of [...applied.connected, ...applied.left]) if (relayIps.has(p.ip)) live.relayKeys.add(peerKey(p));
        const notRelay = (k: string) => !live.relayKeys.has(k);
        const before = { completed: share.completedPeers ?? [], finishing: share.finishingPeers ?? [] };
        const tally = tallyPeers(
          before,
          applied.connected.filter((p) => notRelay(peerKey(p))),
          pieces,
        );

        live.sending = t.uploaded !== live.lastUploaded || live.ledger.pending > 0;
        live.lastUploaded = t.uploaded;
        const uploaded = new Set(share.uploadedPeers ?? []);
        const sent = sentStep(live.ledger, {
          now: nowMs,
          torrentUploaded: t.uploaded,
          applied,
          share,
          pieces,
          counted: new Set([...tally.completed, ...uploaded]),
        });
        live.ledger = sent.ledger;
        for (const k of sent.whole) if (notRelay(k)) uploaded.add(k);
        // a peer that was downloading and left without being counted: its client may have told a tracker it finished
        const counted = new Set([...tally.completed, ...uploaded]);
        if (applied.left.some((p) => !counted.has(peerKey(p)) && (p.progress > 0 || p.uploaded > 0))) {
          live.reannounceAt = REANNOUNCE_AFTER_MS.map((ms) => nowMs + ms);
          live.trackersUntil = nowMs + REANNOUNCE_AFTER_MS.at(-1)! + 5_000;
        }
        if (live.reannounceAt.length > 0 && live.reannounceAt[0]! <= nowMs) {
          while (live.reannounceAt.length > 0 && live.reannounceAt[0]! <= nowMs) live.reannounceAt.shift();
          await session
            .reannounce(share.infoHash)
            .catch((e: unknown) => deps.log.debug(`reannounce failed: ${(e as Error).message}`));
        }

        let trackerCompleted = share.trackerCompleted;
        if (live.trackersUntil > nowMs || nowMs - live.lastTrackerLook >= TRACKER_LOOK_EVERY_MS) {
          live.lastTrackerLook = nowMs;
          const trackers = await session.getTrackers(share.infoHash).catch(() => [] as TrackerCount[]);
          const inc = trackerIncrease(trackers, share.trackerBaseline, share.encrypted);
          if (!share.encrypted && JSON.stringify(inc.baseline) !== JSON.stringify(share.trackerBaseline ?? {}))
            u.trackerBaseline = inc.baseline;
          const count = trackerCountWithoutRelays(inc.count, share);
          if (count !== undefined && (trackerCompleted === undefined || count > trackerCompleted))
            trackerCompleted = u.trackerCompleted = count;
        }

        if (tally.completed.length !== before.completed.length || tally.finishing.join() !== before.finishing.join()) {
          u.completedPeers = tally.completed;
          u.finishingPeers = tally.finishing;
        }
        if (uploaded.size !== (share.uploadedPeers ?? []).length) u.uploadedPeers = [...uploaded];
        rec = { ...share, ...u, ...(trackerCompleted !== undefined ? { trackerCompleted } : {}) };
      } else {
        this.live.delete(share.id);
      }
      // the relays see recipients home never meets (home behind NAT, or gone after a hand-off)
      const onRelays =
        deps.relay && !share.doneAt && (state === 'seeding' || state === 'checking' || state === 'handed-off')
          ? activeRelays(share)
          : [];
      if (onRelays.length > 0) {
        const seen = await this.lookOnRelays(rec, onRelays);
        const completed = [...new Set([...(rec.completedPeers ?? []), ...seen.completed])];
        const uploaded = [...new Set([...(rec.uploadedPeers ?? []), ...seen.uploaded])];
        if (completed.length !== (rec.completedPeers ?? []).length) u.completedPeers = completed;
        if (uploaded.length !== (rec.uploadedPeers ?? []).length) u.uploadedPeers = uploaded;
        if (u.finishingPeers === undefined && completed.length !== (rec.completedPeers ?? []).length)
          u.finishingPeers = (rec.finishingPeers ?? []).filter((k) => !completed.includes(k));
        rec = { ...rec, ...u };
        peersConnected += seen.connected;
      }
      const n = completedCount(rec);
      if (n > completedCount(share))
        deps.log.info(
          `${share.name}: ${n} ${n === 1 ? 'recipient has' : 'recipients have'} the whole file (${signalText(rec)})`,
          { share: share.name },
        );
      if (session && shouldStop(rec, n, state)) {
        if (state !== 'handed-off') await session.stopTorrent(share.infoHash);
        for (const name of onRelays) await this.stopOnRelay(share, name);
        stoppedNow = true;
        state = 'done';
        u.doneAt = deps.now().toISOString();
        u.finishingPeers = [];
        rec = { ...rec, ...u };
        this.live.delete(share.id);
        for (const name of onRelays) this.relayLive.delete(`${share.id}|${name}`);
        deps.log.info(
          `${share.name}: ${n} of ${share.recipients} recipients have the whole file; seeding stopped${onRelays.length > 0 ? ' here and on its relays' : ''}`,
          { share: share.name },
        );
      }
      if (Object.keys(u).length > 0) updates.set(share.id, u);
      out.push({
        share: rec,
        state,
        torrent: t,
        peersConnected,
        completedPeers: completedCount(rec),
        signals: signalsOf(rec),
        unknown: nobodyWatching(rec),
        stoppedNow,
      });
    }
    if (updates.size > 0) await this.save(updates);
    return out;
  }

  /** The addresses of a share's relays (resolved once per observer). */
  private async relayIpsOf(share: ShareRecord): Promise<Set<string>> {
    const out = new Set<string>();
    for (const r of share.relays ?? []) {
      let p = this.ipsOfRelay.get(r.peer);
      if (!p) {
        p = (this.deps.relayIps ?? relayAddresses)(r.peer).catch(() => []);
        this.ipsOfRelay.set(r.peer, p);
      }
      for (const ip of await p) out.add(ip);
    }
    return out;
  }

  /**
   * One look at a share on each of its relays: who the relay saw downloading and then with the whole file (or one
   * piece short and gone), and whom it sent the whole file. Peers first seen there with the whole file (home, another
   * relay, any seed) and the share's relays never count. A relay that does not answer is passed over this time.
   */
  private async lookOnRelays(
    share: ShareRecord,
    names: readonly string[],
  ): Promise<{ completed: string[]; uploaded: string[]; connected: number }> {
    const deps = this.deps;
    const pieces = await deps.pieces(share);
    const relayIps = await this.relayIpsOf(share);
    const completed = new Set<string>();
    const uploaded = new Set<string>();
    let connected = 0;
    for (const name of names) {
      try {
        const relay = await deps.relay!(name);
        const t = await relay.getTorrent(share.infoHash);
        if (!t) continue;
        const key = `${share.id}|${name}`;
        const live = this.relayLive.get(key) ?? {
          view: EMPTY_VIEW,
          ledger: emptyLedger(),
          seeds: new Set<string>(),
          downloading: new Set<string>(),
          finishing: [],
          completed: new Set<string>(),
          uploaded: new Set<string>(),
        };
        this.relayLive.set(key, live);
        const applied = applyPeerDelta(live.view, await relay.syncPeers(share.infoHash, live.view.rid));
        live.view = applied.view;
        connected += applied.connected.length;
        for (const p of applied.connected) {
          const k = peerKey(p);
          if (relayIps.has(p.ip) || (p.progress >= 1 && !live.downloading.has(k))) live.seeds.add(k);
          else if (p.progress < 1) live.downloading.add(k);
        }
        const recipients = applied.connected.filter((p) => !live.seeds.has(peerKey(p)));
        const tally = tallyPeers({ completed: [...live.completed], finishing: live.finishing }, recipients, pieces);
        live.finishing = tally.finishing;
        for (const k of tally.completed) live.completed.add(k);
        const sent = sentStep(live.ledger, {
          now: deps.now().getTime(),
          torrentUploaded: t.uploaded,
          applied,
          share,
          pieces,
          counted: new Set([...live.completed, ...live.uploaded, ...live.seeds]),
        });
        live.ledger = sent.ledger;
        for (const k of sent.whole) if (!live.seeds.has(k)) live.uploaded.add(k);
        for (const k of live.completed) completed.add(k);
        for (const k of live.uploaded) uploaded.add(k);
      } catch (e) {
        if (!isQshareError(e) || e.code === 'INTERRUPTED') throw e;
        deps.log.debug(`relay ${name} not looked at: ${e.message}`, { share: share.name });
      }
    }
    return { completed: [...completed], uploaded: [...uploaded], connected };
  }

  /** Stops the share on one relay (its recipients target is reached); a relay that does not answer is said. */
  private async stopOnRelay(share: ShareRecord, name: string): Promise<void> {
    try {
      await (await this.deps.relay!(name)).stopTorrent(share.infoHash);
    } catch (e) {
      if (!isQshareError(e) || e.code === 'INTERRUPTED') throw e;
      this.deps.log.warn(
        `${share.name}: could not stop it on relay "${name}" (${e.message}); qshare stop ${share.name} removes it there`,
        { share: share.name },
      );
    }
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
        if (u.trackerCompleted !== undefined)
          r.trackerCompleted = Math.max(r.trackerCompleted ?? 0, u.trackerCompleted);
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
  return {
    peers: (r.completedPeers ?? []).length,
    uploadedTo: (r.uploadedPeers ?? []).length,
    tracker: r.trackerCompleted ?? null,
  };
}

/** "peers 1, sent 2, tracker 2": what counted, for logs and ls. Pure. */
export function signalText(r: ShareRecord): string {
  const s = signalsOf(r);
  const parts = [
    s.peers > 0 ? `seen complete ${s.peers}` : '',
    s.uploadedTo > 0 ? `sent the whole file ${s.uploadedTo}` : '',
    s.tracker !== null ? `tracker ${s.tracker}` : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'no signal yet';
}

/** One look at the shares, as `qshare ls` takes it. */
export function observeShares(
  deps: ObserveDeps,
  session: QbitSession | undefined,
  shares: ShareRecord[],
): Promise<ShareStatus[]> {
  return new ShareObserver(deps).look(session, shares);
}
