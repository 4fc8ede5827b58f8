import { QshareError } from '../errors.js';

/**
 * Pure rules for talking to qBittorrent's Web API across versions (4.1 … 5.2+): what to send when adding a torrent
 * for seeding, and what its answers to login and add mean. No I/O here; http.ts makes the requests.
 *
 * Version facts (see docs/qbittorrent.md):
 *   API 2.7 (4.3.2)  `contentLayout` replaces `root_folder`
 *   API 2.11 (5.0)   add field `paused` renamed `stopped`; pause/resume endpoints renamed stop/start
 *   API 2.14 (5.2)   login 204/401, cookie QBT_SID_<port>; add answers JSON (202 pending, 409 all failed)
 *   API 2.16 (5.3)   `skip_checking` renamed `seedMode`
 */

export interface ApiVersion {
  major: number;
  minor: number;
  patch: number;
}

export interface SeedRequest {
  /** the .torrent file's bytes */
  torrent: Buffer;
  /** file name for the upload, e.g. `name.torrent` (qBittorrent only uses it in messages) */
  fileName: string;
  /** the folder that holds the data, as qBittorrent sees it (after qbittorrent.pathMap) */
  savePath: string;
  category: string;
  tags: string[];
  ratioLimit?: number;
  seedingTimeLimitMinutes?: number;
}

/** '2.8.19' → {2, 8, 19}; 'v2.15' → {2, 15, 0}. Throws a plain Error on anything else (the caller words it). */
export function parseApiVersion(s: string): ApiVersion {
  const m = /^\s*v?(\d+)\.(\d+)(?:\.(\d+))?\s*$/.exec(s);
  if (!m) throw new Error(`not a Web API version: ${JSON.stringify(s.slice(0, 40))}`);
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

export function formatApiVersion(v: ApiVersion): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}

/** <0, 0, >0 like a sort comparator. */
export function compareApiVersions(a: ApiVersion, b: ApiVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

export function apiAtLeast(v: ApiVersion, major: number, minor: number, patch = 0): boolean {
  return compareApiVersions(v, { major, minor, patch }) >= 0;
}

/** qBittorrent 5.0 (API 2.11) renamed pause/resume to stop/start, and `paused` to `stopped`. */
export function isApiV5(v: ApiVersion): boolean {
  return apiAtLeast(v, 2, 11);
}

/**
 * Form fields (besides the file) for `POST /api/v2/torrents/add` so that qBittorrent seeds data already in place.
 * Fields a version does not know are ignored by it, so the old and new names are both sent where they differ.
 */
export function buildAddFields(req: SeedRequest, api: ApiVersion): Record<string, string> {
  const f: Record<string, string> = {
    savepath: req.savePath,
    category: req.category,
    // the data is complete: no hash check (skip_checking up to API 2.15, seedMode from 2.16)
    skip_checking: 'true',
    seedMode: 'true',
    // otherwise `savepath` is ignored when Automatic Torrent Management is the default
    autoTMM: 'false',
    // start seeding at once, whatever "do not start automatically" says (paused ≤ 4.6, stopped ≥ 5.0)
    paused: 'false',
    stopped: 'false',
  };
  if (req.tags.length > 0) f.tags = req.tags.join(',');
  if (apiAtLeast(api, 2, 7)) f.contentLayout = 'Original';
  else f.root_folder = 'true';
  if (req.ratioLimit !== undefined) f.ratioLimit = String(req.ratioLimit);
  if (req.seedingTimeLimitMinutes !== undefined) f.seedingTimeLimit = String(Math.round(req.seedingTimeLimitMinutes));
  return f;
}

/**
 * A qBittorrent 5.2 Web API key (`qbt_` and 28 letters/digits; Tools → Options → Web UI → API key). qshare takes it
 * wherever a password goes and sends it as `Authorization: Bearer …` instead of logging in.
 */
export function isApiKey(secret: string): boolean {
  return /^qbt_[A-Za-z0-9]{16,64}$/.test(secret);
}

/** A torrent's own share limits. `undefined` = follow qBittorrent's global limit, `null` = no limit. */
export interface ShareLimits {
  /** stop once uploaded ≥ ratio × size */
  ratio?: number | null;
  /** stop after this many minutes of seeding */
  seedingTimeMinutes?: number | null;
}

const limitField = (v: number | null | undefined, what: string, integer: boolean): string => {
  if (v === undefined) return '-2';
  if (v === null) return '-1';
  if (!Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v)))
    throw new QshareError('USAGE', `${what} must be a ${integer ? 'whole ' : ''}number ≥ 0 (got ${v})`);
  return String(v);
};

