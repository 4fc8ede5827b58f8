/**
 * Oracle tests: our info hash (and pieces, file order, whole .torrent bytes where comparable) against the real
 * mktorrent 1.1 and transmission-create 3.00. Small data, small pieces, so there are many pieces and pieces span files.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import bencode from 'bencode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTorrent } from '../../src/torrent/create.js';

const MKTORRENT = '/usr/bin/mktorrent';
const TR_CREATE = '/usr/bin/transmission-create';
const TR_SHOW = '/usr/bin/transmission-show';
const T1 = 'http://127.0.0.1:6969/announce';
const T2 = 'udp://127.0.0.1:6970';

type Dict = Record<string, unknown>;
const text = (v: unknown): string => Buffer.from(v as Uint8Array).toString('utf8');

let work: string;
let outN = 0;
beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'qshare-torrent-oracle-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function makeTree(name: string, files: Record<string, number>): string {
  const root = path.join(work, name);
  for (const [rel, size] of Object.entries(files)) {
    const p = path.join(root, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, randomBytes(size));
  }
  return root;
}

function decodeTorrent(file: string): { top: Dict; info: Dict; infoHash: string } {
  const top = bencode.decode(readFileSync(file)) as Dict;
  const info = top.info as Dict;
  return { top, info, infoHash: createHash('sha1').update(bencode.encode(info)).digest('hex') };
}

/** the info hash as transmission-show reads it: a second, independent decoder */
function showHash(file: string): string {
  const out = execFileSync(TR_SHOW, [file], { encoding: 'utf8' });
  const m = /^\s*Hash: ([0-9a-f]{40})$/m.exec(out);
  if (!m?.[1]) throw new Error(`no hash in transmission-show output:\n${out}`);
  return m[1];
}

function mktorrent(target: string, pieceLength: number, extra: string[] = []): string {
  const out = path.join(work, `mk${outN++}.torrent`);
  execFileSync(
    MKTORRENT,
    ['-l', String(Math.log2(pieceLength)), '-t', '1', '-d', '-a', T1, ...extra, '-o', out, '--', target],
    { stdio: 'pipe' },
  );
  return out;
}

function transmissionCreate(target: string, pieceLength: number, priv: boolean): string {
  const out = path.join(work, `tr${outN++}.torrent`);
  // no "--" in transmission's option parser; the target is an absolute path, so it cannot look like an option
  execFileSync(TR_CREATE, [...(priv ? ['-p'] : []), '-s', String(pieceLength / 1024), '-t', T1, '-o', out, target], {
    stdio: 'pipe',
  });
  return out;
}

const filePaths = (info: Dict): string[] =>
  (info.files as Dict[]).map((f) => (f.path as Uint8Array[]).map(text).join('/'));

const haveMktorrent = existsSync(MKTORRENT);
const haveTransmission = existsSync(TR_CREATE) && existsSync(TR_SHOW);

// names chosen so bytewise order on the joined path differs from per-component and case-insensitive order
const TREE: Record<string, number> = {
  'big file.bin': 1_000_003,
  'nested/deeper/still deeper/x.dat': 70_001,
  'nested/a.txt': 10,
  'nested/empty': 0,
  'naïve café/日本語 ファイル.txt': 33_333,
  'a b/x': 5000,
  'a-b': 16_384,
  'a/x': 1,
  a0: 200_000,
  'Upper.BIN': 65_537,
  '.hidden': 12,
  'zero at end/zz': 0,
  é: 40_000,
};

