/**
 * The one place that talks to qBittorrent. Everything after the login goes through @ctrl/qbittorrent 9.14; the
 * two requests before it (an unauthenticated `app/version` probe and the single login) use fetch directly, because
 * the library hides the status, body and Set-Cookie of its login and so cannot tell "bad password" from "banned"
 * from "Host header rejected".
 *
 * Login safety: qBittorrent bans an IP for an hour after 5 failed logins, so qshare logs in at most once per
 * connectQbit() and never again. The library's own re-login (on any 401/403, or when its cookie "expires") is
 * switched off by OneLoginQbittorrent below: it keeps sending the session it was given, and a rejected session
 * becomes a QBIT_AUTH error telling the person to run the command again.
 */
import { QBittorrent } from '@ctrl/qbittorrent';
import type { Torrent } from '@ctrl/qbittorrent';
import { QshareError } from '../errors.js';
import { sleep } from '../abort.js';
import type { Logger } from '../log.js';
import {
  apiError,
  apiKeyRefused,
  badCredentials,
  banned,
  forbiddenHost,
  httpStatusOf,
  needsPassword,
  networkError,
  notQbittorrent,
  redirected,
  sessionLost,
  unexpectedAnswer,
} from './messages.js';
import {
  buildAddFields,
  buildShareLimitFields,
  classifyAdd,
  classifyLogin,
  classifyPreflight,
  classifyState,
  findSessionCookie,
  formatApiVersion,
  isApiKey,
  isApiV5,
  parseApiVersion,
} from './payload.js';
import type { ApiVersion, SeedRequest, ShareLimits } from './payload.js';
import { buildDownloadFields } from './download.js';
import { parsePeerDelta, parseTrackers, type PeerDelta, type TrackerCount } from './peers.js';
import type { DownloadRequest } from './download.js';
import { tlsDispatcher, type Dispatcher, type TlsOptions } from './tls.js';
import { apiUrl, parseQbitUrl, sendsSecretInClear } from './url.js';
import type { QbitTarget } from './url.js';

export type { ApiVersion, SeedRequest, ShareLimits } from './payload.js';
export type { TlsOptions } from './tls.js';
export type { DownloadRequest, PeerInfo } from './download.js';

export interface QbitOptions {
  /** Web UI address; may include a base path like https://host/qbt/ */
  url: string;
  /** default `admin` */
  username?: string;
  /**
   * undefined (or empty) → no login: works when qBittorrent skips authentication for this address.
   * A qBittorrent 5.2 API key (`qbt_…`, see isApiKey) is sent as `Authorization: Bearer` instead of logging in.
   */
  password?: string;
  /** HTTPS: trust this CA/self-signed certificate (PEM), or do not check the certificate at all (warns) */
  tls?: TlsOptions;
  /** per request, default 10000 */
  timeoutMs?: number;
  log: Logger;
}

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

const DEFAULT_TIMEOUT_MS = 10_000;
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
const FAR_FUTURE = new Date(8_640_000_000_000_000);

interface SessionCookie {
  name: string;
  value: string;
}

/** How requests after the probe prove who we are: a session cookie, an API key, or nothing (bypass). */
type Auth = { cookie: SessionCookie } | { bearer: string } | undefined;

/**
 * @ctrl/qbittorrent with its login switched off: it uses the session cookie connectQbit got (or none, when
 * qBittorrent needs no login) and, where the library would log in again after a 401/403, it puts the same session
 * back so the retry fails the same way and the status reaches us.
 */
class OneLoginQbittorrent extends QBittorrent {
  private readonly cookie: SessionCookie | undefined;
  private readonly bearer: string | undefined;

  constructor(target: QbitTarget, timeoutMs: number, auth: Auth, dispatcher: Dispatcher | undefined) {
    // no username/password/apiKey: the library must not be able to log in, nor send Basic auth
    super({ baseUrl: target.base, path: '/api/v2', timeout: timeoutMs, ...(dispatcher ? { dispatcher } : {}) });
    this.cookie = auth && 'cookie' in auth ? auth.cookie : undefined;
    this.bearer = auth && 'bearer' in auth ? auth.bearer : undefined;
    this.restoreSession();
  }

