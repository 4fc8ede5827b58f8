/**
 * Relays: the user's own always-on qBittorrent (a seedbox, a VPS, a NAS elsewhere) that takes a share from home and
 * seeds it to everyone. Nothing new runs there: the relay is driven through its Web API like the local one.
 *
 * How a share gets there past the NAT at home: the relay is given the .torrent (it starts with nothing), then the
 * LOCAL qBittorrent is told to connect out to the relay's BitTorrent address (torrents/addPeers). An outgoing
 * connection passes any NAT, and the relay downloads the archive from home over BitTorrent. A one-off addPeers can
 * be lost (the relay was still checking the new torrent, a packet dropped), so it is repeated until the relay
 * reports a seed connected.
 *
 * Each relay succeeds or fails on its own: a relay that is down, refuses the login or has no room is reported with
 * what to do, and never touches the share at home.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { sleep } from '../abort.js';
import { splitPeer, type Config, type RelayConfig } from '../config/schema.js';
import { isQshareError, QshareError } from '../errors.js';
import type { Logger } from '../log.js';
import type { QbitSession, TorrentStatus } from '../qbit/session.js';
import { classifyDownload } from '../qbit/download.js';
import { stateKind } from '../qbit/payload.js';
import type { StateStore } from '../state/store.js';
import type { RelayRecord, RelayState, ShareRecord } from '../state/types.js';
import { formatBytes } from './inspect.js';

/** A relay as the pipeline uses it: its name, BitTorrent address, save path and a (memoised) connection. */
export interface RelayLink {
  name: string;
  peer: string;
  /** the folder on the relay, as the relay sees it; null: the relay's own default */
  savePath: string | null;
  /** one login per run (the CLI memoises it) */
  connect(): Promise<QbitSession>;
}

/** One relay's outcome, as `add --json` and `ls --json` give it. */
export interface RelayReport {
  name: string;
  peer: string;
  state: RelayState;
  progress: number;
  /** the relay accepted the torrent */
  added?: boolean;
  /** bytes per second the relay downloads at, when it said */
  speed?: number;
  error?: string;
  /** what to do about `error` */
  hint?: string;
}

export interface RelayDeps {
  config: Pick<Config, 'qbittorrent'>;
  log: Logger;
  store: StateStore;
  signal: AbortSignal;
  now: () => Date;
  /** the relays' progress as it changes (a TTY line per relay) */
  onProgress?: (reports: readonly RelayReport[]) => void;
}

export interface RelayTiming {
  /** how long home keeps trying to connect to a relay (addPeers, again and again) before calling it an error */
  connectTimeoutMs: number;
  /** the pace of looks at the relays */
  pollMs: number;
  /** how often addPeers is repeated while the relay reports no seed connected */
  redialMs: number;
}

export const RELAY_TIMING: RelayTiming = { connectTimeoutMs: 90_000, pollMs: 500, redialMs: 3_000 };

/** The relay names a command uses: the ones given (`--relay`), else the config's defaultRelays; each must be paired. */
export function chooseRelays(
  config: Pick<Config, 'relays' | 'defaultRelays'>,
  given: readonly string[] | undefined,
): string[] {
  const names = [...new Set(given && given.length > 0 ? given : config.defaultRelays)];
  const unknown = names.filter((n) => !Object.hasOwn(config.relays, n));
  if (unknown.length > 0) {
    const known = Object.keys(config.relays);
    throw new QshareError(
      'USAGE',
      `no relay named ${unknown.map((n) => `"${n}"`).join(', ')}${known.length ? ` (paired: ${known.join(', ')})` : ' (none is paired yet)'}`,
      {
        hint: 'pair one with `qshare login --relay NAME --url URL`',
      },
    );
  }
  return names;
}