describe.skipIf(!haveMktorrent)('against mktorrent', () => {
  let single: string;
  let dir: string;
  beforeAll(() => {
    single = path.join(makeTree('single', { 'archive part.7z': 3 * 1024 * 1024 + 12345 }), 'archive part.7z');
    dir = makeTree('Folder ü x', TREE);
  });

  // mktorrent 1.1 accepts -l 15…28 only, so 16 KiB pieces are checked against transmission-create below
  // threads 1 = the single-thread hasher; 2 = worker threads (the default for big inputs)
  it.each([
    [32768, 1],
    [65536, 1],
    [131072, 1],
    [32768, 2],
  ])('single file not a multiple of the piece length, piece %d, %d thread(s)', async (pieceLength, threads) => {
    const ours = await createTorrent({ root: single, trackers: [T1], private: false, pieceLength, threads });
    const mk = decodeTorrent(mktorrent(single, pieceLength));
    expect(ours.infoHash).toBe(mk.infoHash);
    expect(ours.infoHash).toBe(showHash(path.join(work, `mk${outN - 1}.torrent`)));
    expect(mk.info.length).toBe(3 * 1024 * 1024 + 12345);
  });

  it.each([
    [32768, 1],
    [65536, 1],
    [32768, 2],
    [65536, 2],
  ])(
    'folder with nested, non-ASCII, spaced, empty, small and large files, piece %d, %d thread(s)',
    async (pieceLength, threads) => {
      const ours = await createTorrent({ root: dir, trackers: [T1], private: false, pieceLength, threads });
      const mkFile = mktorrent(dir, pieceLength);
      const mk = decodeTorrent(mkFile);
      const oursInfo = (bencode.decode(ours.torrent) as Dict).info as Dict;
      // first the diagnostics: same file order, same pieces; then the hash
      expect(filePaths(oursInfo)).toEqual(filePaths(mk.info));
      expect(Buffer.from(oursInfo.pieces as Uint8Array).equals(Buffer.from(mk.info.pieces as Uint8Array))).toBe(true);
      expect(ours.infoHash).toBe(mk.infoHash);
      expect(ours.infoHash).toBe(showHash(mkFile));
      expect(ours.fileCount).toBe(Object.keys(TREE).length);
      expect(Math.ceil(ours.totalBytes / pieceLength)).toBeGreaterThan(20);
    },
  );

  it('private flag and a custom name agree too', async () => {
    const ours = await createTorrent({
      root: dir,
      name: 'Other name',
      trackers: [T1],
      private: true,
      pieceLength: 32768,
    });
    const mk = decodeTorrent(mktorrent(dir, 32768, ['-p', '-n', 'Other name']));
    expect(mk.info.private).toBe(1);
    expect(ours.infoHash).toBe(mk.infoHash);
  });

  it('with the same extras, the whole .torrent is byte-identical (announce, announce-list tiers)', async () => {
    const ours = await createTorrent({
      root: single,
      trackers: [T1, T2],
      private: false,
      pieceLength: 65536,
      createdBy: 'mktorrent 1.1',
    });
    // mktorrent: each -a is one tier
    const out = path.join(work, `mk${outN++}.torrent`);
    execFileSync(MKTORRENT, ['-l', '16', '-t', '1', '-d', '-a', T1, '-a', T2, '-o', out, '--', single], {
      stdio: 'pipe',
    });
    expect(ours.torrent.equals(readFileSync(out))).toBe(true);
  });
});

describe.skipIf(!haveTransmission)('against transmission-create', () => {
  // transmission 3.00 skips dot files and zero-length files, sorts case-insensitively with signed chars (non-ASCII
  // first) and always writes `private` (0 or 1): so a tree of lower-case ASCII names, no empty files, private torrents
  const lower = Object.fromEntries(
    Object.entries(TREE).filter(
      ([k, size]) => size > 0 && /^[a-z0-9 ./-]+$/.test(k) && !k.split('/').some((c) => c.startsWith('.')),
    ),
  );
  let dir: string;
  beforeAll(() => {
    dir = makeTree('tr folder', lower);
  });

  it('the transmission tree still has pieces spanning several files', () => {
    expect(Object.keys(lower).length).toBeGreaterThanOrEqual(6);
  });

  it.each([16384, 65536])('private folder torrent, piece %d', async (pieceLength) => {
    const ours = await createTorrent({ root: dir, trackers: [T1], private: true, pieceLength });
    const trFile = transmissionCreate(dir, pieceLength, true);
    const tr = decodeTorrent(trFile);
    expect(filePaths((bencode.decode(ours.torrent) as Dict).info as Dict)).toEqual(filePaths(tr.info));
    expect(ours.infoHash).toBe(tr.infoHash);
    expect(ours.infoHash).toBe(showHash(trFile));
  });

  it('public: same pieces; the hash differs only because transmission writes private=0', async () => {
    const ours = await createTorrent({ root: dir, trackers: [T1], private: false, pieceLength: 32768 });
    const tr = decodeTorrent(transmissionCreate(dir, 32768, false));
    expect(filePaths((bencode.decode(ours.torrent) as Dict).info as Dict)).toEqual(filePaths(tr.info));
    expect(tr.info.private).toBe(0);
    const oursInfo = (bencode.decode(ours.torrent) as Dict).info as Dict;
    expect(Buffer.from(oursInfo.pieces as Uint8Array).equals(Buffer.from(tr.info.pieces as Uint8Array))).toBe(true);
    const { private: _p, ...trWithoutPrivate } = tr.info;
    expect(ours.infoHash).toBe(createHash('sha1').update(bencode.encode(trWithoutPrivate)).digest('hex'));
  });
});

describe.skipIf(!haveTransmission)('single file, 16 KiB pieces, against transmission-create', () => {
  it('private single file not a multiple of the piece length', async () => {
    const file = path.join(makeTree('single16', { 'data file.bin': 2 * 1024 * 1024 + 777 }), 'data file.bin');
    const ours = await createTorrent({ root: file, trackers: [T1], private: true, pieceLength: 16384 });
    const trFile = transmissionCreate(file, 16384, true);
    expect(ours.infoHash).toBe(decodeTorrent(trFile).infoHash);
    expect(ours.infoHash).toBe(showHash(trFile));
  });
});
