/**
 * A connected qBittorrent (connect.ts makes one): the calls qshare makes on it, each one request through the
 * session's Api (http.ts), with the payloads built by the pure functions in payload.ts and download.ts.
 */
import { QshareError } from '../errors.js';
import { sleep } from '../abort.js';
import type { Logger } from '../log.js';
import { buildDownloadFields, type DownloadRequest } from './download.js';
import type { Api } from './http.js';
import { apiError } from './messages.js';
import {
  buildAddFields,
  buildShareLimitFields,
  classifyAdd,
  classifyState,
  isApiV5,
  type ApiVersion,
  type SeedRequest,
  type ShareLimits,
} from './payload.js';
import { parsePeerDelta, parseTrackers, type PeerDelta, type TrackerCount } from './peers.js';
export interface TorrentStatus {
  hash: string;
  name: string;
  /** raw qBittorrent state */
  state: string;
  progress: number;
  savePath: string;
  uploaded: number;
  ratio: number;
  numSeeds?: number;
  numLeechs?: number;
  /** bytes selected for download (the whole torrent for ours) */
  size?: number;
  /** bytes per second */
  dlSpeed?: number;
  upSpeed?: number;
  /** seconds; qBittorrent says 8640000 for "unknown" */
  eta?: number;
  downloaded?: number;
  category?: string;
  /** seconds spent seeding (qBittorrent ≥ 4.4) */
  seedingTime?: number;
  /** the torrent's own share limits (-2 global, -1 none) */
  ratioLimit?: number;
  seedingTimeLimit?: number;
}

export interface TorrentFileStatus {
  /** path relative to the save path, `/`-separated */
  name: string;
  size: number;
  progress: number;
}

export interface WaitOptions {
  timeoutMs: number;
  /** the steady pace, default 1000 (see seedPollDelay for the first seconds) */
  pollMs?: number;
  /** the save path as qBittorrent sees it, for the missing-files message */
  savePathHint: string;
  signal?: AbortSignal;
}

export interface QbitSession {
  readonly appVersion: string;
  readonly apiVersion: ApiVersion;
  /** the Web UI address as shown in messages (no credentials) */
  readonly url: string;
  /** how this session got in: a login with the password, a 5.2 API key, or none needed (bypass/whitelist) */
  readonly authMode: AuthMode;
  /** 'already-present' when qBittorrent refused it as a duplicate and lists the torrent. */
  addForSeeding(req: SeedRequest, infoHash: string): Promise<'added' | 'already-present'>;
  getTorrent(infoHash: string): Promise<TorrentStatus | undefined>;
  waitUntilSeeding(infoHash: string, opts: WaitOptions): Promise<TorrentStatus>;
  remove(infoHash: string, deleteFiles: boolean): Promise<void>;
  /** adds a .torrent or magnet for downloading (no skip_checking); 'already-present' when qBittorrent has it */
  addForDownload(req: DownloadRequest, infoHash: string): Promise<'added' | 'already-present'>;
  /** torrents/files; [] while a magnet link's metadata is not there yet */
  getFiles(infoHash: string): Promise<TorrentFileStatus[]>;
  /** sync/torrentPeers from `rid` on: what changed since that answer (rid 0: everything); see peers.ts */
  syncPeers(infoHash: string, rid: number): Promise<PeerDelta>;
  /** torrents/trackers: each real tracker's count of completed downloads (-1 unknown) */
  getTrackers(infoHash: string): Promise<TrackerCount[]>;
  /** torrents/addPeers: connect to these `host:port` peers now (an outgoing connection passes the NAT at home) */
  addPeers(infoHash: string, peers: readonly string[]): Promise<void>;
  /** torrents/reannounce: announce to the trackers now (to learn their counts) */
  reannounce(infoHash: string): Promise<void>;
  /** stops (5.x torrents/stop) or pauses (4.x torrents/pause) a torrent: it stays listed, with its files */
  stopTorrent(infoHash: string): Promise<void>;
  /** starts (5.x) or resumes (4.x) a torrent */
  startTorrent(infoHash: string): Promise<void>;
  /** every torrent qBittorrent lists, by lowercase info hash */
  listAll(): Promise<Map<string, TorrentStatus>>;
  /** torrents/setShareLimits with the fields this version requires (buildShareLimitFields) */
  setShareLimits(infoHash: string, limits: ShareLimits): Promise<void>;
  /** app/preferences, keys as qBittorrent names them (dht, pex, encryption, anonymous_mode, proxy_type, upnp, …) */
  getPreferences(): Promise<Record<string, unknown>>;
  /** app/setPreferences with only the given keys */
  setPreferences(prefs: Record<string, unknown>): Promise<void>;
  /** sync/maindata's server_state: connection_status, dht_nodes, free_space_on_disk, … */
  serverState(): Promise<ServerState>;
}

