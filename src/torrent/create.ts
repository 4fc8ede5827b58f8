/** createTorrent: list → hash → build. Writes nothing to disk (the caller writes the buffer atomically). */
import path from 'node:path';
import { QshareError } from '../errors.js';
import { listFiles, type FileList } from './files.js';
import { hashPieces } from './hash.js';
import { draftMetainfo, type MetainfoDraft } from './metainfo.js';
import { choosePieceLength, isValidPieceLength } from './piece-length.js';

export interface CreateTorrentArgs {
  /** a file or a folder */
  root: string;
  /** the torrent's name; default basename(root) */
  name?: string;
  /** announce URLs, one tier each; empty = DHT/PEX only */
  trackers: string[];
  private: boolean;
  /** default choosePieceLength(totalBytes) */
  pieceLength?: number;
  /** e.g. "qshare 0.1.0" */
  createdBy?: string;
  /** seconds since the epoch; default: none written */
  creationDate?: number;
  signal?: AbortSignal;
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  /** hashing threads (see HashOptions.threads); default: one per core for big inputs */
  threads?: number;
  /** root's listing when the caller already has it (listFiles' result for root); default: listed here */
  list?: FileList;
}

export interface CreatedTorrent {
  torrent: Buffer;
  /** v1 info hash, 40 lowercase hex digits */
  infoHash: string;
  name: string;
  pieceLength: number;
  totalBytes: number;
  fileCount: number;
  /** see FileList.skipped */
  skipped: string[];
}

export async function createTorrent(args: CreateTorrentArgs): Promise<CreatedTorrent> {
  const abs = path.resolve(args.root);
  const name = args.name ?? path.basename(abs);
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new QshareError('USAGE', `${JSON.stringify(name)} cannot be a torrent name; use a plain name without "/".`);
  }
  if (args.pieceLength !== undefined && !isValidPieceLength(args.pieceLength)) {
    throw new QshareError(
      'USAGE',
      `Piece length ${args.pieceLength} is not allowed; use a power of two between 16 KiB and 16 MiB, or leave it out to choose automatically.`,
    );
  }
  if (args.signal?.aborted)
    throw new QshareError(
      'INTERRUPTED',
      'Creating the torrent was interrupted; nothing was written. Run the command again to start over.',
    );

  const list = args.list ?? (await listFiles(abs));
  if (list.totalBytes === 0) {
    throw new QshareError(
      'INPUT',
      list.kind === 'file'
        ? `${abs} is empty; there is nothing to share.`
        : `${abs} contains no data (no files, or only empty ones); there is nothing to share.`,
    );
  }
  const pieceLength = args.pieceLength ?? choosePieceLength(list.totalBytes);
  const stop = new AbortController();
  const signal = args.signal ? AbortSignal.any([args.signal, stop.signal]) : stop.signal;
  // the hashing threads start inside this call; the .torrent is bencoded while they run
  const hashing = hashPieces(list.files, pieceLength, { signal, onProgress: args.onProgress, threads: args.threads });
  let draft: MetainfoDraft;
  try {
    draft = draftMetainfo({
      name,
      pieceLength,
      files: list.kind === 'dir' ? list.files : null,
      length: list.totalBytes,
      trackers: args.trackers,
      private: args.private,
      createdBy: args.createdBy,
      creationDate: args.creationDate,
    });
  } catch (e) {
    stop.abort();
    await hashing.catch(() => {});
    throw e;
  }
  const { torrent, infoHash } = draft.finish(await hashing);
  return {
    torrent,
    infoHash,
    name,
    pieceLength,
    totalBytes: list.totalBytes,
    fileCount: list.files.length,
    skipped: list.skipped,
  };
}
