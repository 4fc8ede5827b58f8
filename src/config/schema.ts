/**
 * The config file's shape, its defaults, and validation that reports every problem at once in words a user can act
 * on. Pure: no I/O here (see load.ts).
 */
export const DEFAULT_TRACKER = 'udp://tracker.opentrackr.org:1337/announce';

export interface Config {
  qbittorrent: {
    /** Web UI address, may include a reverse-proxy base path. */
    url: string;
    username: string;
    /** local path prefix → the same folder as qBittorrent sees it (Docker volume, NAS mount). */
    pathMap: Record<string, string>;
    /** per request, seconds */
    timeoutSeconds: number;
    /** how long `add` waits for qBittorrent to report the torrent as seeding, seconds */
    seedWaitSeconds: number;
    category: string;
    tags: string[];
    /** PEM file with the Web UI's self-signed certificate (or its CA), trusted on top of the usual CAs */
    caFile: string | null;
    /** do not check the Web UI's HTTPS certificate at all (warns on every run) */
    insecureTls: boolean;
  };
  trackers: string[];
  /** path to a 7-Zip binary; null = find 7zz / 7z on PATH, then the bundled 7za */
  sevenZip: string | null;
  /** 7-Zip compression level 0 (store) … 9 */
  level: number;
  secrets: {
    /** where qshare keeps passwords: see SECRET_STORES */
    store: SecretStoreChoice;
  };
  watch: WatchConfig;
  /** the qBittorrent qshare starts and owns when none answers (`qshare daemon`) */
  managed: {
    /** add/seed/get/watch start it when nothing answers at qbittorrent.url and qbittorrent-nox is installed */
    autoStart: boolean;
    /** keep it on 127.0.0.1 with DHT, PeX, LSD and UPnP off (tests, or a machine that must not be reachable) */
    loopbackOnly: boolean;
  };
}

/** `qshare watch`: the drop folder. */
export interface WatchConfig {
  /** the drop folder; `~/` is the home folder */
  dir: string;
  /** an item is complete once nothing in it changed for this long */
  settleSeconds: number;
  /** archives made at the same time */
  concurrency: number;
  /** also write each share's password beside its card (plain text, mode 600) */
  writePasswordFile: boolean;
  /** each share made by watch seeds until this many recipients have it (as `add --recipients`) */
  recipients?: number;
  /** each share made by watch stops after this much seeding time, in minutes (as `add --expire`) */
  expireMinutes?: number;
}

/** "7d" / "48h" → minutes of seeding, or the problem in words. Pure; the one reader of --expire and watch.expire. */
export function expireMinutes(text: string): number | { problem: string } {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(d|h)\s*$/i.exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (!m || !(n > 0)) return { problem: `takes a number of days or hours, like 7d or 48h (got ${JSON.stringify(text)})` };
  const minutes = Math.round(n * (m[2]!.toLowerCase() === 'd' ? 1440 : 60));
  if (minutes > 525_600 * 10) return { problem: 'cannot be more than ten years' };
  return minutes;
}

/** A recipients count, or the problem in words. Pure; the one check of --recipients and watch.recipients. */
export function checkRecipientsCount(n: unknown): string | undefined {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 1000 ? undefined : `takes a whole number from 1 to 1000 (got ${String(n)})`;
}

/**
 * `auto`: the OS keychain when one answers, otherwise nothing is kept; `keychain`: the same, but a missing keychain
 * is warned about every time; `file`: a 0600 plain-text file in the data folder (opt-in); `none`: never keep one.
 */
export const SECRET_STORES = ['auto', 'keychain', 'file', 'none'] as const;
export type SecretStoreChoice = (typeof SECRET_STORES)[number];

export const DEFAULT_CONFIG: Config = {
  qbittorrent: {
    url: 'http://127.0.0.1:8080',
    username: 'admin',
    pathMap: {},
    timeoutSeconds: 10,
    seedWaitSeconds: 60,
    category: 'qshare',
    tags: ['qshare'],
    caFile: null,
    insecureTls: false,
  },
  trackers: [DEFAULT_TRACKER],
  sevenZip: null,
  level: 0,
  secrets: { store: 'auto' },
  managed: { autoStart: true, loopbackOnly: false },
  watch: { dir: '~/ToShare', settleSeconds: 5, concurrency: 1, writePasswordFile: false },
};

export class ConfigProblems {
  readonly list: string[] = [];
  add(where: string, what: string): void {
    this.list.push(`${where}: ${what}`);
  }
}

type Json = unknown;

