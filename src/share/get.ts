import { readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { SevenZip } from '../archive/find.js';
import { listArchive, testArchive } from '../archive/archive.js';
import { unpackArchive, type UnpackResult } from '../archive/unpack.js';
import type { Config } from '../config/schema.js';
import type { Paths } from '../config/paths.js';
import { mapPath } from '../config/pathmap.js';
import { isQshareError, QshareError } from '../errors.js';
import { sleep } from '../abort.js';
import { ensurePrivateDir } from '../fsx/atomic.js';
import type { Logger } from '../log.js';
import type { QbitSession, TorrentStatus } from '../qbit/session.js';
import { classifyDownload, type DownloadVerdict } from '../qbit/download.js';
import { escapingPath, parseMagnet, readTorrent, TorrentProblem } from '../torrent/index.js';
import type { Progress } from './deps.js';
import { formatBytes } from './inspect.js';

/** The category qshare files the recipient's downloads under in qBittorrent. */
export const GET_CATEGORY = 'qshare-get';

/** What the recipient's qBittorrent says about the download, for a live display. */
export interface DownloadSnapshot {
  name: string;
  verdict: DownloadVerdict;
  state: string;
  /** 0 … 1 */
  progress: number;
  size: number;
  dlSpeed: number;
  peers: number;
  /** seconds, undefined when unknown */
  eta: number | undefined;
}

export interface GetDeps {
  config: Config;
  paths: Paths;
  log: Logger;
  qbit: () => Promise<QbitSession>;
  sevenZip: () => Promise<SevenZip>;
  /** downloads a .torrent from an http(s) link */
  fetchTorrent: (url: string) => Promise<Buffer>;
  /**
   * The archive password: attempt 0 first, then again after each wrong one. It throws (a QshareError) when there is
   * no (more) password to try: no terminal, --password-stdin already used, too many tries.
   */
  askPassword: (attempt: number) => Promise<string>;
  /** checking and unpacking */
  progress: Progress;
  /** called on every poll while downloading */
  onDownload?: (s: DownloadSnapshot) => void;
  signal: AbortSignal;
  /** the folder a relative --to (and the default target) is resolved against */
  cwd: string;
  /** default 1000 */
  pollMs?: number;
  /**
   * `get --relay NAME`: the user's relay downloads it first, from wherever the swarm is, and this qBittorrent gets it
   * from the relay through an outgoing connection (for a recipient behind NAT, when the sender is behind one too)
   */
  relay?: { name: string; peer: string; connect: () => Promise<QbitSession> };
}

export interface GetOptions {
  /** a magnet link, a .torrent path, or an http(s) link to a .torrent */
  source: string;
  to?: string;
  force: boolean;
  /** keep it in qBittorrent afterwards (--no-seed: remove it, keeping the files) */
  seed: boolean;
}

export interface GetResult {
  infoHash: string;
  name: string;
  size: number;
  /** the folder qBittorrent downloaded into (qshare's view) */
  downloadDir: string;
  /** the downloaded file or folder */
  content: string;
  /** true when qBittorrent already had the torrent (a second run resumed it) */
  resumed: boolean;
  /** the .7z, when it is a qshare archive */
  archive: string | null;
  unpacked: UnpackResult | null;
  /** still in qBittorrent */
  seeding: boolean;
}

interface Source {
  infoHash: string;
  torrent?: Buffer;
  fileName?: string;
  magnet?: string;
  /** the magnet link's `x.pe` peers (a sender's relay): dialled by qshare, since not every client follows them */
  peers: string[];
  label: string;
}

async function resolveSource(deps: GetDeps, input: string): Promise<Source> {
  const text = input.trim();
  if (/^magnet:/i.test(text)) {
    const m = parseMagnet(text);
    if (!m)
      throw new QshareError(
        'USAGE',
        'that magnet link has no BitTorrent v1 info hash (xt=urn:btih:…): copy the whole link again',
      );
    return { infoHash: m.infoHash, magnet: text, peers: m.peers, label: m.name ?? m.infoHash };
  }
  let torrent: Buffer;
  let fileName: string;
  if (/^https?:\/\//i.test(text)) {
    torrent = await deps.fetchTorrent(text);
    fileName = decodeURIComponent(basename(new URL(text).pathname)) || 'download.torrent';
  } else {
    const p = resolve(deps.cwd, text);
    torrent = await readFile(p).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT')
        throw new QshareError('NOT_FOUND', `${p} does not exist`, {
          hint: 'give a magnet link, a .torrent file or an http(s) link to one',
        });
      if (e.code === 'EISDIR')
        throw new QshareError('USAGE', `${p} is a folder`, {
          hint: 'give a magnet link, a .torrent file or an http(s) link to one',
        });
      throw e;
    });
    fileName = basename(p);
  }
  let infoHash: string;
  try {
    infoHash = readTorrent(torrent).infoHash;
  } catch (e) {
    if (!(e instanceof TorrentProblem)) throw e;
    if (e.kind === 'unsafe') {
      throw new QshareError('ARCHIVE_UNSAFE', `refusing ${fileName}: ${e.message}`, {
        hint: 'nothing was given to qBittorrent. A torrent made by qshare never holds such names: this one was made to write files elsewhere',
      });
    }
    throw new QshareError('INPUT', `${fileName} is not a usable .torrent file: ${e.message}`, {
      hint: 'nothing was given to qBittorrent; ask the sender for the link again (a magnet link, a .torrent file or an http(s) link to one)',
    });
  }
  return { infoHash, torrent, fileName, peers: [], label: fileName };
}

