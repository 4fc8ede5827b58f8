/**
 * The config file's shape, its defaults, and validation that reports every problem at once in words a user can act
 * on: one valibot schema, from which the Config type is inferred. Pure: no I/O here (see load.ts).
 */
import * as v from 'valibot';

export const DEFAULT_TRACKER = 'udp://tracker.opentrackr.org:1337/announce';
/** "7d" / "48h" → minutes of seeding, or the problem in words. Pure; the one reader of --expire and watch.expire. */
export function expireMinutes(text: string): number | { problem: string } {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(d|h)\s*$/i.exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (!m || !(n > 0))
    return { problem: `takes a number of days or hours, like 7d or 48h (got ${JSON.stringify(text)})` };
  const minutes = Math.round(n * (m[2]!.toLowerCase() === 'd' ? 1440 : 60));
  if (minutes > 525_600 * 10) return { problem: 'cannot be more than ten years' };
  return minutes;
}

/** A recipients count, or the problem in words. Pure; the one check of --recipients and watch.recipients. */
export function checkRecipientsCount(n: unknown): string | undefined {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 1000
    ? undefined
    : `takes a whole number from 1 to 1000 (got ${String(n)})`;
}

/**
 * `auto`: the OS keychain when one answers, otherwise the owner-only secrets file; `keychain`: the keychain only (a
 * missing one is warned about every time); `file`: the 0600 secrets file in the data folder; `none`: never keep one.
 */
export const SECRET_STORES = ['auto', 'keychain', 'file', 'none'] as const;
export type SecretStoreChoice = (typeof SECRET_STORES)[number];

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** A value checked by one of the `check…` functions below (the same words on the command line and in the file). */
function checkedBy<T>(problem: (x: unknown) => string | undefined) {
  return v.pipe(
    v.unknown(),
    v.rawCheck(({ dataset, addIssue }) => {
      const p = problem(dataset.value);
      if (p !== undefined) addIssue({ message: p });
    }),
    v.transform((x) => x as T),
  );
}

/** An object section: `notObject` when it is not one, and each unknown key reported by name. */
function section<E extends v.ObjectEntries>(
  entries: E,
  notObject: string,
  unknownKey: (key: string, known: string[]) => string,
) {
  const known = Object.keys(entries);
  return v.pipe(
    v.custom<Record<string, unknown>>(isObject, notObject),
    v.looseObject(entries),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!isObject(dataset.value)) return;
      for (const key of Object.keys(dataset.value)) {
        if (!known.includes(key))
          addIssue({
            message: unknownKey(key, known),
            path: [{ type: 'object', origin: 'key', input: dataset.value, key, value: dataset.value[key] }],
          });
      }
    }),
    v.transform((o) => o as v.InferOutput<v.ObjectSchema<E, undefined>>),
  );
}
const unknownIn = (key: string, known: string[]) => `unknown key (known: ${known.join(', ')})`;

/** A number of seconds up to a day: above 0 (`least` undefined) or at least `least`. */
const seconds = (least: number | undefined, words: string) =>
  v.message(
    v.pipe(v.number(), v.finite(), least === undefined ? v.gtValue(0) : v.minValue(least), v.maxValue(86_400)),
    words,
  );
const yesNo = v.message(v.boolean(), 'must be true or false');
const D = {
  qbittorrent: {
    url: 'http://127.0.0.1:8080',
    username: 'admin',
    timeoutSeconds: 10,
    seedWaitSeconds: 60,
    category: 'qshare',
    tags: ['qshare'],
  },
  watch: { dir: '~/ToShare', settleSeconds: 5, concurrency: 1 },
};

