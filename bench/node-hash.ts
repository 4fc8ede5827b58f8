/**
 * A reference for `qshare add --no-encrypt`: a Node process that does nothing but list the folder and hash it with
 * qshare's own hasher (worker threads, as `add` uses them) — no CLI, config, checks, .torrent or record. Its time
 * over mktorrent's is what any Node program pays here (runtime start, thread start), before qshare does its part.
 *   node dist-bench/bench/node-hash.js <folder> <piece length>
 */
import { listFiles } from '../src/torrent/files.js';
import { hashPieces } from '../src/torrent/hash.js';

const [folder, pieceLength] = process.argv.slice(2);
if (!folder || !pieceLength) throw new Error('usage: node-hash.js <folder> <piece length>');
const list = await listFiles(folder);
const pieces = await hashPieces(list.files, Number(pieceLength));
process.stdout.write(`${pieces.length / 20} pieces\n`);