/**
 * `qshare get`: add the torrent to the recipient's qBittorrent (or find it there: a second run resumes), wait until
 * it is complete, then, for a qshare archive (one .7z), check the password and unpack it safely. The download is
 * never deleted, whatever fails.
 */
export async function getShare(deps: GetDeps, opts: GetOptions): Promise<GetResult> {
  const { config, log } = deps;
  const src = await resolveSource(deps, opts.source);
  const hash = src.infoHash;
  const downloadsRoot = join(deps.paths.dataDir, 'downloads');
  const localSave = join(downloadsRoot, hash);
  const qbSave = mapPath(localSave, config.qbittorrent.pathMap);

  const session = await deps.qbit();
  const relay = deps.relay ? await throughRelay(deps, deps.relay, src) : undefined;
  const existing = await session.getTorrent(hash);
  let localDir = localSave;
  if (existing) {
    log.info(`qBittorrent already has this torrent (${existing.name}); continuing it`);
    localDir = localFolderOf(existing, qbSave, localSave, config.qbittorrent.pathMap);
  } else {
    await ensurePrivateDir(deps.paths.dataDir);
    await ensurePrivateDir(downloadsRoot);
    await ensurePrivateDir(localSave);
    await session.addForDownload(
      {
        ...(src.torrent ? { torrent: src.torrent, fileName: src.fileName } : {}),
        ...(src.magnet ? { magnet: src.magnet } : {}),
        savePath: qbSave,
        category: GET_CATEGORY,
        tags: config.qbittorrent.tags,
      },
      hash,
    );
    log.debug('torrent added to qBittorrent for download', { infoHash: hash, savePath: qbSave });
  }

  const done = await waitForDownload(deps, session, hash, src.label, src.peers, relay?.peer);
  const files = await filesOf(deps, session, hash);
  const escaping = files.map((f) => escapingPath(f.name)).find((p) => p !== undefined);
  if (escaping !== undefined) {
    throw new QshareError(
      'ARCHIVE_UNSAFE',
      `refusing to use ${done.name}: its file name ${JSON.stringify(escaping)} leads outside the download folder`,
      {
        hint: 'qshare touched none of its files; remove the torrent in qBittorrent (with its files) and ask the sender what it is',
      },
    );
  }
  const single = files.length === 1 ? files[0]! : undefined;
  const content = single ? join(localDir, single.name) : join(localDir, files[0]?.name.split('/')[0] ?? done.name);
  await stat(content).catch(() => {
    throw new QshareError(
      'QBIT_MISSING_FILES',
      `qBittorrent reports ${done.name} complete in ${done.savePath}, but qshare cannot see it at ${content}`,
      {
        hint: 'if qBittorrent runs in Docker or on another machine, set qbittorrent.pathMap in the config so qshare can find its downloads folder',
      },
    );
  });
  const base = {
    infoHash: hash,
    name: done.name,
    size: done.size ?? files.reduce((n, f) => n + f.size, 0),
    downloadDir: localDir,
    content,
    resumed: existing !== undefined,
  };

  if (!single || !/\.7z$/i.test(single.name)) {
    if (opts.to !== undefined)
      log.warn(
        `this torrent is not a qshare archive, so there is nothing to unpack: --to is ignored; the files are in ${content}`,
      );
    const seeding = await afterwards(deps, session, hash, opts.seed);
    return { ...base, archive: null, unpacked: null, seeding };
  }

  const sz = await deps.sevenZip();
  await checkQshareArchive(sz, content, deps.signal);
  const password = await checkPassword(deps, sz, content, base.size);
  const entries = await listArchive({ sz, archivePath: content, password, signal: deps.signal });
  const target = resolve(deps.cwd, opts.to ?? basename(single.name).replace(/\.7z$/i, ''));
  const bytes = entries.reduce((n, e) => n + (e.kind === 'file' ? e.size : 0), 0);
  deps.progress.start('Unpacking', bytes);
  let unpacked: UnpackResult;
  try {
    unpacked = await unpackArchive({
      sz,
      archivePath: content,
      password,
      target,
      force: opts.force,
      entries,
      signal: deps.signal,
      log,
      onProgress: (pct, file) => deps.progress.update((pct / 100) * bytes, file === undefined ? {} : { detail: file }),
    });
  } finally {
    deps.progress.end();
  }
  for (const r of unpacked.removed) log.warn(`left out ${r.path}: ${r.why}`);
  const seeding = await afterwards(deps, session, hash, opts.seed);
  return { ...base, archive: content, unpacked, seeding };
}

