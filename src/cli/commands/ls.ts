import { EXIT, isQshareError, QshareError } from '../../errors.js';
import type { QbitSession } from '../../qbit/session.js';
import { formatBytes } from '../../share/inspect.js';
import { observeShares, piecesFromTorrentFile, type ShareStatus } from '../../share/observe.js';
import type { CommandContext } from '../context.js';
import { statusJson } from '../status-json.js';
import type { RelayReport } from '../../share/relay.js';
import { lookAtRelays, relayLine, relaysJson } from '../relays.js';

/**
 * `qshare ls`: every share with what qBittorrent says about it now. Looking is also observing: peers seen with the
 * whole file are counted, and a share whose --recipients target is reached is stopped.
 */
export async function runLs(ctx: CommandContext): Promise<number> {
  const store = ctx.deps.state;
  const shares = await store.list();
  let session: QbitSession | undefined;
  let qbitError: QshareError | undefined;
  if (shares.length > 0) {
    try {
      // asked only when there is something to ask qBittorrent about: its client library takes ~50 ms to load
      session = await ctx.deps.qbit();
    } catch (e) {
      if (!isQshareError(e) || e.code === 'INTERRUPTED') throw e;
      qbitError = e;
      ctx.log.warn(`${e.message}; the states below are from qshare's records only`);
    }
  }
  const statuses = await observeShares(
    { store, log: ctx.log, now: () => new Date(), pieces: piecesFromTorrentFile, relay: ctx.deps.relay },
    session,
    shares,
  );
  const relays = await lookAtRelays(ctx, shares);
  if (ctx.opts.json) {
    ctx.printJson({
      shares: statuses.map((s) => ({
        ...statusJson(s),
        ...(relays.has(s.share.id) ? { relays: relaysJson(relays.get(s.share.id)!) } : {}),
      })),
      ...(qbitError ? { qbittorrent: { error: { code: qbitError.code, message: qbitError.message } } } : {}),
    });
  } else if (statuses.length === 0) {
    ctx.print('No shares yet. Share a folder with: qshare add <folder>');
  } else {
    ctx.print(lsTable(statuses, relays));
  }
  return EXIT.ok;
}

/** The HAVE IT cell: n or n/N and which signal gave the count, or that nobody was watching. Pure. */
export function haveIt(s: ShareStatus): string {
  if (s.unknown) return 'unknown (nobody was watching)';
  const n = s.share.recipients ? `${s.completedPeers}/${s.share.recipients}` : String(s.completedPeers);
  if (s.completedPeers === 0) return n;
  const peers = new Set([...(s.share.completedPeers ?? []), ...(s.share.uploadedPeers ?? [])]).size;
  const byPeers = peers === s.completedPeers;
  const from = [
    byPeers && s.signals.peers > 0 ? 'seen' : '',
    byPeers && s.signals.uploadedTo > 0 ? 'sent' : '',
    s.signals.tracker === s.completedPeers ? 'tracker' : '',
  ].filter(Boolean);
  return `${n} (${from.join(', ')})`;
}

/** The human table. Pure. */
export function lsTable(rows: ShareStatus[], relays: ReadonlyMap<string, readonly RelayReport[]> = new Map()): string {
  const head = ['NAME', 'SIZE', 'STATE', 'PEERS', 'UPLOADED', 'RATIO', 'HAVE IT'];
  const body = rows.map((s) => {
    const t = s.torrent;
    const have = haveIt(s);
    return [
      s.share.name,
      formatBytes(s.share.size),
      s.state,
      String(s.peersConnected),
      t ? formatBytes(t.uploaded) : '-',
      t ? t.ratio.toFixed(2) : '-',
      have,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const withRelays = body.flatMap((r, i) => [
    line(r),
    ...(relays.get(rows[i]!.share.id) ?? []).map(
      (x) => `  └ ${relayLine(x)}${x.error ? ` (${x.error.replace(/^relay "[^"]+": /, '')})` : ''}`,
    ),
  ]);
  return [
    line(head),
    ...withRelays,
    '',
    'HAVE IT: recipients with the whole file, from (seen) peers seen complete, (sent) peers sent the whole file, (tracker)',
    "the trackers' count of completed downloads: the largest, since peers are not people (see README).",
  ].join('\n');
}