/** waitUntilSeeding polls this often for its first FAST_POLL_WINDOW_MS */
export const FAST_POLL_MS = 50;
export const FAST_POLL_WINDOW_MS = 4_000;

/**
 * How long waitUntilSeeding waits before its next look, `elapsedMs` after it began. qBittorrent turns a torrent
 * added with its data in place into "seeding" at its next state refresh (every 1.5 s by default, so 0.4–1.4 s after
 * the add), and that moment is the end of `qshare add`: the first seconds are polled every 50 ms (a small local
 * request) so the wait ends within 50 ms of it; after that, at the steady pace.
 */
export function seedPollDelay(elapsedMs: number, pollMs: number): number {
  return elapsedMs < FAST_POLL_WINDOW_MS ? Math.min(FAST_POLL_MS, pollMs) : pollMs;
}
/** How long a torrent may stay stopped after qshare started it before that is reported (share limit reached…). */
const STOPPED_GRACE_MS = 3_000;

/** qBittorrent's torrents/info entry: the fields qshare reads (all optional: they differ a little by version). */
interface RawTorrent {
  hash?: string;
  infohash_v1?: string;
  name?: string;
  state?: string;
  progress?: number;
  save_path?: string;
  uploaded?: number;
  ratio?: number;
  num_seeds?: number;
  num_leechs?: number;
  size?: number;
  dlspeed?: number;
  upspeed?: number;
  eta?: number;
  downloaded?: number;
  category?: string;
  seeding_time?: number;
  ratio_limit?: number;
  seeding_time_limit?: number;
}

function toStatus(t: RawTorrent): TorrentStatus {
  return {
    hash: String(t.hash ?? '').toLowerCase(),
    name: String(t.name ?? ''),
    state: String(t.state),
    progress: Number(t.progress ?? 0),
    savePath: String(t.save_path ?? ''),
    uploaded: Number(t.uploaded ?? 0),
    ratio: Number(t.ratio ?? 0),
    numSeeds: t.num_seeds,
    numLeechs: t.num_leechs,
    size: t.size,
    dlSpeed: t.dlspeed,
    upSpeed: t.upspeed,
    eta: t.eta,
    downloaded: t.downloaded,
    category: t.category,
    seedingTime: t.seeding_time,
    ratioLimit: t.ratio_limit,
    seedingTimeLimit: t.seeding_time_limit,
  };
}

function interrupted(): QshareError {
  return new QshareError('INTERRUPTED', 'interrupted while waiting for qBittorrent');
}

function percent(p: number): string {
  return `${Math.floor(p * 1000) / 10}%`;
}

export type AuthMode = 'password' | 'api-key' | 'none';

/** What sync/maindata says about the whole client (fields differ a little by version, so all optional). */
export interface ServerState {
  connection_status?: string;
  dht_nodes?: number;
  free_space_on_disk?: number;
  [key: string]: unknown;
}
export class Session implements QbitSession {
  authMode: AuthMode = 'none';

  constructor(
    private readonly api: Api,
    readonly url: string,
    readonly appVersion: string,
    readonly apiVersion: ApiVersion,
    private readonly log: Logger,
  ) {}

  /** 5.x renamed pause/resume to stop/start (the old names answer 404 there) */
  private v5(then: string, before: string): string {
    return isApiV5(this.apiVersion) ? then : before;
  }

  /**
   * POST torrents/add with our own form. Answers 4.x give as text (`Ok.`/`Fails.`) and 5.2 as JSON come back as a
   * status and the body's text for classifyAdd; a rejected session stays an error.
   */
  /**
   * The one torrents/add, for seeding and for downloading: the .torrent file (or a magnet link in the fields), then
   * what qBittorrent's answer means. `what` names the torrent in messages; `where` is the save path it uses.
   */
  private async add(
    infoHash: string,
    fields: Record<string, string>,
    file: { bytes: Uint8Array; name: string } | undefined,
    about: { what: string; where: string; notTorrent: QshareError },
  ): Promise<'added' | 'already-present'> {
    const hash = infoHash.toLowerCase();
    const form = new FormData();
    if (file)
      form.append('torrents', new File([new Uint8Array(file.bytes)], file.name, { type: 'application/x-bittorrent' }));
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    const { status, body } = await this.api.answer('POST torrents/add', '/torrents/add', { form });
    const verdict = classifyAdd(status, body);
    this.log.debug('torrents/add answered', { status, verdict });
    switch (verdict) {
      case 'added':
      case 'pending':
        return 'added';
      case 'not-a-torrent':
        throw about.notTorrent;
      case 'duplicate-or-failed': {
        if (await this.getTorrent(hash)) return 'already-present';
        throw new QshareError(
          'QBIT_REJECTED',
          `qBittorrent at ${this.url} did not add ${about.what} (HTTP ${status} "${body.trim().slice(0, 120)}") and does not list torrent ${hash}: ` +
            `look in its log (View → Log, or Execution Log in the Web UI) for why; often ${about.where} cannot be written where qBittorrent runs, or its disk is full`,
        );
      }
      case 'unexpected':
        throw apiError(this.url, status, body, 'POST torrents/add');
    }
  }