const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates raw JSON (already parsed) and merges it over the defaults. Returns the problems instead of throwing. */
export function validateConfig(raw: Json): { config: Config; problems: string[] } {
  const p = new ConfigProblems();
  const config: Config = structuredClone(DEFAULT_CONFIG);
  if (!isObject(raw)) {
    p.add('config', 'must be a JSON object like config.example.json');
    return { config, problems: p.list };
  }
  const known = new Set(['qbittorrent', 'trackers', 'sevenZip', 'level', 'secrets', 'watch', 'managed', '$schema', '//']);
  for (const k of Object.keys(raw)) if (!known.has(k)) p.add(k, `unknown key (known keys: ${[...known].filter((x) => !x.startsWith('$') && x !== '//').join(', ')})`);

  if (raw.qbittorrent !== undefined) {
    const q = raw.qbittorrent;
    if (!isObject(q)) p.add('qbittorrent', 'must be an object');
    else {
      const knownQ = new Set(['url', 'username', 'pathMap', 'timeoutSeconds', 'seedWaitSeconds', 'category', 'tags', 'caFile', 'insecureTls']);
      for (const k of Object.keys(q)) {
        if (k === 'password' || k === 'apiKey')
          p.add(`qbittorrent.${k}`, 'qshare never reads a password from the config file (it is plain text): remove it and set QSHARE_QBIT_PASSWORD, or type it when asked');
        else if (!knownQ.has(k)) p.add(`qbittorrent.${k}`, `unknown key (known: ${[...knownQ].join(', ')})`);
      }
      if (q.url !== undefined) {
        const problem = checkWebUiUrl(q.url);
        if (problem) p.add('qbittorrent.url', problem);
        else config.qbittorrent.url = q.url as string;
      }
      if (q.username !== undefined) {
        if (typeof q.username !== 'string') p.add('qbittorrent.username', 'must be a string');
        else config.qbittorrent.username = q.username;
      }
      if (q.pathMap !== undefined) {
        if (!isObject(q.pathMap)) p.add('qbittorrent.pathMap', 'must be an object like {"/home/me/.local/share/qshare": "/downloads/qshare"}');
        else
          for (const [from, to] of Object.entries(q.pathMap)) {
            if (typeof to !== 'string' || to === '') p.add(`qbittorrent.pathMap["${from}"]`, 'must be a non-empty path as qBittorrent sees it');
            else if (!from.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(from)) p.add(`qbittorrent.pathMap["${from}"]`, 'the key must be an absolute local path');
            else config.qbittorrent.pathMap[from] = to;
          }
      }
      for (const key of ['timeoutSeconds', 'seedWaitSeconds'] as const) {
        const v = q[key];
        if (v === undefined) continue;
        if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > 86_400) p.add(`qbittorrent.${key}`, 'must be a number of seconds between 1 and 86400');
        else config.qbittorrent[key] = v;
      }
      if (q.category !== undefined) {
        if (typeof q.category !== 'string' || q.category.trim() === '') p.add('qbittorrent.category', 'must be a non-empty string');
        else config.qbittorrent.category = q.category;
      }
      if (q.caFile !== undefined && q.caFile !== null) {
        if (typeof q.caFile !== 'string' || q.caFile === '') p.add('qbittorrent.caFile', 'must be the path to a PEM certificate file, or null');
        else config.qbittorrent.caFile = q.caFile;
      }
      if (q.insecureTls !== undefined) {
        if (typeof q.insecureTls !== 'boolean') p.add('qbittorrent.insecureTls', 'must be true or false');
        else config.qbittorrent.insecureTls = q.insecureTls;
      }
      if (q.tags !== undefined) {
        if (!Array.isArray(q.tags) || q.tags.some((t) => typeof t !== 'string' || t === '' || t.includes(',')))
          p.add('qbittorrent.tags', 'must be an array of non-empty strings without commas');
        else config.qbittorrent.tags = q.tags as string[];
      }
    }
  }

  if (raw.trackers !== undefined) {
    if (!Array.isArray(raw.trackers)) p.add('trackers', 'must be an array of announce URLs (an empty array means DHT only)');
    else {
      const ok: string[] = [];
      raw.trackers.forEach((t, i) => {
        const problem = checkTrackerUrl(t);
        if (problem) p.add(`trackers[${i}]`, problem);
        else ok.push(t as string);
      });
      config.trackers = ok;
    }
  }

  if (raw.sevenZip !== undefined && raw.sevenZip !== null) {
    if (typeof raw.sevenZip !== 'string' || raw.sevenZip === '') p.add('sevenZip', 'must be the path to a 7-Zip binary (7zz, 7z or 7za), or null to find one');
    else config.sevenZip = raw.sevenZip;
  }

  if (raw.level !== undefined) {
    const problem = checkLevel(raw.level);
    if (problem) p.add('level', problem);
    else config.level = raw.level as number;
  }
  if (raw.secrets !== undefined) {
    const sec = raw.secrets;
    if (!isObject(sec)) p.add('secrets', 'must be an object like {"store": "auto"}');
    else {
      for (const k of Object.keys(sec)) if (k !== 'store') p.add(`secrets.${k}`, 'unknown key (known: store)');
      if (sec.store !== undefined) {
        if (typeof sec.store !== 'string' || !(SECRET_STORES as readonly string[]).includes(sec.store))
          p.add('secrets.store', `must be one of ${SECRET_STORES.map((x) => `"${x}"`).join(', ')}`);
        else config.secrets.store = sec.store as SecretStoreChoice;
      }
    }
  }
  if (raw.watch !== undefined) validateWatch(raw.watch, config.watch, p);
  if (raw.managed !== undefined) {
    const m = raw.managed;
    if (!isObject(m)) p.add('managed', 'must be an object like {"autoStart": true}');
    else
      for (const [k, v] of Object.entries(m)) {
        if (k !== 'autoStart' && k !== 'loopbackOnly') p.add(`managed.${k}`, 'unknown key (known: autoStart, loopbackOnly)');
        else if (typeof v !== 'boolean') p.add(`managed.${k}`, 'must be true or false');
        else config.managed[k] = v;
      }
  }
  return { config, problems: p.list };
}