/** The folder qshare reads the download from, for a torrent qBittorrent already had. */
function localFolderOf(t: TorrentStatus, qbSave: string, localSave: string, pathMap: Record<string, string>): string {
  const strip = (p: string) => (p.length > 1 ? p.replace(/[\\/]+$/, '') : p);
  if (strip(t.savePath) === strip(qbSave)) return localSave;
  if (Object.keys(pathMap).length === 0) return strip(t.savePath);
  // the inverse of pathMap: the longest qBittorrent-side prefix that matches
  let best: [string, string] | undefined;
  for (const [local, remote] of Object.entries(pathMap)) {
    const r = strip(remote);
    if (
      (t.savePath === r || t.savePath.startsWith(r + '/') || t.savePath.startsWith(r + '\\')) &&
      (!best || r.length > best[1].length)
    )
      best = [strip(local), r];
  }
  if (!best) return strip(t.savePath);
  return join(
    best[0],
    ...strip(t.savePath)
      .slice(best[1].length)
      .split(/[\\/]+/)
      .filter(Boolean),
  );
}

/** How often the magnet link's `x.pe` peers are dialled again while the download has no peer at all. */
const REDIAL_MS = 3_000;

/**
 * Waits until the download is complete. `peers` (a magnet's x.pe) are dialled while the download has no peer;
 * `relay` (get --relay) is dialled until the end: it may be connected to others and still not to the relay.
 */
