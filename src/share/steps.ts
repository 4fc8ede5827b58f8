/**
 * The share pipeline as separate, resumable steps. `qshare add` runs them in one go (add.ts); the drop-folder
 * worker runs them one at a time and records each in its journal, so a run killed between two steps resumes at the
 * next one. Every step either completes or leaves nothing of its own behind.
 */
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createArchive } from '../archive/archive.js';
import { checkSequentialLayout } from '../archive/layout.js';
import { isQshareError, QshareError } from '../errors.js';
import { writeFileAtomic } from '../fsx/atomic.js';
import { changesBetween, treeStates, treeUnchanged, type TreeStates } from '../fsx/tree.js';
import type { ShareRecord } from '../state/types.js';
import { GrowingFileHasher, type FollowedFile, type FollowResult } from '../torrent/follow.js';
import { buildMetainfo, createTorrent, magnetLink, type FileList } from '../torrent/index.js';
import type { ShareDeps } from './deps.js';
import { archiveBytesNeeded, checkFreeSpace } from './inspect.js';

export interface ArchiveStep {
  /** absolute, existing file or folder */
  sourcePath: string;
  /** bytes of the source (for the free-space check and progress) */
  sourceBytes: number;
  name: string;
  password: string;
  level: number;
  signal?: AbortSignal;
  /**
   * hash the archive's torrent pieces while 7-Zip writes it, with this piece length (chosen before the archive's
   * size is known: from the source's size, see add.ts). Only with a modern 7-Zip (not p7zip 16.02).
   */
  hashWhileWriting?: { pieceLength: number };
  /** the source's state when it was checked (inspectSource's `states`); default: taken now, before 7-Zip starts */
  before?: TreeStates;
}

/** Pieces of an archive hashed while it was written; torrentStep uses them when the archive is still that file. */
export type ArchivePieces = FollowedFile;

/** The archive's path for a share name. */
export function archivePathFor(paths: ShareDeps['paths'], name: string): string {
  return join(paths.archivesDir, `${name}.7z`);
}

export function torrentPathFor(paths: ShareDeps['paths'], name: string): string {
  return join(paths.torrentsDir, `${name}.torrent`);
}

/**
 * Encrypts the source into `<archives>/<name>.7z`, after checking there is room for it (DISK_SPACE otherwise).
 * createArchive writes under a hidden partial name and publishes only a complete, verified archive.
 */
export async function archiveStep(
  deps: Pick<ShareDeps, 'paths' | 'log' | 'progress' | 'signal' | 'sevenZip'>,
  o: ArchiveStep,
): Promise<string> {
  const { hashWhileWriting: _, ...plain } = o;
  return (await archiveAndHashStep(deps, plain)).archive;
}

/**
 * archiveStep that can also hash the archive while 7-Zip writes it (`o.hashWhileWriting`). 7-Zip writes front to
 * back and rewrites only bytes 8–31 at the end, so every piece but the first is final once the file has grown past
 * it. `pieces` is null when that was not done or could not be trusted (p7zip, the finished file's layout is not the
 * sequential one, a piece hashed early changed, a read failed): torrentStep then hashes the archive itself.
 */
export async function archiveAndHashStep(
  deps: Pick<ShareDeps, 'paths' | 'log' | 'progress' | 'signal' | 'sevenZip'>,
  o: ArchiveStep,
): Promise<{ archive: string; pieces: ArchivePieces | null }> {
  const { paths, progress, log } = deps;
  await checkFreeSpace(paths.archivesDir, archiveBytesNeeded(o.sourceBytes), 'the encrypted archive');
  const archive = archivePathFor(paths, o.name);
  const sz = await deps.sevenZip();
  const follower =
    o.hashWhileWriting && !sz.legacy
      ? new GrowingFileHasher({ pieceLength: o.hashWhileWriting.pieceLength })
      : undefined;
  if (o.hashWhileWriting && !follower)
    log.debug('not hashing while 7-Zip writes: p7zip 16.02 is not known to write strictly front to back', {
      sevenZip: sz.path,
    });
  // what the source looks like now: compared after 7-Zip, so a file changed, added or removed while it was being
  // read (which would make an archive holding a mix of old and new files) fails the step instead
  const before = o.before ?? (await treeStates(o.sourcePath));
  let followed: FollowResult | undefined;
  let problem: string | undefined;
  progress.start('Encrypting', o.sourceBytes);
  try {
    await createArchive({
      ...(follower ? { onWriting: (partial: string) => follower.follow(partial) } : {}),
      // once 7-Zip is done, while it reads the new headers back: did the source change, and the last pieces
      onWritten: async (partial: string) => {
        const [changed] = await Promise.all([
          sourceChanged(o.sourcePath, before),
          (async () => {
            if (!follower) return;
            followed = await follower.finish(partial);
            problem = followed.ok ? await layoutProblem(partial, followed.length) : followed.reason;
          })(),
        ]);
        if (changed) throw changed;
      },
      sz,
      source: o.sourcePath,
      outPath: archive,
      password: o.password,
      level: o.level,
      signal: o.signal ?? deps.signal,
      log: deps.log,
      onProgress: (percent, file) =>
        progress.update((percent / 100) * o.sourceBytes, file === undefined ? {} : { detail: file }),
    });
  } catch (e) {
    await follower?.cancel();
    // 7-Zip also fails when a file it was about to read is gone: say that, not 7-Zip's words
    const changed =
      isQshareError(e) && (e.code === 'INTERRUPTED' || e.code === 'SOURCE_CHANGED')
        ? undefined
        : await sourceChanged(o.sourcePath, before, e);
    throw changed ?? e;
  } finally {
    progress.end();
  }
  if (!follower || !followed) return { archive, pieces: null };
  if (problem === undefined && followed.ok) {
    log.debug('archive hashed while 7-Zip wrote it', {
      bytes: followed.length,
      hashedWhileWriting: followed.hashedWhileWriting,
    });
    return { archive, pieces: followed };
  }
  problem ??= 'unknown';
  log.debug(`hashing the archive again after 7-Zip: ${problem}`);
  return { archive, pieces: null };
}