/** A relay's state from its torrent (undefined: it does not list it). Pure. */
export function relayStateOf(t: TorrentStatus | undefined): { state: RelayState; progress: number; problem?: string } {
  if (!t) return { state: 'error', progress: 0, problem: 'the relay does not list the torrent (removed there?)' };
  switch (classifyDownload(t.state, t.progress)) {
    case 'complete':
      return { state: 'holding', progress: 1 };
    case 'error':
      return {
        state: 'error',
        progress: t.progress,
        problem:
          'the relay reports an error for the torrent (often its disk is full or the folder is not writable): look in its log',
      };
    case 'missing-files':
      return {
        state: 'error',
        progress: t.progress,
        problem: 'the relay cannot find the torrent\'s files ("Missing Files" there)',
      };
    default:
      return { state: 'uploading', progress: t.progress };
  }
}

/** Whether the relay is connected to a peer that has the whole file (home, or any other seed). Pure. */
export function hasSeedConnected(t: TorrentStatus | undefined): boolean {
  return t !== undefined && (t.progress >= 1 || (t.numSeeds ?? 0) > 0);
}

/** A relay's report as kept in the share's record (no speed, no hint). Pure. */
export function toRecord(r: RelayReport): RelayRecord {
  return {
    name: r.name,
    peer: r.peer,
    state: r.state,
    progress: r.progress,
    ...(r.added ? { added: true } : {}),
    ...(r.error !== undefined ? { error: r.error } : {}),
  };
}

function interrupted(share: ShareRecord): () => QshareError {
  return () =>
    new QshareError(
      'INTERRUPTED',
      `interrupted while handing "${share.name}" to its relays: both sides keep running (home seeds, the relays go on downloading); \`qshare ls\` shows their progress and \`qshare seed ${share.name} --handoff\` finishes the hand-off`,
    );
}

/** An expected failure as a report: the message, and the hint that says what to do. */
function failed(link: RelayLink, e: unknown, progress = 0): RelayReport {
  if (!isQshareError(e) || e.code === 'INTERRUPTED') throw e;
  return {
    name: link.name,
    peer: link.peer,
    state: 'error',
    progress,
    error: `relay "${link.name}": ${e.message}`,
    ...(e.hint ? { hint: e.hint } : {}),
  };
}

/**
 * Gives the share to one relay and gets home connected to it: add the .torrent there (category and tags as at home,
 * the relay's save path, started), then addPeers at home until the relay reports a seed connected (or has the whole
 * file). With `handoff`, then waits for the relay to have the whole file.
 */
async function toOneRelay(
  deps: RelayDeps,
  local: QbitSession,
  share: ShareRecord,
  torrent: Buffer,
  link: RelayLink,
  opts: { handoff: boolean; timing: RelayTiming; report: (r: RelayReport) => void },
): Promise<RelayReport> {
  const { log, signal } = deps;
  const { timing } = opts;
  const hash = share.infoHash;
  const base = { name: link.name, peer: link.peer, added: true };
  let relay: QbitSession;
  let t: TorrentStatus | undefined;
  try {
    relay = await link.connect();
    t = await relay.getTorrent(hash);
    if (!t) {
      const free = (await relay.serverState()).free_space_on_disk;
      if (typeof free === 'number' && free >= 0 && free < share.size) {
        throw new QshareError('RELAY', `it has ${formatBytes(free)} free and the share is ${formatBytes(share.size)}`, {
          hint: `free space on the relay, or point relays.${link.name}.savePath at a bigger disk (qshare login --relay ${link.name} --save-path DIR)`,
        });
      }
      await relay.addForDownload(
        {
          torrent,
          fileName: basename(share.torrentFile),
          ...(link.savePath !== null ? { savePath: link.savePath } : {}),
          category: deps.config.qbittorrent.category,
          tags: deps.config.qbittorrent.tags,
        },
        hash,
      );
      log.debug('relay: torrent added', { relay: link.name });
    }
  } catch (e) {
    return failed(link, e);
  }

  let report: RelayReport = { ...base, state: 'uploading', progress: t?.progress ?? 0 };
  opts.report(report);
  const began = Date.now();
  let dialedAt = -Infinity;
  let connected = false;
  for (;;) {
    try {
      t = await relay.getTorrent(hash);
      // not listed yet: qBittorrent adds torrents asynchronously
      if (t || Date.now() - began > timing.connectTimeoutMs) {
        const s = relayStateOf(t);
        report = {
          ...base,
          state: s.state,
          progress: s.progress,
          ...(t?.dlSpeed !== undefined ? { speed: t.dlSpeed } : {}),
          ...(s.problem ? { error: `relay "${link.name}": ${s.problem}` } : {}),
        };
        opts.report(report);
        if (s.state === 'error' || s.state === 'holding') return report;
        if (hasSeedConnected(t)) {
          if (!connected)
            log.debug('relay: connected to a seed', { relay: link.name, seconds: (Date.now() - began) / 1000 });
          connected = true;
          if (!opts.handoff) return report;
        }
      }
      if (!hasSeedConnected(t) && Date.now() - dialedAt >= timing.redialMs) {
        if (!connected && Date.now() - began > timing.connectTimeoutMs) {
          return {
            ...report,
            state: 'error',
            error: `relay "${link.name}": home could not connect to it at ${link.peer} within ${Math.round(timing.connectTimeoutMs / 1000)} s`,
            hint: `check that ${link.peer} is the relay's BitTorrent address and that its port is open to the internet (qshare doctor checks it); change it with qshare login --relay ${link.name} --peer HOST:PORT`,
          };
        }
        // the relay lost its seed (or never had one): home dials it again; outgoing, so the NAT lets it through
        await local.addPeers(hash, [link.peer]);
        dialedAt = Date.now();
      }
    } catch (e) {
      return failed(link, e, report.progress);
    }
    await sleep(timing.pollMs, signal, interrupted(share));
  }
}