async function waitForDownload(
  deps: GetDeps,
  session: QbitSession,
  hash: string,
  label: string,
  peers: readonly string[],
  relay?: string,
): Promise<TorrentStatus> {
  const pollMs = deps.pollMs ?? 1000;
  let dialedAt = -Infinity;
  const appearBy = Date.now() + deps.config.qbittorrent.seedWaitSeconds * 1000;
  let seen = false;
  let startedAt = 0;
  for (;;) {
    if (deps.signal.aborted) throw interrupted();
    const t = await session.getTorrent(hash);
    if (!t) {
      if (seen)
        throw new QshareError(
          'QBIT_API',
          `the torrent ${label} was removed from qBittorrent while qshare waited for it`,
          { hint: 'run the same qshare get again to add it back; what was downloaded is checked and kept' },
        );
      if (Date.now() > appearBy) {
        throw new QshareError(
          'QBIT_TIMEOUT',
          `qBittorrent at ${session.url} accepted ${label} but did not list it within ${deps.config.qbittorrent.seedWaitSeconds} s`,
          { hint: "look in qBittorrent's log (View → Log) for why" },
        );
      }
    } else {
      seen = true;
      const verdict = classifyDownload(t.state, t.progress);
      deps.onDownload?.({
        name: t.name,
        verdict,
        state: t.state,
        progress: t.progress,
        size: t.size ?? 0,
        dlSpeed: t.dlSpeed ?? 0,
        peers: (t.numSeeds ?? 0) + (t.numLeechs ?? 0),
        eta: t.eta !== undefined && t.eta > 0 && t.eta < 8_640_000 ? t.eta : undefined,
      });
      // qBittorrent 4.5 does not connect to a magnet link's x.pe peers by itself (measured): dial them while alone
      const alone = (t.numSeeds ?? 0) + (t.numLeechs ?? 0) === 0;
      const dial = [...(alone ? peers : []), ...(relay !== undefined ? [relay] : [])];
      if (dial.length > 0 && verdict !== 'complete' && Date.now() - dialedAt >= REDIAL_MS) {
        dialedAt = Date.now();
        // an address already connected is left as it is: qBittorrent ignores it
        await session
          .addPeers(hash, dial)
          .catch((e: unknown) => deps.log.debug('addPeers failed', { error: String(e) }));
      }
      switch (verdict) {
        case 'complete':
          return t;
        case 'missing-files':
          throw new QshareError(
            'QBIT_MISSING_FILES',
            `qBittorrent lost the files of ${t.name} (state "missingFiles") in ${t.savePath}`,
            {
              hint: 'in qBittorrent, right-click the torrent → Force recheck, then run the same qshare get again',
            },
          );
        case 'error':
          throw new QshareError(
            'QBIT_API',
            `qBittorrent reports an error for ${t.name}: look in its log (View → Log, or Execution Log in the Web UI); often the disk is full or ${t.savePath} is not writable`,
          );
        case 'stopped':
          if (Date.now() - startedAt > 10_000) {
            deps.log.info(`the download is stopped in qBittorrent; starting it`);
            await session.startTorrent(hash);
            startedAt = Date.now();
          }
          break;
        default:
          break;
      }
    }
    await sleep(pollMs, deps.signal, interrupted);
  }
}

/** torrents/files right after completion; a magnet's file list can lag a moment behind its state. */
async function filesOf(
  deps: GetDeps,
  session: QbitSession,
  hash: string,
): Promise<Array<{ name: string; size: number }>> {
  for (let i = 0; i < 10; i++) {
    const files = await session.getFiles(hash);
    if (files.length > 0) return files;
    await sleep(deps.pollMs ?? 1000, deps.signal, interrupted);
  }
  throw new QshareError('QBIT_API', 'qBittorrent lists the torrent as complete but no files in it');
}

/**
 * Before any password is asked: the .7z must be a 7-Zip archive, and an encrypted one. A qshare archive hides even
 * its names (listing it without the password fails); one that lists with no password and encrypts nothing was not
 * made by qshare add, and a password would not protect anything in it, so it is not unpacked.
 */
async function checkQshareArchive(sz: SevenZip, archive: string, signal: AbortSignal): Promise<void> {
  const keptAt = `the download is kept at ${archive}`;
  let entries;
  try {
    entries = await listArchive({ sz, archivePath: archive, signal });
  } catch (e) {
    if (isQshareError(e) && e.code === 'WRONG_PASSWORD') return; // encrypted names: what qshare makes
    if (isQshareError(e) && e.code === 'ARCHIVE_CORRUPT') {
      throw new QshareError(
        'ARCHIVE_CORRUPT',
        `${basename(archive)} is not a 7-Zip archive (or a damaged one), though its download was checked piece by piece: it is not what qshare add makes`,
        {
          hint: `ask the sender what they sent; ${keptAt}`,
        },
      );
    }
    throw e;
  }
  if (!entries.some((e) => e.encrypted)) {
    throw new QshareError(
      'INPUT',
      `${basename(archive)} is a 7-Zip archive that is not encrypted, so it was not made by qshare add (which encrypts every archive, names included); qshare does not unpack it`,
      {
        hint: `anyone with the link can read it; ${keptAt}: open it with 7-Zip if you trust the sender`,
      },
    );
  }
}

