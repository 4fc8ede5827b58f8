/**
 * Test harness: a real, throwaway qbittorrent-nox (4.5.x) bound to 127.0.0.1 with its own profile directory.
 *
 *   const qb = await startQbitNox();            // fresh profile, fresh ports, random Web UI password
 *   const cookie = await qb.login();            // 'SID=…' (one attempt; 5 failures ban 127.0.0.1 for an hour)
 *   …
 *   await qb.stop();                            // SIGTERM (SIGKILL after 5 s), then removes the profile
 *
 * The configuration is written before the first start (see /work/shared/notes/qbittorrent.md): loopback only,
 * no DHT/LSD/PeX/UPnP/NAT-PMP/GeoIP/RSS, TCP only, queueing off. Several instances can run at once.
 * Children are SIGKILLed when the test process exits, and (via `setpriv --pdeathsig KILL` when available) when it
 * dies without running exit hooks.
 *
 * Pure parts (password hash, conf sections, rendering) are exported for unit tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { pbkdf2, randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants as fsConstants, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, freeTcpUdpPort } from './ports.js';

const pbkdf2Async = promisify(pbkdf2);

export interface QbitNoxOptions {
  /** Web UI user name; default 'admin'. */
  username?: string;
  /** Web UI password; default: 16 random characters. Stored in the conf as PBKDF2 only. */
  password?: string;
  /** `WebUI\LocalHostAuth=false`: requests from 127.0.0.1 need no login. */
  bypassLocalAuth?: boolean;
  /** Default false: keeps tests off the public network. */
  dht?: boolean;
  /** Default false. */
  pex?: boolean;
  /**
   * `[Section] key=value` additions/overrides, applied last. Keys as in the file (`WebUI\\MaxAuthenticationFailCount`);
   * values are written verbatim (quote them yourself if they contain `,` `;` `=` or start with `@`).
   */
  extraConf?: ConfSections;
  /** How long to wait for the Web API to answer; default 15000. */
  startTimeoutMs?: number;
  /** Web UI port to use instead of a fresh free one (e.g. to test what happens when it is taken). */
  webuiPort?: number;
  /** Executable to run instead of the installed qbittorrent-nox (fault tests: a script that exits at once). */
  binary?: string;
  /** Run it inside this network namespace (`ip netns exec`; nat-lab.ts). */
  netns?: string;
  /** The address BitTorrent binds to (Session\\InterfaceAddress); default 127.0.0.1. */
  bindAddress?: string;
  /** The Web UI's listening address; default 127.0.0.1 (`*`: every address in its namespace). */
  webuiAddress?: string;
  /** Where this test process reaches the Web UI; default 127.0.0.1. */
  apiHost?: string;
}

export interface QbitNox {
  /** http://127.0.0.1:<webuiPort> */
  url: string;
  webuiPort: number;
  torrentPort: number;
  username: string;
  password: string;
  /** A fresh mkdtemp directory (passed as --profile). */
  profileDir: string;
  /** Default save path, inside the profile. */
  downloadsDir: string;
  /** `<profileDir>/qBittorrent/config/qBittorrent.conf` */
  confPath: string;
  /** pid of the current process (changes after restart()). */
  readonly pid: number;
  /** Its stdout/stderr. Still available after stop(). */
  log(): Promise<string>;
  /** qBittorrent's own log file (data/logs/qbittorrent.log), more detailed. Still available after stop(). */
  appLog(): Promise<string>;
  /** One login attempt with the configured credentials; returns the cookie pair `SID=…`. Throws on `Fails.`. */
  login(): Promise<string>;
  /**
   * The session cookie for raw calls: one login per running process, reused by every later call (each login is a
   * PBKDF2 check on qBittorrent's main thread: polling with a fresh login each time slows it down under load).
   */
  session(): Promise<string>;
  /** A raw Web API call on that session (a 403, a session lost, logs in once more); JSON parsed, others as text. */
  api(path: string, form?: Record<string, string>): Promise<unknown>;
  /** SIGTERM, wait for exit (SIGKILL after 5 s), remove the profile dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, keep the profile (for fault tests). stop() still cleans up; restart() starts it again. */
  kill(): Promise<void>;
  /** Start again on the same ports and profile (stops the running process gracefully first). */
  restart(): Promise<void>;
}

