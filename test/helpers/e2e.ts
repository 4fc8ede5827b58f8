/**
 * Small helpers for end-to-end tests of the built CLI: a throwaway data folder and config, polling, and looks at
 * what qshare left on disk, in its state and in qBittorrent.
 */
import { mkdtemp, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { ShareRecord } from '../../src/state/types.js';
import { cliEnv } from './cli.js';
import { startQbitNox, type QbitNox, type QbitNoxOptions } from './qbit-nox.js';

/** A closed loopback port: nothing is ever announced anywhere. */
export const TRACKER = 'http://127.0.0.1:9/announce';

export interface E2eSetup {
  dir: string;
  home: string;
  configFile: string;
  env: NodeJS.ProcessEnv;
}

/** A fresh temp dir with a data folder (`home`, not created), a config, and the environment to run qshare with. */
export async function e2eSetup(
  qb: Pick<QbitNox, 'url' | 'username' | 'password'> | null,
  extraConfig: Record<string, unknown> = {},
  prefix = 'qshare-e2e-',
): Promise<E2eSetup> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const home = join(dir, 'home');
  const configFile = join(dir, 'config.json');
  const { qbittorrent, ...rest } = extraConfig as { qbittorrent?: object };
  await writeFile(
    configFile,
    JSON.stringify({ trackers: [TRACKER], qbittorrent: { seedWaitSeconds: 30, ...qbittorrent }, ...rest }),
  );
  const env = cliEnv({
    QSHARE_HOME: home,
    QSHARE_CONFIG: configFile,
    QSHARE_SECRET_STORE: 'none',
    ...(qb ? { QSHARE_QBIT_URL: qb.url, QSHARE_QBIT_USERNAME: qb.username, QSHARE_QBIT_PASSWORD: qb.password } : {}),
  });
  return { dir, home, configFile, env };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns something truthy. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false | null>,
  timeoutMs = 30_000,
  everyMs = 10,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Names in a folder ([] if it does not exist). */
export async function ls(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

/** The shares in a data folder's state file ([] if there is none). */
export async function sharesIn(home: string): Promise<ShareRecord[]> {
  try {
    return (JSON.parse(await readFile(join(home, 'state.json'), 'utf8')) as { shares: ShareRecord[] }).shares;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** Command lines of running processes that mention `text` (e.g. 7-Zip writing into a test's data folder). */
export async function processesMentioning(text: string): Promise<string[]> {
  const out: string[] = [];
  for (const pid of (await readdir('/proc').catch(() => [] as string[])).filter((p) => /^\d+$/.test(p))) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(text)) out.push(`${pid}: ${cmd.replace(/\0/g, ' ')}`);
  }
  return out;
}

/** Whether process `pid` has `file` open (its /proc/<pid>/fd links). */
export async function hasOpen(pid: number, file: string): Promise<boolean> {
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    if (target === file) return true;
  }
  return false;
}

/** qBittorrent's torrents (all, or the one with this info hash). */
export async function qbTorrents(qb: QbitNox, hash?: string): Promise<Array<Record<string, unknown>>> {
  return (await qb.api(`torrents/info${hash ? `?hashes=${hash}` : ''}`)) as Array<Record<string, unknown>>;
}

/**
 * One throwaway qbittorrent-nox for the enclosing describe block: started before its tests, stopped after. The value
 * stands for it (each property and method reaches the running instance), so a block declares its daemon in one line.
 */
export function sharedQbitNox(opts?: QbitNoxOptions): QbitNox {
  let qb: QbitNox | undefined;
  beforeAll(async () => {
    qb = await startQbitNox(opts);
  });
  afterAll(async () => {
    await qb?.stop();
  });
  return new Proxy({} as QbitNox, {
    get(_, key) {
      if (!qb) throw new Error('qbittorrent-nox did not start (or its describe block has not begun)');
      const v: unknown = Reflect.get(qb, key, qb);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(qb) : v;
    },
  });
}