async function checkPassword(deps: GetDeps, sz: SevenZip, archive: string, size: number): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const password = await deps.askPassword(attempt);
    deps.progress.start('Checking', size);
    try {
      await testArchive({
        sz,
        archivePath: archive,
        password,
        signal: deps.signal,
        onProgress: (pct) => deps.progress.update((pct / 100) * size),
      });
      return password;
    } catch (e) {
      if (!(e instanceof QshareError) || e.code !== 'WRONG_PASSWORD') {
        if (e instanceof QshareError && e.code === 'ARCHIVE_CORRUPT') {
          throw new QshareError(
            'ARCHIVE_CORRUPT',
            `${e.message}. The download itself was checked piece by piece, so the sender's archive is damaged`,
            {
              hint: `ask the sender to share it again; the download is kept at ${archive}`,
            },
          );
        }
        throw e;
      }
      deps.log.debug('wrong password', { attempt });
    } finally {
      deps.progress.end();
    }
  }
}

/** --no-seed: remove the torrent from qBittorrent, keeping its files. Returns whether it is still seeding. */
async function afterwards(deps: GetDeps, session: QbitSession, hash: string, seed: boolean): Promise<boolean> {
  if (seed) return true;
  await session.remove(hash, false);
  deps.log.debug('removed from qBittorrent (--no-seed); files kept', { infoHash: hash });
  if (deps.relay) {
    // the relay's copy was only for this: it goes too, with its files (only that torrent's)
    await (
      await deps.relay.connect()
    )
      .remove(hash, true)
      .catch((e: unknown) =>
        deps.log.warn(`relay "${deps.relay!.name}" still has it: ${(e as Error).message}; remove it in its Web UI`),
      );
  }
  return false;
}

/**
 * Gives the download to the user's relay (started, in qshare-get) and waits until the relay has all of it: it fetches
 * it from the swarm, where the sender can reach it. Then this qBittorrent dials the relay (an outgoing connection
 * passes the NAT here). Refused up front when the relay has less room than the download.
 */
async function throughRelay(
  deps: GetDeps,
  relay: NonNullable<GetDeps['relay']>,
  src: Source,
): Promise<{ peer: string }> {
  let session: QbitSession;
  try {
    session = await relay.connect();
  } catch (e) {
    throw onRelay(relay.name, e);
  }
  if (!(await session.getTorrent(src.infoHash))) {
    const size = src.torrent ? readTorrent(src.torrent).files.reduce((n, f) => n + f.length, 0) : undefined;
    const free = (await session.serverState()).free_space_on_disk;
    if (size !== undefined && typeof free === 'number' && free >= 0 && free < size) {
      throw new QshareError(
        'RELAY',
        `relay "${relay.name}" has ${formatBytes(free)} free and the download is ${formatBytes(size)}`,
        { hint: 'free space on the relay, or get it without --relay' },
      );
    }
    await session.addForDownload(
      {
        ...(src.torrent ? { torrent: src.torrent, fileName: src.fileName } : {}),
        ...(src.magnet ? { magnet: src.magnet } : {}),
        category: GET_CATEGORY,
        tags: deps.config.qbittorrent.tags,
      },
      src.infoHash,
    );
    // a magnet's x.pe peers, for a relay's qBittorrent that does not follow them by itself either
    if (src.peers.length > 0) await session.addPeers(src.infoHash, src.peers).catch(() => undefined);
  }
  // first the relay gets all of it; then this computer gets it from the relay. (Joined while both were empty,
  // libtorrent drops the connection and will not dial that address again for a minute: measured, 60 s lost.)
  deps.log.info(`relay "${relay.name}" downloads it first; this computer then gets it from the relay at ${relay.peer}`);
  try {
    await waitForDownload(deps, session, src.infoHash, src.label, src.peers);
  } catch (e) {
    throw onRelay(relay.name, e);
  }
  return { peer: relay.peer };
}

function interrupted(): QshareError {
  return new QshareError(
    'INTERRUPTED',
    'interrupted; qBittorrent keeps the download going: run the same qshare get again to continue',
  );
}

/** A failure on the relay, named as one (an interruption stays as it is). */
function onRelay(name: string, e: unknown): unknown {
  if (!(e instanceof QshareError) || e.code === 'INTERRUPTED') return e;
  return new QshareError(e.code, `relay "${name}": ${e.message}`, {
    ...(e.hint ? { hint: e.hint } : {}),
    cause: e,
    exitCode: e.exitCode,
  });
}
