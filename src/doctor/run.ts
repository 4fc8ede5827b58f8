import { mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect as tcpConnect } from 'node:net';
import { dirname, join } from 'node:path';
import { createArchive } from '../archive/archive.js';
import type { SevenZip } from '../archive/find.js';
import { splitPeer, type Config } from '../config/schema.js';
import type { Paths } from '../config/paths.js';
import { isQshareError } from '../errors.js';
import type { Logger } from '../log.js';
import type { QbitSession } from '../qbit/session.js';
import { formatApiVersion } from '../qbit/payload.js';
import type { SecretStore } from '../secrets/store.js';
import {
  connectionCheck,
  diskCheck,
  keychainCheck,
  pathProbeCheck,
  preferenceChecks,
  relayCheck,
  sevenZipCheck,
  type Check,
  type RelayMeasure,
} from './checks.js';
import { pathProbe } from './probe.js';

export interface DoctorDeps {
  config: Config;
  paths: Paths;
  log: Logger;
  /** connects with the usual password order (qbitConnector) */
  connect: () => Promise<QbitSession>;
  secrets: () => Promise<SecretStore>;
  sevenZip: () => Promise<SevenZip>;
  /** where the Web UI password comes from, for the report */
  credentialSource: () => Promise<string>;
  /** the paired relays, each connected once (doctor reports one line per relay) */
  relays?: readonly { name: string; url: string; peer: string; connect: () => Promise<QbitSession> }[];
  signal?: AbortSignal;
}

export interface DoctorReport {
  checks: Check[];
  session?: QbitSession;
  prefs?: Record<string, unknown>;
}

/** Measures everything `qshare doctor` reports. Never throws for a problem it finds: that becomes a check. */
export async function runDoctor(deps: DoctorDeps): Promise<DoctorReport> {
  const checks: Check[] = [];
  const report: DoctorReport = { checks };
  const url = deps.config.qbittorrent.url;

  let session: QbitSession | undefined;
  try {
    session = await deps.connect();
    report.session = session;
    checks.push({
      id: 'qbittorrent',
      title: 'qBittorrent',
      status: 'ok',
      detail: `${session.appVersion} (Web API ${formatApiVersion(session.apiVersion)}) answers at ${session.url}`,
    });
    const how =
      session.authMode === 'none'
        ? 'none needed: qBittorrent lets this computer in without a login (localhost bypass or whitelist)'
        : `${session.authMode === 'api-key' ? 'API key' : 'password'} accepted (from ${await deps.credentialSource()})`;
    checks.push({ id: 'credentials', title: 'credentials', status: 'ok', detail: how });
  } catch (e) {
    if (!isQshareError(e)) throw e;
    if (e.code === 'QBIT_UNREACHABLE') {
      checks.push({
        id: 'qbittorrent',
        title: 'qBittorrent',
        status: 'fail',
        detail: e.message,
        fix: 'start qBittorrent with its Web UI on, or set the address with `qshare login`',
      });
    } else if (e.code === 'QBIT_FORBIDDEN') {
      checks.push({
        id: 'qbittorrent',
        title: 'qBittorrent',
        status: 'fail',
        detail: e.message,
        fix: 'see above: Host header validation / CSRF settings of the Web UI',
      });
    } else {
      checks.push({ id: 'qbittorrent', title: 'qBittorrent', status: 'ok', detail: `a Web UI answers at ${url}` });
      checks.push({
        id: 'credentials',
        title: 'credentials',
        status: 'fail',
        detail: e.message,
        fix: e.hint ?? 'run `qshare login`',
      });
    }
  }

  if (session) {
    try {
      const prefs = await session.getPreferences();
      report.prefs = prefs;
      checks.push(...preferenceChecks(prefs, deps.config.trackers));
      const state = await session.serverState();
      checks.push(
        connectionCheck(typeof state.connection_status === 'string' ? state.connection_status : undefined, prefs),
      );
    } catch (e) {
      if (!isQshareError(e)) throw e;
      checks.push({
        id: 'preferences',
        title: 'qBittorrent settings',
        status: 'skip',
        detail: `could not read them: ${e.message}`,
      });
    }
    try {
      checks.push(
        pathProbeCheck(
          await pathProbe({
            session,
            config: deps.config,
            paths: deps.paths,
            log: deps.log,
            ...(deps.signal ? { signal: deps.signal } : {}),
          }),
        ),
      );
    } catch (e) {
      if (!isQshareError(e)) throw e;
      checks.push({
        id: 'paths',
        title: "qBittorrent sees qshare's files",
        status: 'fail',
        detail: `the probe torrent failed: ${e.message}`,
        ...(e.hint ? { fix: e.hint } : {}),
      });
    }
  } else {
    checks.push({
      id: 'paths',
      title: "qBittorrent sees qshare's files",
      status: 'skip',
      detail: 'needs a connection to qBittorrent',
    });
  }

  for (const r of deps.relays ?? []) checks.push(relayCheck(await measureRelay(r)));
  checks.push(diskCheck(deps.paths.dataDir, await freeBytes(deps.paths.dataDir)));
  checks.push(await sevenZip(deps));
  const store = await deps.secrets();
  checks.push(keychainCheck(store.kind, store.description, store.why));
  return report;
}

