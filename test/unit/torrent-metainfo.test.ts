import { createHash } from 'node:crypto';
import bencode from 'bencode';
import { describe, expect, it } from 'vitest';
import { buildMetainfo, draftMetainfo, infoHashOfTorrent, type MetainfoArgs } from '../../src/torrent/metainfo.js';

type Dict = Record<string, unknown>;
const text = (v: unknown): string => Buffer.from(v as Uint8Array).toString('utf8');
const decode = (b: Buffer): Dict => bencode.decode(b) as Dict;
const T1 = 'http://127.0.0.1:6969/announce';
const T2 = 'udp://127.0.0.1:6969';
const T3 = 'http://127.0.0.1:7070/announce';

const single = (over: Partial<MetainfoArgs> = {}): MetainfoArgs => ({
  name: 'archive.7z',
  pieceLength: 16384,
  pieces: Buffer.alloc(3 * 20, 7),
  files: null,
  length: 40000,
  trackers: [T1],
  private: false,
  ...over,
});

const multi = (over: Partial<MetainfoArgs> = {}): MetainfoArgs => ({
  name: 'folder',
  pieceLength: 16384,
  pieces: Buffer.alloc(2 * 20, 9),
  files: [
    { path: ['a b', 'é.txt'], length: 20000, absPath: '/x/a b/é.txt' },
    { path: ['empty'], length: 0, absPath: '/x/empty' },
    { path: ['z'], length: 1, absPath: '/x/z' },
  ],
  trackers: [T1],
  private: false,
  ...over,
});

describe('buildMetainfo', () => {
  it('single file: exact info dict, no private, no comment, no created by, no creation date', () => {
    const { torrent, infoHash } = buildMetainfo(single());
    const top = decode(torrent);
    expect(Object.keys(top).sort()).toEqual(['announce', 'info']);
    expect(text(top.announce)).toBe(T1);
    const info = top.info as Dict;
    expect(Object.keys(info).sort()).toEqual(['length', 'name', 'piece length', 'pieces']);
    expect(text(info.name)).toBe('archive.7z');
    expect(info.length).toBe(40000);
    expect(info['piece length']).toBe(16384);
    expect(Buffer.from(info.pieces as Uint8Array)).toEqual(Buffer.alloc(60, 7));
    expect(infoHash).toMatch(/^[0-9a-f]{40}$/);
    expect(infoHash).toBe(createHash('sha1').update(bencode.encode(info)).digest('hex'));
    expect(infoHashOfTorrent(torrent)).toBe(infoHash);
  });

  it('the info dict bytes are exactly what BEP 3 prescribes (sorted keys)', () => {
    const { torrent } = buildMetainfo(single({ pieces: Buffer.alloc(60, 0x41), private: true }));
    const expectedInfo = `4:infod6:lengthi40000e4:name10:archive.7z12:piece lengthi16384e6:pieces60:${'A'.repeat(60)}7:privatei1ee`;
    expect(torrent.toString('latin1')).toContain(expectedInfo);
  });

  it('private: private=1 inside info, and a different info hash', () => {
    const pub = buildMetainfo(single());
    const priv = buildMetainfo(single({ private: true }));
    expect((decode(priv.torrent).info as Dict).private).toBe(1);
    expect('private' in (decode(pub.torrent).info as Dict)).toBe(false);
    expect(priv.infoHash).not.toBe(pub.infoHash);
  });

  it('multi-file: files list with length and path, in the given order; no top-level length', () => {
    const { torrent } = buildMetainfo(multi());
    const info = decode(torrent).info as Dict;
    expect(Object.keys(info).sort()).toEqual(['files', 'name', 'piece length', 'pieces']);
    const files = (info.files as Dict[]).map((f) => ({
      keys: Object.keys(f).sort(),
      length: f.length,
      path: (f.path as Uint8Array[]).map(text),
    }));
    expect(files).toEqual([
      { keys: ['length', 'path'], length: 20000, path: ['a b', 'é.txt'] },
      { keys: ['length', 'path'], length: 0, path: ['empty'] },
      { keys: ['length', 'path'], length: 1, path: ['z'] },
    ]);
  });

  it.each([
    ['no trackers: no announce at all (DHT only)', [], {}],
    ['one tracker: announce only', [T1], { announce: T1 }],
    ['two trackers: one tier per tracker', [T1, T2], { announce: T1, 'announce-list': [[T1], [T2]] }],
    ['three trackers', [T1, T2, T3], { announce: T1, 'announce-list': [[T1], [T2], [T3]] }],
  ])('%s', (_label, trackers, expected) => {
    const top = decode(buildMetainfo(single({ trackers })).torrent);
    const got: Dict = {};
    if ('announce' in top) got.announce = text(top.announce);
    if ('announce-list' in top)
      got['announce-list'] = (top['announce-list'] as Uint8Array[][]).map((tier) => tier.map(text));
    expect(got).toEqual(expected);
    expect(Object.keys(top).filter((k) => !['announce', 'announce-list', 'info'].includes(k))).toEqual([]);
  });

  it('trackers, created by and creation date stay outside info (the info hash does not change)', () => {
    const base = buildMetainfo(single());
    const more = buildMetainfo(single({ trackers: [T1, T2], createdBy: 'qshare 0.1.0', creationDate: 1700000000 }));
    const top = decode(more.torrent);
    expect(text(top['created by'])).toBe('qshare 0.1.0');
    expect(top['creation date']).toBe(1700000000);
    expect('comment' in top).toBe(false);
    expect(more.infoHash).toBe(base.infoHash);
  });

  it('names are UTF-8 bytes', () => {
    const { torrent } = buildMetainfo(single({ name: 'café 日本.7z' }));
    expect(torrent.includes(Buffer.from('15:café 日本.7z', 'utf8'))).toBe(true);
  });

  it.each<[string, Partial<MetainfoArgs>]>([
    ['wrong pieces size', { pieces: Buffer.alloc(40) }],
    ['missing length', { length: undefined }],
    ['name with a slash', { name: 'a/b' }],
    ['empty name', { name: '' }],
    ['name ..', { name: '..' }],
    ['zero piece length', { pieceLength: 0 }],
  ])('single: rejects %s', (_l, over) => {
    expect(() => buildMetainfo(single(over))).toThrow(Error);
  });

  it.each<[string, Partial<MetainfoArgs>]>([
    ['empty file list', { files: [], pieces: Buffer.alloc(0) }],
    ['path traversal', { files: [{ path: ['..', 'x'], length: 20001, absPath: '/x' }] }],
    ['component with slash', { files: [{ path: ['a/b'], length: 20001, absPath: '/x' }] }],
    ['empty path', { files: [{ path: [], length: 20001, absPath: '/x' }] }],
    ['negative length', { files: [{ path: ['a'], length: -1, absPath: '/x' }] }],
  ])('multi: rejects %s', (_l, over) => {
    expect(() => buildMetainfo(multi(over))).toThrow(Error);
  });
});

