/**
 * qshare's own qbittorrent-nox ("managed"): its profile in `<data folder>/qbittorrent`, Web UI on 127.0.0.1 only,
 * user `qshare` with a random password kept in the secret store (never in a file qshare writes in plain text
 * unless secrets.store is "file"), legal notice accepted, queueing off. Started detached so it keeps seeding after
 * qshare exits; `stopManaged` ends it. Only a process whose command line names this profile is ever signalled.
 */
import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, openSync, closeSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { QshareError } from '../errors.js';
import { childEnv } from '../env.js';
import { ensurePrivateDir, writeFileAtomic } from '../fsx/atomic.js';
import { withFileLock } from '../fsx/lock.js';
import type { Logger } from '../log.js';
import type { SecretStore } from '../secrets/store.js';
import { hashWebUiPassword, managedConf, noxArgs, noxMajorVersion, renderConf } from './conf.js';

const execFileAsync = promisify(execFile);

export const MANAGED_USERNAME = 'qshare';
/** the secret store key of the managed Web UI password (its port may change; the key does not) */
export const MANAGED_SECRET_KEY = 'qbit:managed|qshare';
const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 10_000;

export interface ManagedDeps {
  dataDir: string;
  loopbackOnly: boolean;
  log: Logger;
  secrets: () => Promise<SecretStore>;
  env: NodeJS.ProcessEnv;
}

interface ManagedState {
  webUiPort: number;
  torrentPort: number;
  pid?: number;
  noxVersion?: string;
}

export interface ManagedInstance {
  url: string;
  username: string;
  password: string;
  pid: number;
  /** true when this call started it */
  started: boolean;
  noxVersion: string;
}

export interface ManagedStatus {
  installed: boolean;
  running: boolean;
  profileDir: string;
  url?: string;
  pid?: number;
  noxVersion?: string;
}

export function managedDir(dataDir: string): string {
  return join(dataDir, 'qbittorrent');
}

const files = (dataDir: string) => {
  const dir = managedDir(dataDir);
  return {
    dir,
    state: join(dir, 'managed.json'),
    lock: join(dir, 'managed.lock'),
    log: join(dir, 'qbittorrent-nox.log'),
    conf: join(dir, 'qBittorrent', 'config', 'qBittorrent.conf'),
    downloads: join(dir, 'downloads'),
  };
};