  private restoreSession(): void {
    if (this.cookie) this.state.auth = { sid: this.cookie.value, cookieName: this.cookie.name, expires: FAR_FUTURE };
  }

  override async login(): Promise<boolean> {
    throw new Error('qshare logs in only once per run (connectQbit); the qBittorrent library must not log in again');
  }

  protected override async ensureAuthenticated(_path: string): Promise<void> {
    if (!this.state.auth) this.restoreSession();
  }

  protected override authHeaders(): Record<string, string> {
    if (this.bearer) return { Authorization: `Bearer ${this.bearer}` };
    const a = this.state.auth;
    return a && a.sid ? { Cookie: `${a.cookieName ?? 'SID'}=${a.sid}` } : {};
  }
}

interface RawAnswer {
  status: number;
  body: string;
  setCookie: string[];
  location: string | undefined;
}

/** One request without the library; only for the probe and the login. Never follows redirects. */
async function rawRequest(
  target: QbitTarget,
  method: 'GET' | 'POST',
  path: string,
  timeoutMs: number,
  form?: URLSearchParams,
  extra: { headers?: Record<string, string>; dispatcher?: Dispatcher | undefined; answered?: boolean } = {},
): Promise<RawAnswer> {
  try {
    const init: RequestInit & { dispatcher?: Dispatcher } = {
      method,
      ...(form ? { body: form } : {}),
      ...(extra.headers ? { headers: extra.headers } : {}),
      ...(extra.dispatcher ? { dispatcher: extra.dispatcher } : {}),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    };
    const res = await fetch(apiUrl(target.base, path), init);
    const body = await res.text();
    return { status: res.status, body: body.slice(0, 4000), setCookie: res.headers.getSetCookie(), location: res.headers.get('location') ?? undefined };
  } catch (e) {
    throw networkError(e, target.display, timeoutMs, extra.answered);
  }
}

/**
 * Connects: probes `app/version` without a session, logs in once if needed, then reads the app and Web API
 * versions. Throws QshareError (QBIT_UNREACHABLE, QBIT_AUTH, QBIT_BANNED, QBIT_FORBIDDEN, QBIT_API, CONFIG).
 */
export async function connectQbit(opts: QbitOptions): Promise<QbitSession> {
  const target = parseQbitUrl(opts.url);
  const url = target.display;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const log = opts.log;
  const dispatcher = await tlsDispatcher(target, opts.tls, log);
  const apiKey = opts.password && isApiKey(opts.password) ? opts.password : undefined;
  const warnPlain = () => {
    if (sendsSecretInClear(target.base)) log.warn(`sending the Web UI ${apiKey ? 'API key' : 'password'} to ${url} over plain http: anyone on the network between here and there can read it. Use https:// (Tools → Options → Web UI → Use HTTPS), or run qshare on the machine qBittorrent runs on`);
  };
  if (apiKey) warnPlain();

  const probe = await rawRequest(target, 'GET', '/app/version', timeoutMs, undefined, { dispatcher, ...(apiKey ? { headers: { Authorization: `Bearer ${apiKey}` } } : {}) });
  let auth: Auth;
  switch (classifyPreflight(probe.status, probe.body)) {
    case 'open':
      log.debug(apiKey ? 'qBittorrent accepted the API key' : 'qBittorrent needs no login from this address', { url });
      if (apiKey) auth = { bearer: apiKey };
      else {
        const c = findSessionCookie(probe.setCookie);
        if (c) auth = { cookie: c };
      }
      break;
    case 'needs-login': {
      if (apiKey) throw apiKeyRefused(url);
      if (!opts.password) throw needsPassword(url);
      warnPlain();
      const form = new URLSearchParams({ username: opts.username ?? 'admin', password: opts.password });
      log.debug('logging in to qBittorrent (once)', { url });
      const answer = await rawRequest(target, 'POST', '/auth/login', timeoutMs, form, { dispatcher, answered: true });
      switch (classifyLogin(answer.status, answer.body, answer.setCookie, true)) {
        case 'ok':
          auth = { cookie: findSessionCookie(answer.setCookie)! };
          break;
        case 'bad-credentials':
          throw badCredentials(url);
        case 'banned':
          throw banned(url);
        case 'forbidden-host':
          throw forbiddenHost(url);
        case 'unexpected':
          if (answer.status === 404) throw notQbittorrent(url, answer.status, 'the login');
          throw unexpectedAnswer(url, answer.status, answer.body, 'the login');
      }
      break;
    }
    case 'forbidden-host':
      throw forbiddenHost(url);
    case 'redirect':
      throw redirected(url, probe.status, probe.location);
    case 'not-qbittorrent':
      throw notQbittorrent(url, probe.status, 'GET /api/v2/app/version');
    case 'unexpected':
      throw unexpectedAnswer(url, probe.status, probe.body, 'GET /api/v2/app/version');
  }

  const client = new OneLoginQbittorrent(target, timeoutMs, auth, dispatcher);
  const call = callerFor(url, timeoutMs);
  const appVersion = (await call('GET app/version', () => client.getAppVersion())).trim();
  const apiText = (await call('GET app/webapiVersion', () => client.getApiVersion())).trim();
  let apiVersion: ApiVersion;
  try {
    apiVersion = parseApiVersion(apiText);
  } catch {
    throw notQbittorrent(url, 200, 'GET /api/v2/app/webapiVersion');
  }
  if (apiVersion.major < 2) throw notQbittorrent(url, 200, 'GET /api/v2/app/webapiVersion');
  // what the library reads to choose stop/start over pause/resume (it would otherwise fetch it itself)
  client.state.version = { version: appVersion, isVersion5OrHigher: isApiV5(apiVersion) };
  log.debug('connected to qBittorrent', { url, version: appVersion, api: formatApiVersion(apiVersion) });
  const session = new Session(client, url, appVersion, apiVersion, log, timeoutMs);
  session.authMode = apiKey ? 'api-key' : auth && 'cookie' in auth && probe.status !== 200 ? 'password' : 'none';
  return session;
}

