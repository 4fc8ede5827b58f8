export { createArchive, extractArchive, listArchive, testArchive } from './archive.js';
export type { ArchiveEntry, CreateArchiveOptions, CreatedArchive, ReadArchiveOptions } from './archive.js';
export { findSevenZip } from './find.js';
export { unpackArchive } from './unpack.js';
export type { UnpackOptions, UnpackResult, RemovedEntry } from './unpack.js';
export type { SevenZip } from './find.js';