/**
 * Form fields for `POST /api/v2/torrents/setShareLimits` (-2 = the global limit, -1 = none). Every version refuses
 * the call (400) when a field it requires is missing, and ignores ones it does not know, so the set follows the
 * Web API version:
 *   2.0–2.9.1 (4.1 … 4.5)  hashes, ratioLimit, seedingTimeLimit (minutes)
 *   2.9.2 (4.6)            + inactiveSeedingTimeLimit (-2: global)
 *   2.14 (5.2)             + shareLimitAction: `Stop` (keep the files, stop seeding), whatever the global action
 *                          is (a user may have chosen "remove"); before 5.2 the global action applies
 */
export function buildShareLimitFields(infoHash: string, limits: ShareLimits, api: ApiVersion): Record<string, string> {
  const f: Record<string, string> = {
    hashes: infoHash.toLowerCase(),
    ratioLimit: limitField(limits.ratio, 'the ratio limit', false),
    seedingTimeLimit: limitField(
      limits.seedingTimeMinutes === undefined || limits.seedingTimeMinutes === null
        ? limits.seedingTimeMinutes
        : Math.round(limits.seedingTimeMinutes),
      'the seeding time limit (minutes)',
      true,
    ),
  };
  if (apiAtLeast(api, 2, 9, 2)) f.inactiveSeedingTimeLimit = '-2';
  if (apiAtLeast(api, 2, 14)) f.shareLimitAction = 'Stop';
  return f;
}

export type PreflightVerdict =
  'open' | 'needs-login' | 'forbidden-host' | 'redirect' | 'not-qbittorrent' | 'unexpected';

/**
 * What an answer to `GET /api/v2/app/version` sent WITHOUT a session means. qshare asks this before logging in:
 * it costs no login attempt, and because qBittorrent runs its Host-header/CSRF checks before anything else, it is
 * the only way to tell a Host/CSRF 401 from a 5.2 bad-password 401 (both are `401 Unauthorized`).
 *   200 `v4.5.2` → open: no login needed (localhost bypass or a whitelisted subnet)
 *   403 → needs-login (also what a banned IP gets here)   401 → forbidden-host
 *   3xx → redirect   404, or 200 with something that is not a version → not-qbittorrent
 */
export function classifyPreflight(status: number, body: string): PreflightVerdict {
  if (status === 200) return /^v?\d+\.\d+/.test(body.trim()) ? 'open' : 'not-qbittorrent';
  if (status === 403) return 'needs-login';
  if (status === 401) return 'forbidden-host';
  if (status >= 300 && status < 400) return 'redirect';
  if (status === 404 || status === 405) return 'not-qbittorrent';
  return 'unexpected';
}

export type LoginVerdict = 'ok' | 'bad-credentials' | 'banned' | 'forbidden-host' | 'unexpected';

const BAN_TEXT = /banned after too many failed authentication attempts/i;

/** The session cookie: `SID` up to 5.1, `QBT_SID_<port>` from 5.2. Returns undefined when none was set. */
export function findSessionCookie(setCookie: string[]): { name: string; value: string } | undefined {
  for (const line of setCookie) {
    const m = /^\s*(SID|QBT_SID_\d+)=([^;]*)/i.exec(line);
    if (m && m[2]) return { name: m[1] as string, value: m[2] };
  }
  return undefined;
}

/**
 * What an answer to `POST /api/v2/auth/login` means.
 *   4.x: 200 `Ok.` + SID cookie | 200 `Fails.` (bad credentials) | 403 ban text | 401 `Unauthorized` = Host header
 *        validation or CSRF refused the request before the login was even looked at.
 *   5.2: 204 + QBT_SID_<port> | 401 `Unauthorized` for bad credentials, which is byte-identical to the Host/CSRF
 *        refusal. Only an earlier request tells them apart: Host/CSRF checks run before everything, so if a request
 *        without a session got 403 (or 200) rather than 401, those checks passed and a 401 at login means bad
 *        credentials. `hostCheckPassed` carries that knowledge; without it a 401 is taken as the Host/CSRF refusal.
 */