const QbittorrentSchema = section(
  {
    /** Web UI address, may include a reverse-proxy base path */
    url: v.optional(checkedBy<string>(checkWebUiUrl), D.qbittorrent.url),
    username: v.optional(v.message(v.string(), 'must be a string'), D.qbittorrent.username),
    /** local path prefix → the same folder as qBittorrent sees it (Docker volume, NAS mount) */
    pathMap: v.optional(
      v.message(
        v.record(
          v.message(
            v.pipe(
              v.string(),
              v.check((from) => from.startsWith('/') || /^[A-Za-z]:[\\/]/.test(from)),
            ),
            'the key must be an absolute local path',
          ),
          v.message(v.pipe(v.string(), v.nonEmpty()), 'must be a non-empty path as qBittorrent sees it'),
        ),
        'must be an object like {"/home/me/.local/share/qshare": "/downloads/qshare"}',
      ),
      {},
    ),
    /** per request, seconds */
    timeoutSeconds: v.optional(
      seconds(undefined, 'must be a number of seconds between 1 and 86400'),
      D.qbittorrent.timeoutSeconds,
    ),
    /** how long `add` waits for qBittorrent to report the torrent as seeding, seconds */
    seedWaitSeconds: v.optional(
      seconds(undefined, 'must be a number of seconds between 1 and 86400'),
      D.qbittorrent.seedWaitSeconds,
    ),
    category: v.optional(
      v.message(
        v.pipe(
          v.string(),
          v.check((c) => c.trim() !== ''),
        ),
        'must be a non-empty string',
      ),
      D.qbittorrent.category,
    ),
    tags: v.optional(
      checkedBy<string[]>((t) =>
        Array.isArray(t) && t.every((x) => typeof x === 'string' && x !== '' && !x.includes(','))
          ? undefined
          : 'must be an array of non-empty strings without commas',
      ),
      () => [...D.qbittorrent.tags],
    ),
    /** PEM file with the Web UI's self-signed certificate (or its CA), trusted on top of the usual CAs */
    caFile: v.optional(
      v.nullable(v.message(v.pipe(v.string(), v.nonEmpty()), 'must be the path to a PEM certificate file, or null')),
      null,
    ),
    /** do not check the Web UI's HTTPS certificate at all (warns on every run) */
    insecureTls: v.optional(yesNo, false),
  },
  'must be an object',
  (key, known) =>
    key === 'password' || key === 'apiKey'
      ? 'qshare never reads a password from the config file (it is plain text): remove it and set QSHARE_QBIT_PASSWORD, or type it when asked'
      : unknownIn(key, known),
);

const WatchSchema = v.pipe(
  section(
    {
      /** the drop folder; `~/` is the home folder */
      dir: v.optional(
        v.message(
          v.pipe(
            v.string(),
            v.check((d) => d.trim() !== ''),
          ),
          'must be the path of the drop folder, like "~/ToShare"',
        ),
        D.watch.dir,
      ),
      /** an item is complete once nothing in it changed for this long */
      settleSeconds: v.optional(
        seconds(0.5, 'must be a number of seconds between 0.5 and 86400'),
        D.watch.settleSeconds,
      ),
      /** archives made at the same time */
      concurrency: v.optional(
        v.message(
          v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(16)),
          'must be a whole number from 1 to 16 (archives made at the same time)',
        ),
        D.watch.concurrency,
      ),
      /** also write each share's password beside its card (plain text, mode 600) */
      writePasswordFile: v.optional(yesNo, false),
      /** each share made by watch seeds until this many recipients have it (as `add --recipients`) */
      recipients: v.optional(checkedBy<number>(checkRecipientsCount)),
      /** each share made by watch stops after this much seeding time (as `add --expire`): minutes once read */
      expire: v.optional(
        v.pipe(
          v.message(v.string(), 'takes a number of days or hours as a string, like "7d" or "48h"'),
          v.rawTransform(({ dataset, addIssue, NEVER }) => {
            const m = expireMinutes(dataset.value);
            if (typeof m === 'number') return m;
            addIssue({ message: m.problem });
            return NEVER;
          }),
        ),
      ),
    },
    'must be an object like {"dir": "~/ToShare"}',
    unknownIn,
  ),
  v.transform(({ expire, recipients, ...w }) => ({
    ...w,
    ...(recipients !== undefined ? { recipients } : {}),
    ...(expire !== undefined ? { expireMinutes: expire } : {}),
  })),
);

/** A relay's name as used on the command line (`--relay box`): letters, digits, `-` and `_`. Pure. */
export function checkRelayName(n: unknown): string | undefined {
  return typeof n === 'string' && /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/.test(n)
    ? undefined
    : `must be 1–40 letters, digits, "-" or "_" (got ${JSON.stringify(n)})`;
}