type Call = <T>(what: string, fn: () => Promise<T>) => Promise<T>;

/** Runs one library request and turns its failures into QshareErrors. */
function callerFor(url: string, timeoutMs: number): Call {
  return async (what, fn) => {
    try {
      return await fn();
    } catch (e) {
      throw libError(e, url, timeoutMs, what);
    }
  };
}

function libError(e: unknown, url: string, timeoutMs: number, what: string): unknown {
  if (e instanceof QshareError) return e;
  const status = httpStatusOf(e);
  if (status === undefined) {
    // ofetch's FetchError without a response: the network failed
    if (e instanceof Error && e.name === 'FetchError') return networkError(e, url, timeoutMs, true);
    return e;
  }
  if (status === 401 || status === 403) return sessionLost(url, status, what);
  return apiError(url, status, (e as { data?: unknown }).data, what);
}

function toStatus(t: Torrent): TorrentStatus {
  return {
    hash: t.hash.toLowerCase(),
    name: t.name,
    state: String(t.state),
    progress: t.progress,
    savePath: t.save_path,
    uploaded: t.uploaded,
    ratio: t.ratio,
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

class Session implements QbitSession {
  authMode: AuthMode = 'none';

  constructor(
    private readonly client: OneLoginQbittorrent,
    readonly url: string,
    readonly appVersion: string,
    readonly apiVersion: ApiVersion,
    private readonly log: Logger,
    private readonly timeoutMs: number,
  ) {}

  private call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return callerFor(this.url, this.timeoutMs)(what, fn);
  }

  /**
   * POST torrents/add with our own form (the library's addTorrent() builds its own: useAutoTMM, `file`, …).
   * Answers 4.x give as text (`Ok.`/`Fails.`) and 5.2 as JSON come back as a status and the body's text; a
   * rejected session stays an error.
   */
  private async postAdd(form: FormData): Promise<{ status: number; body: string }> {
    try {
      const res = await this.client.request<unknown>('/torrents/add', 'POST', undefined, form, undefined, false);
      return { status: 200, body: bodyText(res) };
    } catch (e) {
      const status = httpStatusOf(e);
      if (status === undefined || status === 401 || status === 403) throw libError(e, this.url, this.timeoutMs, 'POST torrents/add');
      return { status, body: bodyText((e as { data?: unknown }).data) };
    }
  }

  async addForSeeding(req: SeedRequest, infoHash: string): Promise<'added' | 'already-present'> {
    const hash = infoHash.toLowerCase();
    const form = new FormData();
    form.append('torrents', new File([new Uint8Array(req.torrent)], req.fileName, { type: 'application/x-bittorrent' }));
    for (const [k, v] of Object.entries(buildAddFields(req, this.apiVersion))) form.append(k, v);

    const { status, body } = await this.postAdd(form);
    const verdict = classifyAdd(status, body);
    this.log.debug('torrents/add answered', { status, verdict });
    switch (verdict) {
      case 'added':
      case 'pending':
        return 'added';
      case 'not-a-torrent':
        throw new QshareError('QBIT_REJECTED', `qBittorrent at ${this.url} says ${req.fileName} is not a valid torrent file: make the torrent again`);
      case 'duplicate-or-failed': {
        const present = await this.getTorrent(hash);
        if (present) return 'already-present';
        throw new QshareError(
          'QBIT_REJECTED',
          `qBittorrent at ${this.url} did not add ${req.fileName} (HTTP ${status} "${body.trim().slice(0, 120)}") and does not list torrent ${hash}: ` +
            `look in its log (View → Log, or Execution Log in the Web UI) for why; often the save path ${req.savePath} is not valid or not writable where qBittorrent runs`,
        );
      }
      case 'unexpected':
        throw apiError(this.url, status, body, 'POST torrents/add');
    }
  }

  async getTorrent(infoHash: string): Promise<TorrentStatus | undefined> {
    const hash = infoHash.toLowerCase();
    const list = await this.call('GET torrents/info', () => this.client.listTorrents({ hashes: hash }));
    // an unknown filter makes qBittorrent return every torrent, so match the hash here too
    const t = (Array.isArray(list) ? list : []).find((x) => {
      const v1 = (x as Torrent & { infohash_v1?: string }).infohash_v1;
      return x.hash?.toLowerCase() === hash || v1?.toLowerCase() === hash;
    });
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
        if (last) throw new QshareError('QBIT_API', `torrent ${last.name} (${hash}) disappeared from qBittorrent at ${this.url} while qshare waited for it to seed: someone removed it`);
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
              await this.call(isApiV5(this.apiVersion) ? 'POST torrents/start' : 'POST torrents/resume', () => this.client.startTorrent(hash));
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
    if (!last) return new QshareError('QBIT_TIMEOUT', `qBittorrent at ${this.url} accepted torrent ${hash} but did not list it within ${secs} s: look at qBittorrent's window or Web UI`);
    const checking = /^checking|^moving$|^allocating$/.test(last.state);
    const why = checking
      ? 'it is still checking or moving the files and will start seeding by itself when done'
      : last.progress < 1
        ? `it thinks ${percent(1 - last.progress)} of the data is missing: check that the save path holds the complete files`
        : 'look at it in qBittorrent';
    return new QshareError('QBIT_TIMEOUT', `qBittorrent did not report torrent ${last.name} as seeding within ${secs} s (state "${last.state}", ${percent(last.progress)} complete): ${why}`);
  }

  async remove(infoHash: string, deleteFiles: boolean): Promise<void> {
    await this.call('POST torrents/delete', () => this.client.removeTorrent(infoHash.toLowerCase(), deleteFiles));
  }

  async addForDownload(req: DownloadRequest, infoHash: string): Promise<'added' | 'already-present'> {
    const hash = infoHash.toLowerCase();
    const form = new FormData();
    const what = req.fileName ?? 'the magnet link';
    if (req.torrent) form.append('torrents', new File([new Uint8Array(req.torrent)], req.fileName ?? `${hash}.torrent`, { type: 'application/x-bittorrent' }));
    for (const [k, v] of Object.entries(buildDownloadFields(req, this.apiVersion))) form.append(k, v);
    const { status, body } = await this.postAdd(form);
    const verdict = classifyAdd(status, body);
    this.log.debug('torrents/add (download) answered', { status, verdict });
    switch (verdict) {
      case 'added':
      case 'pending':
        return 'added';
      case 'not-a-torrent':
        throw new QshareError('INPUT', `qBittorrent at ${this.url} says ${what} is not a valid torrent`);
      case 'duplicate-or-failed': {
        if (await this.getTorrent(hash)) return 'already-present';
        throw new QshareError(
          'QBIT_REJECTED',
          `qBittorrent at ${this.url} did not add ${what} (HTTP ${status} "${body.trim().slice(0, 120)}"): look in its log (View → Log, or Execution Log in the Web UI); often ${req.savePath !== undefined ? `the folder ${req.savePath}` : 'its default save path'} cannot be written where qBittorrent runs, or its disk is full`,
        );
      }
      case 'unexpected':
        throw apiError(this.url, status, body, 'POST torrents/add');
    }
  }

  async getFiles(infoHash: string): Promise<TorrentFileStatus[]> {
    const hash = infoHash.toLowerCase();
    const files = await this.call('GET torrents/files', () => this.client.torrentFiles(hash));
    return (Array.isArray(files) ? files : []).map((f) => ({ name: String(f.name), size: Number(f.size), progress: Number(f.progress) }));
  }

  async syncPeers(infoHash: string, rid: number): Promise<PeerDelta> {
    const hash = infoHash.toLowerCase();
    const answer = await this.call('GET sync/torrentPeers', () => this.client.request<unknown>('/sync/torrentPeers', 'GET', { hash, rid }));
    return parsePeerDelta(answer);
  }

  async getTrackers(infoHash: string): Promise<TrackerCount[]> {
    const hash = infoHash.toLowerCase();
    return parseTrackers(await this.call('GET torrents/trackers', () => this.client.request<unknown>('/torrents/trackers', 'GET', { hash })));
  }

  async reannounce(infoHash: string): Promise<void> {
    const form = new URLSearchParams({ hashes: infoHash.toLowerCase() });
    await this.call('POST torrents/reannounce', () => this.client.request('/torrents/reannounce', 'POST', undefined, form, undefined, false));
  }

  async addPeers(infoHash: string, peers: readonly string[]): Promise<void> {
    const form = new URLSearchParams({ hashes: infoHash.toLowerCase(), peers: peers.join('|') });
    await this.call('POST torrents/addPeers', () => this.client.request('/torrents/addPeers', 'POST', undefined, form, undefined, false));
  }

  async stopTorrent(infoHash: string): Promise<void> {
    await this.call(isApiV5(this.apiVersion) ? 'POST torrents/stop' : 'POST torrents/pause', () => this.client.stopTorrent(infoHash.toLowerCase()));
  }

  async startTorrent(infoHash: string): Promise<void> {
    await this.call(isApiV5(this.apiVersion) ? 'POST torrents/start' : 'POST torrents/resume', () => this.client.startTorrent(infoHash.toLowerCase()));
  }

  async setShareLimits(infoHash: string, limits: ShareLimits): Promise<void> {
    const form = new URLSearchParams(buildShareLimitFields(infoHash, limits, this.apiVersion));
    await this.call('POST torrents/setShareLimits', () => this.client.request('/torrents/setShareLimits', 'POST', undefined, form, undefined, false));
  }

  async getPreferences(): Promise<Record<string, unknown>> {
    const p = await this.call('GET app/preferences', () => this.client.request<unknown>('/app/preferences', 'GET'));
    if (typeof p !== 'object' || p === null) throw apiError(this.url, 200, p, 'GET app/preferences');
    return p as Record<string, unknown>;
  }

  async setPreferences(prefs: Record<string, unknown>): Promise<void> {
    const form = new URLSearchParams({ json: JSON.stringify(prefs) });
    await this.call('POST app/setPreferences', () => this.client.request('/app/setPreferences', 'POST', undefined, form, undefined, false));
  }

  async serverState(): Promise<ServerState> {
    const d = await this.call('GET sync/maindata', () => this.client.request<{ server_state?: ServerState }>('/sync/maindata', 'GET', { rid: 0 }));
    return d?.server_state ?? {};
  }

  async listAll(): Promise<Map<string, TorrentStatus>> {
    const list = await this.call('GET torrents/info', () => this.client.listTorrents());
    const out = new Map<string, TorrentStatus>();
    for (const t of Array.isArray(list) ? list : []) {
      const s = toStatus(t);
      out.set(s.hash, s);
      const v1 = (t as Torrent & { infohash_v1?: string }).infohash_v1;
      if (v1) out.set(v1.toLowerCase(), s);
    }
    return out;
  }
}

function bodyText(data: unknown): string {
  return typeof data === 'string' ? data : data === undefined || data === null ? '' : JSON.stringify(data);
}