/** qbittorrent-nox on PATH (or /usr/bin), or undefined. */
export function findNox(env: NodeJS.ProcessEnv): string | undefined {
  for (const d of [...(env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin']) {
    if (!d) continue;
    const p = join(d, 'qbittorrent-nox');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

async function readState(file: string): Promise<ManagedState | undefined> {
  try {
    const s = JSON.parse(await readFile(file, 'utf8')) as ManagedState;
    return typeof s.webUiPort === 'number' && typeof s.torrentPort === 'number' ? s : undefined;
  } catch {
    return undefined;
  }
}

const writeState = (file: string, s: ManagedState) =>
  writeFileAtomic(file, JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });

/** True when `pid` is a live process started with this profile (on Linux checked through /proc; elsewhere only alive). */
async function isOurs(pid: number | undefined, profileDir: string): Promise<boolean> {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (process.platform !== 'linux') return true;
  try {
    const cmd = (await readFile(`/proc/${pid}/cmdline`)).toString('utf8').split('\0');
    return cmd.includes(`--profile=${profileDir}`);
  } catch {
    return false;
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/api/v2/app/version`, { signal: AbortSignal.timeout(1500), redirect: 'manual' });
    await res.arrayBuffer();
    return res.status === 403 || res.status === 200;
  } catch {
    return false;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

async function noxVersion(nox: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync(nox, ['--version'], { timeout: 10_000 });
    return stdout.trim();
  } catch (e) {
    throw new QshareError('QBIT_UNREACHABLE', `${nox} --version failed: ${(e as Error).message}`);
  }
}

const urlOf = (port: number) => `http://127.0.0.1:${port}`;

export async function managedStatus(deps: ManagedDeps): Promise<ManagedStatus> {
  const f = files(deps.dataDir);
  const installed = findNox(deps.env) !== undefined;
  const st = await readState(f.state);
  if (st && (await isOurs(st.pid, f.dir))) {
    return {
      installed,
      running: true,
      profileDir: f.dir,
      url: urlOf(st.webUiPort),
      pid: st.pid!,
      ...(st.noxVersion ? { noxVersion: st.noxVersion } : {}),
    };
  }
  return { installed, running: false, profileDir: f.dir };
}

/** Returns the running managed instance, starting it first if needed. */
export async function ensureManaged(deps: ManagedDeps): Promise<ManagedInstance> {
  const nox = findNox(deps.env);
  if (!nox) {
    throw new QshareError(
      'QBIT_UNREACHABLE',
      'qshare cannot start its own qBittorrent: qbittorrent-nox is not installed',
      {
        hint: 'install it (Debian/Ubuntu: sudo apt install qbittorrent-nox), or start your own qBittorrent with its Web UI and run `qshare login`',
      },
    );
  }
  const store = await deps.secrets();
  if (store.kind === 'none') {
    throw new QshareError(
      'SECRET',
      `qshare cannot start its own qBittorrent: it has nowhere to keep that qBittorrent's Web UI password (${store.description.split('. To keep')[0]})`,
      {
        hint: 'set "secrets": {"store": "auto"} in the config (the keychain, else an owner-only file in the data folder), or start your own qBittorrent and run `qshare login`',
      },
    );
  }
  const f = files(deps.dataDir);
  await ensurePrivateDir(deps.dataDir);
  await ensurePrivateDir(f.dir);
  return withFileLock(f.lock, () => ensureLocked(deps, nox, store, f), {
    waitMs: START_TIMEOUT_MS + 5_000,
    onTimeout: () =>
      new QshareError(
        'QBIT_UNREACHABLE',
        `another qshare process is starting qshare's qBittorrent (${f.lock}); try again in a moment`,
      ),
  });
}

async function ensureLocked(
  deps: ManagedDeps,
  nox: string,
  store: SecretStore,
  f: ReturnType<typeof files>,
): Promise<ManagedInstance> {
  let st = await readState(f.state);
  let password = await store.get(MANAGED_SECRET_KEY);
  if (st && password && (await isOurs(st.pid, f.dir)) && (await answers(urlOf(st.webUiPort)))) {
    return {
      url: urlOf(st.webUiPort),
      username: MANAGED_USERNAME,
      password,
      pid: st.pid!,
      started: false,
      noxVersion: st.noxVersion ?? '',
    };
  }
  if (st?.pid && (await isOurs(st.pid, f.dir))) {
    // ours but not answering (or its password was lost): restart it cleanly
    await terminate(st.pid, f.dir);
  }
  const version = await noxVersion(nox);
  const major = noxMajorVersion(version) ?? 4;

  let confExists = true;
  try {
    await readFile(f.conf);
  } catch {
    confExists = false;
  }
  if (!st || !confExists || !password) {
    // first start (or the password is gone from the store): a fresh password, and the conf qBittorrent starts from
    password = randomBytes(18).toString('base64url');
    const hash = await hashWebUiPassword(password);
    st = { webUiPort: st?.webUiPort ?? (await freePort()), torrentPort: st?.torrentPort ?? (await freePort()) };
    if (!confExists) {
      await mkdir(join(f.dir, 'qBittorrent', 'config'), { recursive: true, mode: 0o700 });
      await mkdir(f.downloads, { recursive: true, mode: 0o700 });
      const conf = managedConf({
        webUiPort: st.webUiPort,
        torrentPort: st.torrentPort,
        username: MANAGED_USERNAME,
        passwordPbkdf2: hash,
        downloadsDir: f.downloads,
        loopbackOnly: deps.loopbackOnly,
      });
      await writeFile(f.conf, renderConf(conf), { mode: 0o600 });
    } else {
      const text = await readFile(f.conf, 'utf8');
      const line = `WebUI\\Password_PBKDF2="${hash}"`;
      const next = /^WebUI\\Password_PBKDF2=.*$/m.test(text)
        ? text.replace(/^WebUI\\Password_PBKDF2=.*$/m, () => line)
        : text.replace(/^\[Preferences\]$/m, () => `[Preferences]\n${line}`);
      await writeFileAtomic(f.conf, next, { mode: 0o600 });
    }
    await store.set(MANAGED_SECRET_KEY, password);
  }
  if (!(await portFree(st.webUiPort))) {
    deps.log.info(`port ${st.webUiPort} is taken; qshare's qBittorrent moves its Web UI to another one`);
    st.webUiPort = await freePort();
  }

  const fd = openSync(f.log, 'a', 0o600);
  let pid: number | undefined;
  try {
    // QBT_* would override its options; qshare's own secrets never reach a long-lived process
    const env = childEnv(deps.env, (k) => k.startsWith('QBT_'));
    const child = spawn(nox, noxArgs(f.dir, st.webUiPort, major), { detached: true, stdio: ['ignore', fd, fd], env });
    pid = child.pid;
    child.unref();
  } finally {
    closeSync(fd);
  }
  if (!pid) throw new QshareError('QBIT_UNREACHABLE', `could not start ${nox}`);
  const url = urlOf(st.webUiPort);
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answers(url))) {
    if (!(await isOurs(pid, f.dir)) || Date.now() > deadline) {
      await terminate(pid, f.dir).catch(() => {});
      const tail = (await readFile(f.log, 'utf8').catch(() => '')).split('\n').slice(-8).join('\n');
      throw new QshareError(
        'QBIT_UNREACHABLE',
        `qshare's qBittorrent (${nox}, profile ${f.dir}) did not come up within ${START_TIMEOUT_MS / 1000} s. Its last output:\n${tail}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await writeState(f.state, { ...st, pid, noxVersion: version });
  deps.log.debug('started the managed qBittorrent', { url, pid });
  return { url, username: MANAGED_USERNAME, password, pid, started: true, noxVersion: version };
}

async function terminate(pid: number, profileDir: string): Promise<void> {
  if (!(await isOurs(pid, profileDir))) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_GRACE_MS;
  while (await isOurs(pid, profileDir)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 200));
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stops the managed instance (SIGTERM, SIGKILL after 10 s). Never signals a process that is not ours. */
export async function stopManaged(deps: ManagedDeps): Promise<'stopped' | 'not-running'> {
  const f = files(deps.dataDir);
  const st = await readState(f.state);
  if (!st || !(await isOurs(st.pid, f.dir))) return 'not-running';
  await terminate(st.pid!, f.dir);
  const { pid: _pid, ...rest } = st;
  await writeState(f.state, rest);
  return 'stopped';
}