describe('infoHashOfTorrent', () => {
  it.each([
    ['not bencode dict', Buffer.from('i3e')],
    ['no info', Buffer.from('d8:announce1:xe')],
  ])('rejects %s', (_l, b) => {
    expect(() => infoHashOfTorrent(b)).toThrow(Error);
  });
});

describe('draftMetainfo (encoded before the pieces are known)', () => {
  /** the straightforward way: the library encodes the whole thing with the real pieces, and the info dict alone */
  function reference(a: MetainfoArgs): { torrent: Buffer; infoHash: string } {
    const info: Dict = { name: a.name, 'piece length': a.pieceLength, pieces: a.pieces };
    if (a.files) info.files = a.files.map((f) => ({ length: f.length, path: f.path }));
    else info.length = a.length;
    if (a.private) info.private = 1;
    const top: Dict = { info };
    if (a.trackers[0] !== undefined) top.announce = a.trackers[0];
    if (a.trackers.length > 1) top['announce-list'] = a.trackers.map((t) => [t]);
    if (a.createdBy !== undefined) top['created by'] = a.createdBy;
    if (a.creationDate !== undefined) top['creation date'] = a.creationDate;
    return {
      torrent: Buffer.from(bencode.encode(top)),
      infoHash: createHash('sha1').update(bencode.encode(info)).digest('hex'),
    };
  }

  // names that spell the very keys the draft locates, pieces of every length, with and without the outer keys
  it.each<[string, MetainfoArgs]>([
    ['single file', single()],
    ['folder', multi()],
    [
      'names "4:info" and "6:pieces"',
      multi({
        name: '4:info',
        files: [
          { path: ['6:pieces', '4:infod'], length: 16384, absPath: '/x' },
          { path: ['e'], length: 16384, absPath: '/y' },
        ],
      }),
    ],
    [
      'no trackers, private, created by, date',
      multi({ trackers: [], private: true, createdBy: 'qshare 4:info', creationDate: 1_700_000_000 }),
    ],
    ['three trackers', single({ trackers: [T1, T2, T3] })],
    ['one piece', single({ length: 10, pieces: Buffer.alloc(20, 1) })],
    [
      'many pieces',
      single({
        pieceLength: 16384,
        length: 16384 * 500,
        pieces: Buffer.from(Array.from({ length: 500 * 20 }, (_, i) => i % 251)),
      }),
    ],
  ])('%s: the same bytes and info hash as encoding it whole', (_what, args) => {
    const { pieces, ...rest } = args;
    const draft = draftMetainfo(rest);
    expect(draft.piecesBytes).toBe(pieces.length);
    const got = draft.finish(pieces);
    const want = reference(args);
    expect(got.torrent.equals(want.torrent)).toBe(true);
    expect(got.infoHash).toBe(want.infoHash);
    // finishing again (other digests) does not see the first ones
    const other = Buffer.alloc(pieces.length, 0xee);
    expect(draft.finish(other).infoHash).toBe(reference({ ...args, pieces: other }).infoHash);
  });

  it('an empty folder torrent (no pieces) and a wrong number of digests', () => {
    const empty = draftMetainfo({ ...multi(), files: [{ path: ['e'], length: 0, absPath: '/e' }] });
    expect(empty.piecesBytes).toBe(0);
    expect(empty.finish(Buffer.alloc(0)).torrent.includes(Buffer.from('6:pieces0:'))).toBe(true);
    expect(() => draftMetainfo(single()).finish(Buffer.alloc(40))).toThrow(/expected 3 × 20/);
  });
});