function validateWatch(w: Json, out: WatchConfig, p: ConfigProblems): void {
  if (!isObject(w)) {
    p.add('watch', 'must be an object like {"dir": "~/ToShare"}');
    return;
  }
  const known = ['dir', 'settleSeconds', 'concurrency', 'writePasswordFile', 'recipients', 'expire'];
  for (const k of Object.keys(w)) if (!known.includes(k)) p.add(`watch.${k}`, `unknown key (known: ${known.join(', ')})`);
  if (w.dir !== undefined) {
    if (typeof w.dir !== 'string' || w.dir.trim() === '') p.add('watch.dir', 'must be the path of the drop folder, like "~/ToShare"');
    else out.dir = w.dir;
  }
  if (w.settleSeconds !== undefined) {
    const v = w.settleSeconds;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0.5 || v > 86_400) p.add('watch.settleSeconds', 'must be a number of seconds between 0.5 and 86400');
    else out.settleSeconds = v;
  }
  if (w.concurrency !== undefined) {
    const v = w.concurrency;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 16) p.add('watch.concurrency', 'must be a whole number from 1 to 16 (archives made at the same time)');
    else out.concurrency = v;
  }
  if (w.writePasswordFile !== undefined) {
    if (typeof w.writePasswordFile !== 'boolean') p.add('watch.writePasswordFile', 'must be true or false');
    else out.writePasswordFile = w.writePasswordFile;
  }
  if (w.recipients !== undefined) {
    const problem = checkRecipientsCount(w.recipients);
    if (problem) p.add('watch.recipients', problem);
    else out.recipients = w.recipients as number;
  }
  if (w.expire !== undefined) {
    const m = typeof w.expire === 'string' ? expireMinutes(w.expire) : { problem: 'takes a number of days or hours as a string, like "7d" or "48h"' };
    if (typeof m === 'number') out.expireMinutes = m;
    else p.add('watch.expire', m.problem);
  }
}

export function checkLevel(v: unknown): string | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 9 ? undefined : 'must be a whole number from 0 (store, the default: best for photos and video) to 9';
}

export function checkWebUiUrl(v: unknown): string | undefined {
  if (typeof v !== 'string') return 'must be a string like http://127.0.0.1:8080';
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return `"${v}" is not a URL; write it like http://127.0.0.1:8080`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `must start with http:// or https:// (got ${u.protocol})`;
  if (u.username || u.password) return 'must not contain a user name or password; use qbittorrent.username and QSHARE_QBIT_PASSWORD';
  return undefined;
}

export function checkTrackerUrl(v: unknown): string | undefined {
  if (typeof v !== 'string') return 'must be a string like udp://tracker.opentrackr.org:1337/announce';
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return `"${v}" is not a URL`;
  }
  if (!['udp:', 'http:', 'https:', 'wss:'].includes(u.protocol)) return `unsupported tracker scheme ${u.protocol} (use udp://, http:// or https://)`;
  return undefined;
}

/** Environment overrides, applied after the file. The password is never part of Config. */
export function applyEnv(config: Config, env: NodeJS.ProcessEnv): { config: Config; problems: string[] } {
  const problems: string[] = [];
  const out = structuredClone(config);
  if (env.QSHARE_QBIT_URL) {
    const problem = checkWebUiUrl(env.QSHARE_QBIT_URL);
    if (problem) problems.push(`QSHARE_QBIT_URL: ${problem}`);
    else out.qbittorrent.url = env.QSHARE_QBIT_URL;
  }
  if (env.QSHARE_QBIT_USERNAME) out.qbittorrent.username = env.QSHARE_QBIT_USERNAME;
  if (env.QSHARE_SECRET_STORE) {
    if (!(SECRET_STORES as readonly string[]).includes(env.QSHARE_SECRET_STORE))
      problems.push(`QSHARE_SECRET_STORE: must be one of ${SECRET_STORES.join(', ')}`);
    else out.secrets.store = env.QSHARE_SECRET_STORE as SecretStoreChoice;
  }
  return { config: out, problems };
}