/** Free bytes for an unprivileged user on the disk holding `dir` (or its nearest existing parent). */
async function freeBytes(dir: string): Promise<number | undefined> {
  for (let d = dir; ; d = dirname(d)) {
    try {
      const s = await statfs(d);
      return Number(s.bavail) * Number(s.bsize);
    } catch {
      if (dirname(d) === d) return undefined;
    }
  }
}

async function sevenZip(deps: DoctorDeps): Promise<Check> {
  let sz: SevenZip;
  try {
    sz = await deps.sevenZip();
  } catch (e) {
    if (!isQshareError(e)) throw e;
    return sevenZipCheck({ missing: e.message, ...(e.hint ? { hint: e.hint } : {}) });
  }
  // proof, not a version table: a tiny archive with AES-256 and encrypted headers
  const tmp = await mkdtemp(join(tmpdir(), 'qshare-doctor-'));
  try {
    await writeFile(join(tmp, 'probe.txt'), 'qshare doctor\n');
    await createArchive({
      sz,
      source: join(tmp, 'probe.txt'),
      outPath: join(tmp, 'probe.7z'),
      password: 'doctor-probe-password',
      level: 0,
      log: deps.log,
    });
    return sevenZipCheck({ ...sz, aesWorks: true });
  } catch (e) {
    return sevenZipCheck({ ...sz, aesWorks: false, aesError: e instanceof Error ? e.message : String(e) });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** A relay's answer, state and free disk, and a TCP connection to its peer address from here. */
async function measureRelay(r: {
  name: string;
  url: string;
  peer: string;
  connect: () => Promise<QbitSession>;
}): Promise<RelayMeasure> {
  const base: RelayMeasure = { name: r.name, url: r.url, peer: r.peer };
  let session: QbitSession;
  try {
    session = await r.connect();
  } catch (e) {
    if (!isQshareError(e) || e.code === 'INTERRUPTED') throw e;
    return { ...base, error: e.message, ...(e.hint ? { hint: e.hint } : {}) };
  }
  const st = await session.serverState().catch(() => ({}) as Record<string, unknown>);
  return {
    ...base,
    version: session.appVersion,
    ...(typeof st.connection_status === 'string' ? { connection: st.connection_status } : {}),
    ...(typeof st.free_space_on_disk === 'number' ? { freeBytes: st.free_space_on_disk } : {}),
    peerOpens: await tcpOpens(r.peer, 5000),
  };
}

/** true when a TCP connection to `host:port` is accepted within `timeoutMs`, else why not. */
export function tcpOpens(peer: string, timeoutMs: number): Promise<true | string> {
  const p = splitPeer(peer);
  if (!p) return Promise.resolve('not HOST:PORT');
  return new Promise((resolve) => {
    const sock = tcpConnect({ host: p.host, port: p.port });
    const done = (v: true | string) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs / 1000} s`));
    sock.once('connect', () => done(true));
    sock.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}