/**
 * Hands a share that seeds at home to each relay, all at once. Returns one report per relay, in the order given;
 * records them on the share. With `handoff`, once every relay has the whole file home stops seeding (the torrent
 * stays in the local qBittorrent, stopped; `qshare seed NAME` starts it again). A relay that fails never stops home.
 */
export async function handToRelays(
  deps: RelayDeps,
  local: QbitSession,
  share: ShareRecord,
  links: readonly RelayLink[],
  opts: { handoff: boolean; timing?: RelayTiming },
): Promise<{ reports: RelayReport[]; handedOff: boolean }> {
  const timing = opts.timing ?? RELAY_TIMING;
  const torrent = await readFile(share.torrentFile);
  const live: RelayReport[] = links.map((l) => ({ name: l.name, peer: l.peer, state: 'uploading', progress: 0 }));
  const report = (i: number) => (r: RelayReport) => {
    live[i] = r;
    deps.onProgress?.(live);
  };
  let reports: RelayReport[];
  try {
    reports = await Promise.all(
      links.map((l, i) =>
        toOneRelay(deps, local, share, torrent, l, { handoff: opts.handoff, timing, report: report(i) }),
      ),
    );
  } catch (e) {
    // Ctrl-C: what each relay reached is kept, so ls shows it and `seed --handoff` goes on from there
    await recordRelays(deps, share, live, undefined).catch(() => undefined);
    throw e;
  }
  const handedOff = opts.handoff && reports.length > 0 && reports.every((r) => r.state === 'holding');
  if (handedOff) {
    // recorded first: a state that cannot be written leaves home seeding, which is safe
    await recordRelays(deps, share, reports, deps.now().toISOString());
    await local.stopTorrent(share.infoHash);
    await untilStoppedHere(local, share, timing, deps.signal);
    deps.log.info(
      `every relay has "${share.name}": home stopped seeding it (\`qshare seed ${share.name}\` starts it again)`,
    );
  } else {
    await recordRelays(deps, share, reports, undefined);
  }
  return { reports, handedOff };
}

/** Waits (a few seconds at most) until home's qBittorrent shows the torrent stopped: it changes states at its next refresh. */
async function untilStoppedHere(
  local: QbitSession,
  share: ShareRecord,
  timing: RelayTiming,
  signal: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const t = await local.getTorrent(share.infoHash);
    if (!t || /^stopped-/.test(stateKind(t.state))) return;
    await sleep(Math.max(timing.pollMs, 50), signal, interrupted(share));
  }
}