  addForSeeding(req: SeedRequest, infoHash: string): Promise<'added' | 'already-present'> {
    return this.add(
      infoHash,
      buildAddFields(req, this.apiVersion),
      { bytes: req.torrent, name: req.fileName },
      {
        what: req.fileName,
        where: `the save path ${req.savePath}`,
        notTorrent: new QshareError(
          'QBIT_REJECTED',
          `qBittorrent at ${this.url} says ${req.fileName} is not a valid torrent file: make the torrent again`,
        ),
      },
    );
  }

  async getTorrent(infoHash: string): Promise<TorrentStatus | undefined> {
    const hash = infoHash.toLowerCase();
    const list = await this.api.json<RawTorrent[]>('GET torrents/info', '/torrents/info', { query: { hashes: hash } });
    // an unknown filter makes qBittorrent return every torrent, so match the hash here too
    const t = (Array.isArray(list) ? list : []).find(
      (x) => x.hash?.toLowerCase() === hash || x.infohash_v1?.toLowerCase() === hash,
    );
    return t ? toStatus(t) : undefined;
  }

  /**
   * Polls until the torrent is complete (progress 1) in an upload state. Decisions:
   * - pausedUP/stoppedUP (or a stopped download): qshare starts it once, since the person asked for it to be
   *   seeded; if it is still or again stopped STOPPED_GRACE_MS later (a share limit already reached?), that is an
   *   error rather than a start loop.
   * - checking*, moving, metaDL, allocating, downloading states, unknown states: keep waiting.
   * - not listed yet: keep waiting (qBittorrent adds torrents asynchronously); listed and then gone: error.
   */
  async waitUntilSeeding(infoHash: string, opts: WaitOptions): Promise<TorrentStatus> {
    const hash = infoHash.toLowerCase();
    const pollMs = opts.pollMs ?? 1000;
    const began = Date.now();
    const deadline = began + opts.timeoutMs;
    let last: TorrentStatus | undefined;
    let startedAt: number | undefined;
    for (;;) {
      if (opts.signal?.aborted) throw interrupted();
      const t = await this.getTorrent(hash);
      if (!t) {
        if (last)
          throw new QshareError(
            'QBIT_API',
            `torrent ${last.name} (${hash}) disappeared from qBittorrent at ${this.url} while qshare waited for it to seed: someone removed it`,
          );
      } else {
        last = t;
        switch (classifyState(t.state, t.progress)) {
          case 'seeding':
            this.log.debug('qBittorrent is seeding', { hash, state: t.state });
            return t;
          case 'missing-files':
            throw new QshareError(
              'QBIT_MISSING_FILES',
              `qBittorrent cannot see ${opts.savePathHint}: if it runs in Docker or on another machine, set qbittorrent.pathMap in the config (torrent ${t.name} is now marked "Missing Files" in qBittorrent)`,
            );
          case 'error':
            throw new QshareError(
              'QBIT_API',
              `qBittorrent reports an error for torrent ${t.name} (state "error"): look in its log (View → Log, or Execution Log in the Web UI); often ${opts.savePathHint} is not readable where qBittorrent runs`,
            );
          case 'stopped':
            if (startedAt === undefined) {
              this.log.info('the torrent is stopped in qBittorrent; starting it', { hash, state: t.state });
              await this.startTorrent(hash);
              startedAt = Date.now();
            } else if (Date.now() - startedAt >= Math.max(STOPPED_GRACE_MS, 3 * pollMs)) {
              throw new QshareError(
                'QBIT_API',
                `qBittorrent keeps torrent ${t.name} stopped (state "${t.state}") after qshare started it: a share ratio or seeding time limit may already be reached (Tools → Options → BitTorrent → Seeding Limits); start it by hand in qBittorrent`,
              );
            }
            break;
          case 'wait':
            break;
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) throw this.timeout(hash, opts.timeoutMs, last);
      await sleep(Math.min(seedPollDelay(Date.now() - began, pollMs), left), opts.signal, interrupted);
    }
  }

  private timeout(hash: string, timeoutMs: number, last: TorrentStatus | undefined): QshareError {
    const secs = Math.round(timeoutMs / 1000);
    if (!last)
      return new QshareError(
        'QBIT_TIMEOUT',
        `qBittorrent at ${this.url} accepted torrent ${hash} but did not list it within ${secs} s: look at qBittorrent's window or Web UI`,
      );
    const checking = /^checking|^moving$|^allocating$/.test(last.state);
    const why = checking
      ? 'it is still checking or moving the files and will start seeding by itself when done'
      : last.progress < 1
        ? `it thinks ${percent(1 - last.progress)} of the data is missing: check that the save path holds the complete files`
        : 'look at it in qBittorrent';
    return new QshareError(
      'QBIT_TIMEOUT',
      `qBittorrent did not report torrent ${last.name} as seeding within ${secs} s (state "${last.state}", ${percent(last.progress)} complete): ${why}`,
    );
  }

  async remove(infoHash: string, deleteFiles: boolean): Promise<void> {
    await this.api.send('POST torrents/delete', '/torrents/delete', {
      hashes: infoHash.toLowerCase(),
      deleteFiles: String(deleteFiles),
    });
  }

  addForDownload(req: DownloadRequest, infoHash: string): Promise<'added' | 'already-present'> {
    const what = req.fileName ?? 'the magnet link';
    const file = req.torrent
      ? { bytes: req.torrent, name: req.fileName ?? `${infoHash.toLowerCase()}.torrent` }
      : undefined;
    return this.add(infoHash, buildDownloadFields(req, this.apiVersion), file, {
      what,
      where: req.savePath !== undefined ? `the folder ${req.savePath}` : 'its default save path',
      notTorrent: new QshareError('INPUT', `qBittorrent at ${this.url} says ${what} is not a valid torrent`),
    });
  }

  async getFiles(infoHash: string): Promise<TorrentFileStatus[]> {
    const hash = infoHash.toLowerCase();
    const files = await this.api.json<Array<{ name?: unknown; size?: unknown; progress?: unknown }>>(
      'GET torrents/files',
      '/torrents/files',
      { query: { hash } },
    );
    return (Array.isArray(files) ? files : []).map((f) => ({
      name: String(f.name),
      size: Number(f.size),
      progress: Number(f.progress),
    }));
  }

  async syncPeers(infoHash: string, rid: number): Promise<PeerDelta> {
    const hash = infoHash.toLowerCase();
    return parsePeerDelta(
      await this.api.json<unknown>('GET sync/torrentPeers', '/sync/torrentPeers', { query: { hash, rid } }),
    );
  }

  async getTrackers(infoHash: string): Promise<TrackerCount[]> {
    const hash = infoHash.toLowerCase();
    return parseTrackers(
      await this.api.json<unknown>('GET torrents/trackers', '/torrents/trackers', { query: { hash } }),
    );
  }

  async reannounce(infoHash: string): Promise<void> {
    await this.api.send('POST torrents/reannounce', '/torrents/reannounce', { hashes: infoHash.toLowerCase() });
  }

  async addPeers(infoHash: string, peers: readonly string[]): Promise<void> {
    await this.api.send('POST torrents/addPeers', '/torrents/addPeers', {
      hashes: infoHash.toLowerCase(),
      peers: peers.join('|'),
    });
  }

  async stopTorrent(infoHash: string): Promise<void> {
    const path = this.v5('/torrents/stop', '/torrents/pause');
    await this.api.send(`POST ${path.slice(1)}`, path, { hashes: infoHash.toLowerCase() });
  }

  async startTorrent(infoHash: string): Promise<void> {
    const path = this.v5('/torrents/start', '/torrents/resume');
    await this.api.send(`POST ${path.slice(1)}`, path, { hashes: infoHash.toLowerCase() });
  }

  async setShareLimits(infoHash: string, limits: ShareLimits): Promise<void> {
    await this.api.send(
      'POST torrents/setShareLimits',
      '/torrents/setShareLimits',
      buildShareLimitFields(infoHash, limits, this.apiVersion),
    );
  }

  async getPreferences(): Promise<Record<string, unknown>> {
    const p = await this.api.json<unknown>('GET app/preferences', '/app/preferences');
    if (typeof p !== 'object' || p === null) throw apiError(this.url, 200, p, 'GET app/preferences');
    return p as Record<string, unknown>;
  }

  async setPreferences(prefs: Record<string, unknown>): Promise<void> {
    await this.api.send('POST app/setPreferences', '/app/setPreferences', { json: JSON.stringify(prefs) });
  }

  async serverState(): Promise<ServerState> {
    const d = await this.api.json<{ server_state?: ServerState } | null>('GET sync/maindata', '/sync/maindata', {
      query: { rid: 0 },
    });
    return d?.server_state ?? {};
  }

  async listAll(): Promise<Map<string, TorrentStatus>> {
    const list = await this.api.json<RawTorrent[]>('GET torrents/info', '/torrents/info');
    const out = new Map<string, TorrentStatus>();
    for (const t of Array.isArray(list) ? list : []) {
      const s = toStatus(t);
      out.set(s.hash, s);
      if (t.infohash_v1) out.set(t.infohash_v1.toLowerCase(), s);
    }
    return out;
  }
}
