/** Building the .torrent bytes (BEP 3 metainfo, v1): pure. */
import { createHash, randomBytes } from 'node:crypto';
import bencode from 'bencode';

export interface TorrentFileEntry {
  /** path components inside the torrent, e.g. ['sub dir', 'file.txt']; for a single-file torrent [basename] */
  path: string[];
  length: number;
  /** where to read the bytes from */
  absPath: string;
  /** the mtime the listing saw; hashing fails with "changed" if the file's differs while it is read */
  mtimeMs?: number;
}

export interface MetainfoArgs {
  name: string;
  pieceLength: number;
  /** concatenated 20-byte SHA-1 digests, one per piece */
  pieces: Buffer;
  /** null = single-file torrent (then `length` is required) */
  files: TorrentFileEntry[] | null;
  length?: number;
  trackers: string[];
  private: boolean;
  /** seconds since the epoch; omitted when not given */
  creationDate?: number;
  /** e.g. "qshare 0.1.0"; omitted when not given. Never a user or machine name. */
  createdBy?: string;
}

type Dict = Record<string, unknown>;

/** Throws a plain Error: these are programming errors, not user errors. */
function checkComponent(c: string, what: string): void {
  if (c === '' || c === '.' || c === '..' || c.includes('/') || c.includes('\0')) {
    throw new Error(`invalid ${what} ${JSON.stringify(c)}: must be a non-empty name without "/" and not "." or ".."`);
  }
}

function checkLength(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`invalid ${what}: ${n}`);
}

export function sha1Hex(data: Uint8Array): string {
  return createHash('sha1').update(data).digest('hex');
}

function toBuffer(u8: Uint8Array): Buffer {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

export type DraftArgs = Omit<MetainfoArgs, 'pieces'>;

/** A .torrent encoded before its piece hashes are known, with a slot for them: see draftMetainfo. */
export interface MetainfoDraft {
  /** how many bytes of digests finish() takes: 20 per piece */
  readonly piecesBytes: number;
  finish(pieces: Buffer): { torrent: Buffer; infoHash: string };
}

const INFO_KEY = Buffer.from('4:info');

/**
 * The .torrent, encoded (once, by the bencode library) before the pieces are hashed: `qshare add` does this while
 * the hashing threads run, so bencoding thousands of file entries (~20 ms per 2,000) is off the critical path.
 * The pieces go in as random placeholder bytes of the right length, found again by their (unique) position; finish()
 * copies the real digests over them — same length, so nothing else moves — and hashes the info dict, which is the
 * outer dict's last value (its keys sort before "info").
 *
 * The info dict holds exactly: name, piece length, pieces, and length (single) or files (multi); `private: 1` only
 * when private (writing `private: 0` would change the info hash). The outer dict holds announce (first tracker,
 * absent when there are none: DHT only), announce-list (one tier per tracker, only when there are several),
 * `created by` and `creation date` only when given, and never a comment.
 */
export function draftMetainfo(args: DraftArgs): MetainfoDraft {
  checkComponent(args.name, 'torrent name');
  if (!Number.isSafeInteger(args.pieceLength) || args.pieceLength <= 0)
    throw new Error(`invalid piece length: ${args.pieceLength}`);

  let total: number;
  const info: Dict = { name: args.name, 'piece length': args.pieceLength };
  if (args.files === null) {
    if (args.length === undefined) throw new Error('a single-file torrent needs `length`');
    checkLength(args.length, 'length');
    total = args.length;
    info.length = args.length;
  } else {
    if (args.files.length === 0) throw new Error('a multi-file torrent needs at least one file');
    total = 0;
    info.files = args.files.map((f) => {
      if (f.path.length === 0) throw new Error('a file entry needs a non-empty path');
      for (const c of f.path) checkComponent(c, 'path component');
      checkLength(f.length, `length of ${f.path.join('/')}`);
      total += f.length;
      return { length: f.length, path: [...f.path] };
    });
  }
  const piecesBytes = Math.ceil(total / args.pieceLength) * 20;
  if (args.private) info.private = 1;

  const outer: Dict = {};
  const [first] = args.trackers;
  if (first !== undefined) outer.announce = first;
  if (args.trackers.length > 1) outer['announce-list'] = args.trackers.map((t) => [t]);
  if (args.createdBy !== undefined) outer['created by'] = args.createdBy;
  if (args.creationDate !== undefined) {
    checkLength(args.creationDate, 'creation date');
    outer['creation date'] = args.creationDate;
  }

  // at least 20 random bytes: they cannot also occur in a name or a tracker
  const placeholder = randomBytes(Math.max(piecesBytes, 20)).subarray(0, piecesBytes);
  info.pieces = placeholder;
  const torrent = toBuffer(bencode.encode({ ...outer, info })); // finish() copies it
  const head = toBuffer(bencode.encode(outer)); // `d…e`: the outer dict without info
  const infoStart = head.length - 1 + INFO_KEY.length;
  const at = piecesBytes === 0 ? -1 : torrent.indexOf(placeholder);
  const layoutOk =
    torrent.subarray(0, head.length - 1).equals(head.subarray(0, head.length - 1)) &&
    torrent.subarray(head.length - 1, infoStart).equals(INFO_KEY) &&
    torrent[torrent.length - 1] === 0x65 &&
    (piecesBytes === 0 || (at > infoStart && torrent.indexOf(placeholder, at + 1) === -1));
  if (!layoutOk) throw new Error('internal: unexpected bencoded layout of the .torrent');

  return {
    piecesBytes,
    finish(pieces: Buffer) {
      if (pieces.length !== piecesBytes) {
        throw new Error(
          `pieces is ${pieces.length} bytes; expected ${piecesBytes / 20} × 20 for ${total} bytes in pieces of ${args.pieceLength}`,
        );
      }
      const out = Buffer.from(torrent);
      if (piecesBytes > 0) pieces.copy(out, at);
      return { torrent: out, infoHash: sha1Hex(out.subarray(infoStart, out.length - 1)) };
    },
  };
}

/** draftMetainfo and finish in one go, for pieces already hashed. */
export function buildMetainfo(args: MetainfoArgs): { torrent: Buffer; infoHash: string } {
  const { pieces, ...rest } = args;
  return draftMetainfo(rest).finish(pieces);
}

/**
 * The info hash of an existing .torrent (decode, re-encode the info dict, SHA-1). Exact for canonically encoded
 * files (sorted keys, as every mainstream tool writes). Throws a plain Error when the bytes are not a torrent.
 */
export function infoHashOfTorrent(torrent: Uint8Array): string {
  const top = bencode.decode(torrent);
  if (top === null || typeof top !== 'object' || Array.isArray(top) || ArrayBuffer.isView(top))
    throw new Error('not a torrent: top level is not a dictionary');
  const info = (top as Dict).info;
  if (info === null || typeof info !== 'object' || Array.isArray(info) || ArrayBuffer.isView(info))
    throw new Error('not a torrent: no info dictionary');
  return sha1Hex(bencode.encode(info));
}