export function classifyLogin(
  status: number,
  body: string,
  setCookie: string[],
  hostCheckPassed = false,
): LoginVerdict {
  const text = body.trim();
  if (status === 403) return BAN_TEXT.test(text) ? 'banned' : 'unexpected';
  if (status === 401) return hostCheckPassed ? 'bad-credentials' : 'forbidden-host';
  if (status === 200 || status === 204) {
    if (text === 'Fails.') return 'bad-credentials';
    const cookie = findSessionCookie(setCookie);
    if (status === 200 && text === 'Ok.' && cookie) return 'ok';
    if (status === 204 && text === '' && cookie) return 'ok';
    return 'unexpected';
  }
  return 'unexpected';
}

export type AddVerdict = 'added' | 'duplicate-or-failed' | 'pending' | 'not-a-torrent' | 'unexpected';

interface AddCounts {
  success_count: number;
  failure_count: number;
  pending_count: number;
}

function parseAddCounts(body: string): AddCounts | undefined {
  try {
    const v: unknown = JSON.parse(body);
    if (typeof v !== 'object' || v === null) return undefined;
    const o = v as Record<string, unknown>;
    if (
      typeof o.success_count === 'number' &&
      typeof o.failure_count === 'number' &&
      typeof o.pending_count === 'number'
    ) {
      return { success_count: o.success_count, failure_count: o.failure_count, pending_count: o.pending_count };
    }
  } catch {
    // not JSON
  }
  return undefined;
}

/**
 * What an answer to `POST /api/v2/torrents/add` (one .torrent file) means.
 *   ≤ 5.1: 200 `Ok.` | 200 `Fails.` (already there, or nothing usable) | 415 `… is not a valid torrent file.`
 *   5.2:   200/202 JSON {success_count, failure_count, pending_count, added_torrent_ids}; 409 when all failed.
 */
export function classifyAdd(status: number, body: string): AddVerdict {
  const text = body.trim();
  if (status === 415) return 'not-a-torrent';
  if (status === 200 && text === 'Ok.') return 'added';
  if (status === 200 && text === 'Fails.') return 'duplicate-or-failed';
  if (status === 200 || status === 202 || status === 409) {
    const c = parseAddCounts(text);
    if (!c) return status === 409 ? 'duplicate-or-failed' : 'unexpected';
    if (c.success_count > 0) return 'added';
    if (c.pending_count > 0) return 'pending';
    return 'duplicate-or-failed';
  }
  return 'unexpected';
}

/**
 * What a qBittorrent torrent state (4.x and 5.x names) says, the one place that knows the names:
 * active-up `uploading, stalledUP, queuedUP, forcedUP`; stopped-up `pausedUP, stoppedUP`; stopped-down
 * `pausedDL, stoppedDL`; checking `checkingUP, checkingDL, checkingResumeData, moving, allocating`; metadata
 * `metaDL, forcedMetaDL` (a magnet link); queued-down `queuedDL`; missing `missingFiles`; error; and other (downloading
 * states, and any future name).
 */
export type StateKind =
  'active-up' | 'stopped-up' | 'stopped-down' | 'checking' | 'metadata' | 'queued-down' | 'missing' | 'error' | 'other';

const STATE_KINDS: Readonly<Record<string, StateKind>> = {
  uploading: 'active-up',
  stalledUP: 'active-up',
  queuedUP: 'active-up',
  forcedUP: 'active-up',
  pausedUP: 'stopped-up',
  stoppedUP: 'stopped-up',
  pausedDL: 'stopped-down',
  stoppedDL: 'stopped-down',
  checkingUP: 'checking',
  checkingDL: 'checking',
  checkingResumeData: 'checking',
  moving: 'checking',
  allocating: 'checking',
  metaDL: 'metadata',
  forcedMetaDL: 'metadata',
  queuedDL: 'queued-down',
  missingFiles: 'missing',
  error: 'error',
};

export function stateKind(state: string): StateKind {
  return Object.hasOwn(STATE_KINDS, state) ? (STATE_KINDS[state] as StateKind) : 'other';
}

/** qBittorrent torrent states, grouped by what waiting for "seeding" should do with them. */
export type StateVerdict = 'seeding' | 'stopped' | 'wait' | 'missing-files' | 'error';

/**
 * active-up with progress 1 → seeding; stopped (up or down) → stopped: the caller starts it once; missing →
 * missing-files; error → error; anything else (checking, metadata, downloading, unknown future states) → wait.
 */
export function classifyState(state: string, progress: number): StateVerdict {
  switch (stateKind(state)) {
    case 'active-up':
      return progress >= 1 ? 'seeding' : 'wait';
    case 'stopped-up':
    case 'stopped-down':
      return 'stopped';
    case 'missing':
      return 'missing-files';
    case 'error':
      return 'error';
    default:
      return 'wait';
  }
}