/** Writes the relays' reports (and the hand-off time) into the share's record, merged by relay name. */
export async function recordRelays(
  deps: Pick<RelayDeps, 'store' | 'now'>,
  share: ShareRecord,
  reports: readonly RelayReport[],
  handedOffAt: string | undefined,
): Promise<void> {
  const merged = mergeRelays(share.relays, reports.map(toRecord));
  share.relays = merged;
  if (handedOffAt) share.handedOffAt = handedOffAt;
  await deps.store.update((s) => {
    const rec = s.shares.find((r) => r.id === share.id);
    if (!rec) return;
    rec.relays = mergeRelays(rec.relays, reports.map(toRecord));
    if (handedOffAt) rec.handedOffAt = handedOffAt;
    rec.updatedAt = deps.now().toISOString();
  });
}

/** `before` with each relay in `after` replaced (or added), order kept. Pure. */
export function mergeRelays(before: readonly RelayRecord[] | undefined, after: readonly RelayRecord[]): RelayRecord[] {
  const out = [...(before ?? [])];
  for (const r of after) {
    const i = out.findIndex((x) => x.name === r.name);
    if (i >= 0) out[i] = r;
    else out.push(r);
  }
  return out;
}

/** The relay's configured peer, checked for use: never a loopback address, which peers elsewhere cannot reach. Pure. */
export function relayPeerProblem(peer: string): string | undefined {
  const host = splitPeer(peer)?.host;
  if (host !== undefined && isLoopbackHost(host))
    return `${peer} is a loopback address: peers on other machines cannot reach it`;
  return undefined;
}

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\./.test(h) || h === '0.0.0.0' || h === '::';
}

/**
 * The relay's BitTorrent address, when none is given: the Web UI's host and the relay's listening port, or the
 * problem in words (qBittorrent bound to loopback only, a Web UI reached through a tunnel on this machine). Pure.
 */
export function defaultPeer(webUiUrl: string, prefs: Record<string, unknown>): { peer: string } | { problem: string } {
  const iface = typeof prefs.current_interface_address === 'string' ? prefs.current_interface_address : '';
  if (iface !== '' && isLoopbackHost(iface)) {
    return {
      problem: `the relay's qBittorrent listens for peers on ${iface} only (Tools → Options → Advanced → Optional IP address to bind to), so nobody else can connect to it: bind it to all addresses, or to its public one`,
    };
  }
  const port = prefs.listen_port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
    return { problem: 'the relay did not say which port it listens on for peers (listen_port): give --peer HOST:PORT' };
  const host = new URL(webUiUrl).hostname;
  if (isLoopbackHost(host.replace(/^\[|\]$/g, ''))) {
    return {
      problem: `its Web UI is reached at ${host}, so its address for peers elsewhere is not known: give --peer HOST:PORT (its public address and port ${port})`,
    };
  }
  return { peer: `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}` };
}

/**
 * The relays `qshare seed` hands a share to: with `handoff`, every relay it was not stopped on; otherwise the ones
 * that do not have it yet (an add interrupted, a relay that was down) and are still paired. Pure.
 */
export function relaysToFinish(
  share: Pick<ShareRecord, 'relays'>,
  handoff: boolean,
  paired: Readonly<Record<string, unknown>>,
): string[] {
  const relays = share.relays ?? [];
  if (handoff) return relays.filter((r) => r.state !== 'stopped').map((r) => r.name);
  return relays
    .filter((r) => (r.state === 'uploading' || r.state === 'error') && Object.hasOwn(paired, r.name))
    .map((r) => r.name);
}

/** A relay's config entry as a RelayLink's static part. Pure. */
export function relayTarget(name: string, r: RelayConfig): Omit<RelayLink, 'connect'> {
  return { name, peer: r.peer, savePath: r.savePath };
}
