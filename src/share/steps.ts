/**
 * The share pipeline as separate, resumable steps. `qshare add` runs them in one go (add.ts); the drop-folder
 * worker runs them one at a time and records each in its journal, so a run killed between two steps resumes at the
 * next one. Every step either completes or leaves nothing of its own behind.
 */
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createArchive } from '../archive/archive.js';
import { writeFileAtomic } from '../fsx/atomic.js';
import type { ShareRecord } from '../state/types.js';
import { createTorrent, magnetLink } from '../torrent/index.js';
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
}

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
export async function archiveStep(deps: Pick<ShareDeps, 'paths' | 'log' | 'progress' | 'signal' | 'sevenZip'>, o: ArchiveStep): Promise<string> {
  const { paths, progress } = deps;
  await checkFreeSpace(paths.archivesDir, archiveBytesNeeded(o.sourceBytes), 'the encrypted archive');
  const archive = archivePathFor(paths, o.name);
  const sz = await deps.sevenZip();
  progress.start('Encrypting', o.sourceBytes);
  try {
    await createArchive({
      sz,
      source: o.sourcePath,
      outPath: archive,
      password: o.password,
      level: o.level,
      signal: o.signal ?? deps.signal,
      log: deps.log,
      onProgress: (percent, file) => progress.update((percent / 100) * o.sourceBytes, file === undefined ? {} : { detail: file }),
    });
  } finally {
    progress.end();
  }
  return archive;
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
}

export interface TorrentMade {
  torrentFile: string;
  infoHash: string;
  magnet: string;
  size: number;
  skipped: string[];
}

/** Hashes the content and writes the .torrent atomically. Deterministic: the same content gives the same torrent. */
export async function torrentStep(deps: Pick<ShareDeps, 'paths' | 'progress' | 'signal' | 'createdBy'>, o: TorrentStep): Promise<TorrentMade> {
  const { progress } = deps;
  progress.start('Hashing', o.contentBytes ?? (await stat(o.contentPath)).size);
  let t;
  try {
    t = await createTorrent({
      root: o.contentPath,
      name: o.torrentName,
      trackers: o.trackers,
      private: o.private,
      createdBy: deps.createdBy,
      signal: o.signal ?? deps.signal,
      onProgress: (done, total) => progress.update(done, { total }),
    });
  } finally {
    progress.end();
  }
  const torrentFile = torrentPathFor(deps.paths, o.name);
  await writeFileAtomic(torrentFile, t.torrent, { mode: 0o600 });
  return { torrentFile, infoHash: t.infoHash, magnet: magnetLink(t.infoHash, o.torrentName, o.trackers), size: t.totalBytes, skipped: t.skipped };
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

export function torrentFileName(torrentFile: string): string {
  return basename(torrentFile);
}