/** SOURCE_CHANGED when the source is not as it was before 7-Zip read it; undefined when it is. */
async function sourceChanged(source: string, before: TreeStates, cause?: unknown): Promise<QshareError | undefined> {
  if (await treeUnchanged(source, before).catch(() => false)) return undefined;
  const after = await treeStates(source).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return new Map() as TreeStates;
    throw e;
  });
  const { count, shown } = changesBetween(before, after);
  if (count === 0) return undefined;
  const more = count > shown.length ? ` (and ${count - shown.length} more)` : '';
  return new QshareError(
    'SOURCE_CHANGED',
    `${source} changed while 7-Zip was reading it: ${shown.join(', ')}${more}. The archive was deleted, so no share holds a mix of old and new files`,
    {
      hint: 'wait until whatever is writing there has finished (or copy it to a folder nothing else writes to), then run the same command again',
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

async function layoutProblem(archive: string, size: number): Promise<string | undefined> {
  const fh = await open(archive, 'r');
  try {
    const p = await checkSequentialLayout(fh, size);
    return p === undefined ? undefined : `the finished archive is not laid out as written front to back (${p})`;
  } finally {
    await fh.close();
  }
}

export interface TorrentStep {
  /** the archive, or for --no-encrypt the source itself */
  contentPath: string;
  /** what the torrent is called (`<name>.7z`, or the folder's own name for --no-encrypt) */
  torrentName: string;
  /** the share name: the .torrent is `<torrents>/<name>.torrent` */
  name: string;
  trackers: string[];
  private: boolean;
  /** bytes to hash, for progress (default: the size of contentPath, right for a single file) */
  contentBytes?: number;
  signal?: AbortSignal;
  /** default: chosen from the content's size */
  pieceLength?: number;
  /** pieces hashed while the archive was written: used (no re-hash) when contentPath is still that very file */
  pieces?: ArchivePieces | null;
  /** contentPath's torrent listing, when already made (inspectSource's `files`) */
  list?: FileList;
  /** relays' BitTorrent addresses, written into the magnet link as `x.pe` so recipients reach them at once */
  relayPeers?: readonly string[];
}

export interface TorrentMade {
  torrentFile: string;
  infoHash: string;
  magnet: string;
  size: number;
  skipped: string[];
}

/** Hashes the content and writes the .torrent atomically. Deterministic: the same content gives the same torrent. */
export async function torrentStep(
  deps: Pick<ShareDeps, 'paths' | 'progress' | 'signal' | 'createdBy'>,
  o: TorrentStep,
): Promise<TorrentMade> {
  const { progress } = deps;
  let t: { torrent: Buffer; infoHash: string; totalBytes: number; skipped: string[] };
  if (o.pieces && (await stillSameFile(o.contentPath, o.pieces))) {
    const p = o.pieces;
    const built = buildMetainfo({
      name: o.torrentName,
      pieceLength: p.pieceLength,
      pieces: p.pieces,
      files: null,
      length: p.length,
      trackers: o.trackers,
      private: o.private,
      createdBy: deps.createdBy,
    });
    t = { ...built, totalBytes: p.length, skipped: [] };
  } else {
    progress.start('Hashing', o.contentBytes ?? (await stat(o.contentPath)).size);
    try {
      t = await createTorrent({
        root: o.contentPath,
        name: o.torrentName,
        trackers: o.trackers,
        private: o.private,
        createdBy: deps.createdBy,
        signal: o.signal ?? deps.signal,
        onProgress: (done, total) => progress.update(done, { total }),
        ...(o.pieceLength !== undefined ? { pieceLength: o.pieceLength } : {}),
        ...(o.list ? { list: o.list } : {}),
      });
    } finally {
      progress.end();
    }
  }
  const torrentFile = torrentPathFor(deps.paths, o.name);
  await writeFileAtomic(torrentFile, t.torrent, { mode: 0o600 });
  return {
    torrentFile,
    infoHash: t.infoHash,
    magnet: magnetLink(t.infoHash, o.torrentName, o.trackers, o.relayPeers ?? []),
    size: t.totalBytes,
    skipped: t.skipped,
  };
}

async function stillSameFile(path: string, p: ArchivePieces): Promise<boolean> {
  const st = await stat(path).catch(() => null);
  return (
    st !== null &&
    st.isFile() &&
    st.dev === p.dev &&
    st.ino === p.ino &&
    st.size === p.length &&
    st.mtimeMs === p.mtimeMs
  );
}

/** Adds the share to qshare's list, unless a share with its id is already there (a resumed step). */
export async function recordStep(deps: Pick<ShareDeps, 'store'>, share: ShareRecord): Promise<ShareRecord> {
  return deps.store.update((s) => {
    const existing = s.shares.find((r) => r.id === share.id);
    if (existing) return existing;
    s.shares.push(share);
    return share;
  });
}
