/**
 * Pure: reading a .torrent someone else made before anything is done with it. It must be a whole, well-formed v1
 * metainfo, and none of its names may lead out of the folder it is downloaded into (`..`, a `/` inside a name, an
 * empty name, NUL). qBittorrent's own library cleans such names too; qshare refuses the torrent instead, so what
 * lands on disk is exactly what the torrent says.
 */
import { sep } from 'node:path';
import bencode from 'bencode';
import { sha1Hex } from './metainfo.js';

export interface TorrentSummary {
  infoHash: string;
  name: string;
  /** every file's path inside the torrent, the torrent's name first (a single-file torrent: [[name]]) */
  files: Array<{ path: string[]; length: number }>;
}

/** Why a .torrent cannot be used: `unsafe` when a name would leave the download folder, `invalid` otherwise. */
export class TorrentProblem extends Error {
  constructor(
    readonly kind: 'invalid' | 'unsafe',
    message: string,
  ) {
    super(message);
    this.name = 'TorrentProblem';
  }
}

type Dict = Record<string, unknown>;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function isDict(v: unknown): v is Dict {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

function text(v: unknown, what: string): string {
  if (!(v instanceof Uint8Array)) throw new TorrentProblem('invalid', `${what} is missing or not a string`);
  try {
    return utf8.decode(v);
  } catch {
    throw new TorrentProblem('invalid', `${what} is not valid UTF-8`);
  }
}

function count(v: unknown, what: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
    throw new TorrentProblem('invalid', `${what} is missing or not a whole number ≥ ${min}`);
  return v;
}

/** A name that stays where it is put: not empty, `.` or `..`, without `/` or NUL. */
function component(v: unknown, what: string): string {
  const c = text(v, what);
  if (c === '' || c === '.' || c === '..' || c.includes('/') || c.includes('\0')) {
    throw new TorrentProblem(
      'unsafe',
      `${what} ${JSON.stringify(c)} would be written outside the download folder (or nowhere)`,
    );
  }
  return c;
}

/** The info hash, name and files of a .torrent, or a TorrentProblem saying what is wrong with it. */
export function readTorrent(bytes: Uint8Array): TorrentSummary {
  let top: unknown;
  try {
    top = bencode.decode(bytes);
  } catch {
    throw new TorrentProblem('invalid', 'it is not bencoded data: cut short, damaged, or not a torrent at all');
  }
  if (!isDict(top)) throw new TorrentProblem('invalid', 'its top level is not a dictionary');
  const info = top.info;
  if (!isDict(info)) throw new TorrentProblem('invalid', 'it has no info dictionary');
  const name = component(info.name, 'its name');
  const pieceLength = count(info['piece length'], 'its piece length', 1);
  const pieces = info.pieces;
  if (!(pieces instanceof Uint8Array) || pieces.length === 0 || pieces.length % 20 !== 0)
    throw new TorrentProblem('invalid', 'its piece hashes are missing or cut short');

  let files: TorrentSummary['files'];
  if (info.files === undefined) {
    files = [{ path: [name], length: count(info.length, 'its length', 0) }];
  } else {
    if (!Array.isArray(info.files) || info.files.length === 0)
      throw new TorrentProblem('invalid', 'its file list is empty or not a list');
    files = info.files.map((f: unknown, i) => {
      if (!isDict(f) || !Array.isArray(f.path) || f.path.length === 0)
        throw new TorrentProblem('invalid', `file ${i + 1} has no path`);
      const parts = f.path.map((c: unknown) => component(c, `a file name in it`));
      return { path: [name, ...parts], length: count(f.length, `the length of ${parts.join('/')}`, 0) };
    });
  }
  const total = files.reduce((n, f) => n + f.length, 0);
  if (Math.ceil(total / pieceLength) * 20 !== pieces.length)
    throw new TorrentProblem(
      'invalid',
      `it has ${pieces.length / 20} piece hashes where its ${total} bytes need ${Math.ceil(total / pieceLength)}`,
    );
  return { infoHash: sha1Hex(bencode.encode(info)), name, files };
}

/**
 * A path qBittorrent reports for a file of a torrent (`name/sub/file`) that would leave the download folder, or
 * undefined when it stays inside: the same rule for torrents known only by a magnet link, checked once their
 * metadata has arrived. On Windows a `\\` separates names too; elsewhere it is a character like any other.
 */
export function escapingPath(path: string): string | undefined {
  const windows = sep === '\\';
  const absolute = path.startsWith('/') || (windows && /^([\\/]|[A-Za-z]:)/.test(path));
  return absolute || path.split(windows ? /[\\/]/ : /\//).includes('..') ? path : undefined;
}
