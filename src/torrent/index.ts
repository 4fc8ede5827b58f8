/** src/torrent: build v1 .torrent files ourselves (streaming SHA-1 + bencode) and magnet links. */
export { choosePieceLength, isValidPieceLength, MIN_PIECE_LENGTH, MAX_PIECE_LENGTH } from './piece-length.js';
export { magnetLink, parseMagnet } from './magnet.js';
export type { ParsedMagnet } from './magnet.js';
export { buildMetainfo, infoHashOfTorrent } from './metainfo.js';
export { escapingPath, readTorrent, TorrentProblem } from './check.js';
export type { TorrentSummary } from './check.js';
export type { TorrentFileEntry, MetainfoArgs } from './metainfo.js';
export { listFiles, compareTorrentPaths } from './files.js';
export type { FileList } from './files.js';
export { hashPieces } from './hash.js';
export type { HashOptions } from './hash.js';
export { createTorrent } from './create.js';
export type { CreateTorrentArgs, CreatedTorrent } from './create.js';