/** `HOST:PORT` (`[v6]:PORT`) where peers reach a relay's BitTorrent port, or the problem in words. Pure. */
export function checkPeerAddress(a: unknown): string | undefined {
  if (typeof a !== 'string') return 'must be HOST:PORT, like 203.0.113.7:51413';
  const p = splitPeer(a);
  return p && p.port >= 1 && p.port <= 65535
    ? undefined
    : `must be HOST:PORT with a port from 1 to 65535, like 203.0.113.7:51413 (got ${JSON.stringify(a)})`;
}

/** `HOST:PORT` or `[v6]:PORT` → the host (without brackets) and the port; undefined when it is neither. Pure. */
export function splitPeer(a: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(a);
  return m ? { host: (m[1] ?? m[2])!, port: Number(m[3]) } : undefined;
}

/** One relay: the user's own always-on qBittorrent (a seedbox, a VPS) that downloads each share from home and seeds it. */
const RelaySchema = section(
  {
    url: checkedBy<string>(checkWebUiUrl),
    username: v.optional(v.message(v.string(), 'must be a string'), 'admin'),
    /** where peers reach the relay's BitTorrent port (HOST:PORT) */
    peer: checkedBy<string>(checkPeerAddress),
    caFile: v.optional(
      v.nullable(v.message(v.pipe(v.string(), v.nonEmpty()), 'must be the path to a PEM certificate file, or null')),
      null,
    ),
    insecureTls: v.optional(yesNo, false),
    /** the folder the relay downloads into, as the relay sees it; default: the relay's own default save path */
    savePath: v.optional(
      v.nullable(v.message(v.pipe(v.string(), v.nonEmpty()), 'must be a folder on the relay, or null for its default')),
      null,
    ),
  },
  'must be an object like {"url": "https://seedbox.example:8080", "username": "admin", "peer": "203.0.113.7:51413"}',
  (key, known) =>
    key === 'password' || key === 'apiKey'
      ? 'qshare never reads a password from the config file: `qshare login --relay NAME` keeps it in the secret store'
      : unknownIn(key, known),
);

const ConfigSchema = section(
  {
    qbittorrent: v.optional(QbittorrentSchema, {}),
    trackers: v.optional(
      v.message(
        v.array(checkedBy<string>(checkTrackerUrl)),
        'must be an array of announce URLs (an empty array means DHT only)',
      ),
      () => [DEFAULT_TRACKER],
    ),
    /** path to a 7-Zip binary; null = find 7zz / 7z on PATH, then the bundled 7za */
    sevenZip: v.optional(
      v.nullable(
        v.message(
          v.pipe(v.string(), v.nonEmpty()),
          'must be the path to a 7-Zip binary (7zz, 7z or 7za), or null to find one',
        ),
      ),
      null,
    ),
    /** 7-Zip compression level 0 (store) … 9 */
    level: v.optional(checkedBy<number>(checkLevel), 0),
    secrets: v.optional(
      section(
        {
          store: v.optional(
            v.message(v.picklist(SECRET_STORES), `must be one of ${SECRET_STORES.map((x) => `"${x}"`).join(', ')}`),
            'auto',
          ),
        },
        'must be an object like {"store": "auto"}',
        unknownIn,
      ),
      {},
    ),
    watch: v.optional(WatchSchema, {}),
    /** relays paired with `qshare login --relay NAME`, by name */
    relays: v.optional(
      v.pipe(
        v.custom<Record<string, unknown>>(
          isObject,
          'must be an object of relays by name, like {"box": {"url": …, "peer": …}}',
        ),
        v.rawCheck(({ dataset, addIssue }) => {
          if (!isObject(dataset.value)) return;
          for (const key of Object.keys(dataset.value)) {
            const p = checkRelayName(key);
            if (p)
              addIssue({
                message: `a relay name ${p}`,
                path: [{ type: 'object', origin: 'key', input: dataset.value, key, value: dataset.value[key] }],
              });
          }
        }),
        v.record(v.string(), RelaySchema),
      ),
      {},
    ),
    /** relays every `add` and `watch` shares through unless told otherwise (`--relay`, `--no-relay`) */
    defaultRelays: v.optional(
      checkedBy<string[]>((x) =>
        Array.isArray(x) && x.every((n) => checkRelayName(n) === undefined)
          ? undefined
          : 'must be an array of relay names, like ["box"]',
      ),
      () => [],
    ),
    /** the qBittorrent qshare starts and owns when none answers (`qshare daemon`) */
    managed: v.optional(
      section(
        {
          /** add/seed/get/watch start it when nothing answers at qbittorrent.url and qbittorrent-nox is installed */
          autoStart: v.optional(yesNo, true),
          /** keep it on 127.0.0.1 with DHT, PeX, LSD and UPnP off (tests, or a machine that must not be reachable) */
          loopbackOnly: v.optional(yesNo, false),
        },
        'must be an object like {"autoStart": true}',
        unknownIn,
      ),
      {},
    ),
    $schema: v.optional(v.unknown()),
    '//': v.optional(v.unknown()),
  },
  'must be a JSON object like config.example.json',
  (key, known) => `unknown key (known keys: ${known.filter((k) => !k.startsWith('$') && k !== '//').join(', ')})`,
);