/** `[Section] -> key -> raw value` as written to qBittorrent.conf (keys use `\`, as QSettings writes them). */
export type ConfSections = Record<string, Record<string, string>>;

const NOX_DEFAULT_PATH = '/usr/bin/qbittorrent-nox';
const SETPRIV_PATH = '/usr/bin/setpriv';
const STDBUF_PATH = '/usr/bin/stdbuf';
const KILL_GRACE_MS = 5000;
const POLL_MS = 100;

function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of qbittorrent-nox: /usr/bin/qbittorrent-nox, else the first on PATH; undefined if none. */
export function findQbitNox(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (isExecutable(NOX_DEFAULT_PATH)) return NOX_DEFAULT_PATH;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, 'qbittorrent-nox');
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export function hasQbitNox(): boolean {
  return findQbitNox() !== undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Pure parts
// ---------------------------------------------------------------------------------------------------------------

/**
 * A string as QSettings' ini writer would escape it: `\` and `"` backslash-escaped, and the whole value quoted when
 * it contains `,` `;` `=` (which would otherwise make it a list or break parsing) or has a leading/trailing space.
 */
export function iniString(value: string): string {
  const escaped = value.replace(/[\\"]/g, (c) => `\\${c}`);
  const needsQuotes = /[,;=]/.test(value) || value.startsWith(' ') || value.endsWith(' ');
  return needsQuotes ? `"${escaped}"` : escaped;
}

/**
 * `WebUI\Password_PBKDF2` value (unquoted): `@ByteArray(<b64 salt>:<b64 key>)`, PBKDF2-HMAC-SHA512,
 * 100 000 iterations, 16-byte salt, 64-byte key — what qBittorrent ≥ 4.2 stores.
 */
export async function hashWebuiPassword(password: string, salt: Buffer = randomBytes(16)): Promise<string> {
  const key = await pbkdf2Async(password, salt, 100_000, 64, 'sha512');
  return `@ByteArray(${salt.toString('base64')}:${key.toString('base64')})`;
}

export interface BaseConfParams {
  webuiPort: number;
  torrentPort: number;
  username: string;
  /** From hashWebuiPassword(). */
  passwordPbkdf2: string;
  downloadsDir: string;
  bypassLocalAuth: boolean;
  dht: boolean;
  pex: boolean;
  /** default 127.0.0.1 */
  bindAddress?: string;
  /** default 127.0.0.1 */
  webuiAddress?: string;
}

/** The conf for a quiet, loopback-only qbittorrent-nox 4.5 (section names as 4.5.2 writes them itself). */
export function baseConf(p: BaseConfParams): ConfSections {
  const bool = (b: boolean): string => (b ? 'true' : 'false');
  return {
    LegalNotice: { Accepted: 'true' },
    BitTorrent: {
      'Session\\InterfaceAddress': p.bindAddress ?? '127.0.0.1',
      'Session\\Port': String(p.torrentPort),
      'Session\\DHTEnabled': bool(p.dht),
      'Session\\LSDEnabled': 'false',
      'Session\\PeXEnabled': bool(p.pex),
      'Session\\QueueingSystemEnabled': 'false',
      'Session\\BTProtocol': 'TCP',
      'Session\\MultiConnectionsPerIp': 'true',
      'Session\\DefaultSavePath': iniString(p.downloadsDir),
      'Session\\TempPathEnabled': 'false',
      'Session\\AddTrackersEnabled': 'false',
    },
    Network: {
      PortForwardingEnabled: 'false',
    },
    Preferences: {
      'WebUI\\Address': p.webuiAddress ?? '127.0.0.1',
      'WebUI\\Port': String(p.webuiPort),
      'WebUI\\UseUPnP': 'false',
      'WebUI\\Username': iniString(p.username),
      'WebUI\\Password_PBKDF2': iniString(p.passwordPbkdf2),
      'WebUI\\LocalHostAuth': bool(!p.bypassLocalAuth),
      'Connection\\ResolvePeerCountries': 'false',
      'DynDNS\\Enabled': 'false',
      'MailNotification\\enabled': 'false',
      'General\\Locale': 'en',
    },
    RSS: {
      'Session\\EnableProcessing': 'false',
      'AutoDownloader\\EnableProcessing': 'false',
    },
  };
}

/** `extra` wins key by key; sections only in `extra` are added. Inputs are not modified. */
export function mergeConf(base: ConfSections, extra: ConfSections = {}): ConfSections {
  const out: ConfSections = {};
  for (const [section, keys] of Object.entries(base)) out[section] = { ...keys };
  for (const [section, keys] of Object.entries(extra)) out[section] = { ...(out[section] ?? {}), ...keys };
  return out;
}

/** Ini text; values are written verbatim (escape them with iniString() when needed). */
export function renderConf(sections: ConfSections): string {
  const blocks: string[] = [];
  for (const [section, keys] of Object.entries(sections)) {
    if (/[\]\n\r]/.test(section)) throw new Error(`bad conf section name: ${JSON.stringify(section)}`);
    const lines = [`[${section}]`];
    for (const [key, value] of Object.entries(keys)) {
      if (/[=\n\r]/.test(key) || /[\n\r]/.test(value))
        throw new Error(`bad conf entry in [${section}]: ${JSON.stringify(key)}`);
      lines.push(`${key}=${value}`);
    }
    blocks.push(lines.join('\n'));
  }
  return `${blocks.join('\n\n')}\n`;
}

/** Environment for the child: no QBT_* variables (qBittorrent reads options from them), HOME/XDG in the profile. */
export function childEnv(parent: NodeJS.ProcessEnv, profileDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(parent)) if (!k.startsWith('QBT_') && v !== undefined) env[k] = v;
  env.HOME = profileDir;
  env.XDG_CONFIG_HOME = path.join(profileDir, 'xdg', 'config');
  env.XDG_DATA_HOME = path.join(profileDir, 'xdg', 'data');
  env.XDG_CACHE_HOME = path.join(profileDir, 'xdg', 'cache');
  return env;
}

/**
 * argv: [command, ...args]. Wrapped in `setpriv --pdeathsig KILL` (dies with the test process) and
 * `stdbuf -oL -eL` (its stdout is block-buffered into a file otherwise) when those exist. Both exec, so the pid
 * we get is qbittorrent-nox's own.
 */
export function noxArgv(
  noxPath: string,
  profileDir: string,
  webuiPort: number,
  wrappers: { setpriv?: string | undefined; stdbuf?: string | undefined } = {},
): string[] {
  let argv = [noxPath, `--profile=${profileDir}`, `--webui-port=${webuiPort}`];
  if (wrappers.stdbuf !== undefined) argv = [wrappers.stdbuf, '-oL', '-eL', '--', ...argv];
  if (wrappers.setpriv !== undefined) argv = [wrappers.setpriv, '--pdeathsig', 'KILL', '--', ...argv];
  return argv;
}

function randomPassword(length = 16): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Process shell
// ---------------------------------------------------------------------------------------------------------------

/** Children still running, SIGKILLed synchronously if the test process exits first. */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function killLiveChildren(): void {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    process.on('exit', killLiveChildren);
    exitHookInstalled = true;
  }
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function readOr(file: string, fallback: string, fromByte = 0): Promise<string> {
  try {
    const buf = await readFile(file);
    return buf.subarray(fromByte).toString('utf8');
  } catch {
    return fallback;
  }
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
  hasExited: () => boolean;
  exitInfo: () => string;
}

function spawnNox(argv: string[], env: NodeJS.ProcessEnv, logFile: string): Running {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error('empty argv');
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env });
  } finally {
    closeSync(fd);
  }
  let done = false;
  let info = '';
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      info = signal === null ? `exit code ${code}` : `signal ${signal}`;
      resolve();
    });
    child.once('error', (err) => {
      done = true;
      info = `spawn error: ${err.message}`;
      resolve();
    });
  });
  track(child);
  return { child, exited, hasExited: () => done, exitInfo: () => info };
}

/** SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves once the process is gone. */
async function terminate(run: Running, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (run.hasExited()) return;
  run.child.kill(signal);
  const timer = setTimeout(() => {
    if (!run.hasExited()) run.child.kill('SIGKILL');
  }, graceMs);
  try {
    await run.exited;
  } finally {
    clearTimeout(timer);
  }
}

export async function startQbitNox(opts: QbitNoxOptions = {}): Promise<QbitNox> {
  const noxPath = opts.binary ?? findQbitNox();
  if (noxPath === undefined) throw new Error('qbittorrent-nox is not installed (looked in /usr/bin and on PATH)');
  const wrappers = {
    setpriv: isExecutable(SETPRIV_PATH) ? SETPRIV_PATH : undefined,
    stdbuf: isExecutable(STDBUF_PATH) ? STDBUF_PATH : undefined,
  };

  const username = opts.username ?? 'admin';
  const password = opts.password ?? randomPassword();
  const startTimeoutMs = opts.startTimeoutMs ?? 15_000;

  const profileDir = await mkdtemp(path.join(os.tmpdir(), 'qshare-qbit-'));
  const downloadsDir = path.join(profileDir, 'downloads');
  const confDir = path.join(profileDir, 'qBittorrent', 'config');
  const confPath = path.join(confDir, 'qBittorrent.conf');
  const stdoutLog = path.join(profileDir, 'nox.log');
  const appLogFile = path.join(profileDir, 'qBittorrent', 'data', 'logs', 'qbittorrent.log');

  try {
    const webuiPort = opts.webuiPort ?? (await freePort());
    const torrentPort = await freeTcpUdpPort([webuiPort]);
    await mkdir(downloadsDir, { recursive: true });
    await mkdir(confDir, { recursive: true });
    const conf = baseConf({
      webuiPort,
      torrentPort,
      username,
      passwordPbkdf2: await hashWebuiPassword(password),
      downloadsDir,
      bypassLocalAuth: opts.bypassLocalAuth ?? false,
      dht: opts.dht ?? false,
      pex: opts.pex ?? false,
      ...(opts.bindAddress ? { bindAddress: opts.bindAddress } : {}),
      ...(opts.webuiAddress ? { webuiAddress: opts.webuiAddress } : {}),
    });
    await writeFile(confPath, renderConf(mergeConf(conf, opts.extraConf)), { mode: 0o600 });

    const url = `http://${opts.apiHost ?? '127.0.0.1'}:${webuiPort}`;
    const argv = [
      ...(opts.netns ? ['/usr/sbin/ip', 'netns', 'exec', opts.netns] : []),
      ...noxArgv(noxPath, profileDir, webuiPort, wrappers),
    ];
    const env = childEnv(process.env, profileDir);

    let run: Running | undefined;
    let stopPromise: Promise<void> | undefined;
    let savedLog: string | undefined;
    let savedAppLog: string | undefined;

    const readLogs = async (fromAppByte = 0): Promise<string> => {
      const out = await readOr(stdoutLog, '(no stdout/stderr log)');
      const app = await readOr(appLogFile, '(no qbittorrent.log)', fromAppByte);
      return `--- stdout/stderr ---\n${out}\n--- qbittorrent.log ---\n${app}`;
    };

    const launch = async (): Promise<void> => {
      const appLogStart = await sizeOf(appLogFile);
      const current = spawnNox(argv, env, stdoutLog);
      run = current;
      const deadline = Date.now() + startTimeoutMs;
      const listening = `Web UI: Now listening on IP: ${opts.webuiAddress ?? '127.0.0.1'}, port: ${webuiPort}`;
      let httpUp = false;
      for (;;) {
        if (!httpUp) {
          try {
            const res = await fetch(`${url}/api/v2/app/version`, { signal: AbortSignal.timeout(1000) });
            await res.arrayBuffer();
            httpUp = res.status === 403 || res.status === 200;
          } catch {
            // not listening yet
          }
        }
        // Only trust the answer if it came from *our* process: another program may have grabbed the port.
        const appLog = await readOr(appLogFile, '', appLogStart);
        if (appLog.includes('Web UI: Unable to bind')) {
          await terminate(current, 'SIGKILL', 0);
          throw new Error(
            `qbittorrent-nox could not bind its Web UI port ${webuiPort}\n${await readLogs(appLogStart)}`,
          );
        }
        if (current.hasExited()) {
          throw new Error(
            `qbittorrent-nox exited during start (${current.exitInfo()})\n${await readLogs(appLogStart)}`,
          );
        }
        if (httpUp && appLog.includes(listening)) return;
        if (Date.now() >= deadline) {
          await terminate(current, 'SIGKILL', 0);
          throw new Error(`qbittorrent-nox not ready within ${startTimeoutMs} ms\n${await readLogs(appLogStart)}`);
        }
        await sleep(POLL_MS);
      }
    };

    await launch();

    let cookie: Promise<string> | undefined;
    const call = async (sid: string, apiPath: string, form?: Record<string, string>) =>
      fetch(`${url}/api/v2/${apiPath}`, {
        ...(form ? { method: 'POST', body: new URLSearchParams(form) } : {}),
        headers: { cookie: sid },
        signal: AbortSignal.timeout(30_000),
      });

    const instance: QbitNox = {
      url,
      webuiPort,
      torrentPort,
      username,
      password,
      profileDir,
      downloadsDir,
      confPath,
      get pid(): number {
        return run?.child.pid ?? -1;
      },
      async log() {
        return savedLog ?? readOr(stdoutLog, '');
      },
      async appLog() {
        return savedAppLog ?? readOr(appLogFile, '');
      },
      async login() {
        const res = await fetch(`${url}/api/v2/auth/login`, {
          method: 'POST',
          body: new URLSearchParams({ username, password }),
          signal: AbortSignal.timeout(5000),
        });
        const body = await res.text();
        const sid = /(?:^|[;,]\s*)(SID=[^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
        if (res.status !== 200 || body !== 'Ok.' || sid === undefined) {
          throw new Error(`login to test qbittorrent-nox failed: HTTP ${res.status} ${body.slice(0, 200)}`);
        }
        return sid;
      },
      session() {
        if (!cookie) {
          cookie = instance.login();
          cookie.catch(() => (cookie = undefined));
        }
        return cookie;
      },
      async api(apiPath, form) {
        let res = await call(await instance.session(), apiPath, form);
        if (res.status === 403) {
          await res.arrayBuffer();
          cookie = undefined;
          res = await call(await instance.session(), apiPath, form);
        }
        const text = await res.text();
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return text;
        }
      },
      stop() {
        stopPromise ??= (async () => {
          if (run !== undefined) await terminate(run, 'SIGTERM', KILL_GRACE_MS);
          savedLog = await readOr(stdoutLog, '');
          savedAppLog = await readOr(appLogFile, '');
          await rm(profileDir, { recursive: true, force: true });
        })();
        return stopPromise;
      },
      async kill() {
        if (run !== undefined) await terminate(run, 'SIGKILL', 0);
      },
      async restart() {
        if (stopPromise !== undefined) throw new Error('restart() after stop(): the profile is gone');
        if (run !== undefined) await terminate(run, 'SIGTERM', KILL_GRACE_MS);
        cookie = undefined; // a new process knows no session
        await launch();
      },
    };
    return instance;
  } catch (err) {
    await rm(profileDir, { recursive: true, force: true });
    throw err;
  }
}