type Parsed = v.InferOutput<typeof ConfigSchema>;
export type RelayConfig = v.InferOutput<typeof RelaySchema>;
export type Config = Omit<Parsed, '$schema' | '//'>;
export type WatchConfig = Config['watch'];

function parsed(raw: unknown): v.SafeParseResult<typeof ConfigSchema> {
  return v.safeParse(ConfigSchema, raw);
}

export const DEFAULT_CONFIG: Config = defaults();

function defaults(): Config {
  const r = parsed({});
  if (!r.success) throw new Error('the default config does not pass its own schema');
  const { $schema: _s, '//': _c, ...config } = r.output;
  return config;
}

/** Where an issue is, as the user writes it: `qbittorrent.url`, `trackers[0]`, `qbittorrent.pathMap["/x"]`. */
function where(issue: v.BaseIssue<unknown>): string {
  let out = '';
  for (const item of issue.path ?? []) {
    const key = item.key;
    if (typeof key === 'number') out += `[${key}]`;
    else if (out === 'qbittorrent.pathMap') out += `[${JSON.stringify(String(key))}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? 'config' : out;
}

/**
 * Validates raw JSON (already parsed) and merges it over the defaults. Returns every problem instead of throwing;
 * with any problem the config is the defaults (loadConfig stops at the problems: nothing runs on half a config).
 */
export function validateConfig(raw: unknown): { config: Config; problems: string[] } {
  const r = parsed(raw);
  if (r.success) {
    const { $schema: _s, '//': _c, ...config } = r.output;
    const unknown = config.defaultRelays.filter((n) => !(n in config.relays));
    if (unknown.length > 0)
      return {
        config: structuredClone(DEFAULT_CONFIG),
        problems: [
          `defaultRelays: ${unknown.map((n) => `"${n}"`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not in "relays" (pair one with \`qshare login --relay NAME --url URL\`)`,
        ],
      };
    return { config, problems: [] };
  }
  const problems = [...new Set(r.issues.map((i) => `${where(i)}: ${i.message}`))];
  return { config: structuredClone(DEFAULT_CONFIG), problems };
}

export function checkLevel(v: unknown): string | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 9
    ? undefined
    : 'must be a whole number from 0 (store, the default: best for photos and video) to 9';
}

export function checkWebUiUrl(v: unknown): string | undefined {
  if (typeof v !== 'string') return 'must be a string like http://127.0.0.1:8080';
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return `"${v}" is not a URL; write it like http://127.0.0.1:8080`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    return `must start with http:// or https:// (got ${u.protocol})`;
  if (u.username || u.password)
    return 'must not contain a user name or password; use qbittorrent.username and QSHARE_QBIT_PASSWORD';
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
  if (!['udp:', 'http:', 'https:', 'wss:'].includes(u.protocol))
    return `unsupported tracker scheme ${u.protocol} (use udp://, http:// or https://)`;
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
