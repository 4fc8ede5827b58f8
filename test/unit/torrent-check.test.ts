import bencode from 'bencode';
import { describe, expect, it } from 'vitest';
import { buildMetainfo, infoHashOfTorrent } from '../../src/torrent/metainfo.js';
import { escapingPath, readTorrent, TorrentProblem } from '../../src/torrent/check.js';

const pieces = (n: number) => Buffer.alloc(20 * n, 7);
const enc = (v: unknown) => Buffer.from(bencode.encode(v));
const multi = (paths: unknown[][], extra: object = {}) =>
  enc({
    info: {
      name: 'share',
      'piece length': 16384,
      pieces: pieces(1),
      files: paths.map((path) => ({ length: 10, path })),
      ...extra,
    },
  });

describe('readTorrent', () => {
  it('a torrent qshare builds: its info hash, name and files', () => {
    const t = buildMetainfo({
      name: 'x.7z',
      pieceLength: 16384,
      pieces: pieces(2),
      files: null,
      length: 20_000,
      trackers: [],
      private: false,
    });
    expect(readTorrent(t.torrent)).toEqual({
      infoHash: t.infoHash,
      name: 'x.7z',
      files: [{ path: ['x.7z'], length: 20_000 }],
    });
    const m = multi([['a', 'b.txt'], ['back\\slash..\\x'], ['-rf']]);
    expect(readTorrent(m).files.map((f) => f.path.join('/'))).toEqual([
      'share/a/b.txt',
      'share/back\\slash..\\x',
      'share/-rf',
    ]);
    expect(readTorrent(m).infoHash).toBe(infoHashOfTorrent(m));
  });

  const whole = buildMetainfo({
    name: 'x.7z',
    pieceLength: 16384,
    pieces: pieces(1),
    files: null,
    length: 100,
    trackers: ['http://127.0.0.1:9/announce'],
    private: false,
  }).torrent;
  it.each([
    ['cut short', whole.subarray(0, whole.length - 30), 'invalid', /not bencoded data/],
    ['not a torrent', Buffer.from('<html>404</html>'), 'invalid', /not bencoded data/],
    ['a list, not a dictionary', enc([1, 2]), 'invalid', /top level is not a dictionary/],
    ['no info', enc({ announce: 'x' }), 'invalid', /no info dictionary/],
    [
      'no pieces',
      enc({ info: { name: 'x', 'piece length': 16384, length: 5 } }),
      'invalid',
      /piece hashes are missing/,
    ],
    [
      'pieces cut short',
      enc({ info: { name: 'x', 'piece length': 16384, length: 5, pieces: Buffer.alloc(19) } }),
      'invalid',
      /piece hashes are missing or cut short/,
    ],
    [
      'too few pieces for the size',
      enc({ info: { name: 'x', 'piece length': 16384, length: 40_000, pieces: pieces(1) } }),
      'invalid',
      /1 piece hashes where its 40000 bytes need 3/,
    ],
    [
      'a negative length',
      enc({ info: { name: 'x', 'piece length': 16384, length: -1, pieces: pieces(1) } }),
      'invalid',
      /length is missing/,
    ],
    [
      'a name that is not UTF-8',
      enc({ info: { name: Buffer.from([0x63, 0xe9]), 'piece length': 16384, length: 5, pieces: pieces(1) } }),
      'invalid',
      /not valid UTF-8/,
    ],
    [
      'the name ".."',
      enc({ info: { name: '..', 'piece length': 16384, length: 5, pieces: pieces(1) } }),
      'unsafe',
      /its name "\.\." would be written outside/,
    ],
    [
      'a name with a slash',
      enc({ info: { name: '../../etc', 'piece length': 16384, length: 5, pieces: pieces(1) } }),
      'unsafe',
      /outside/,
    ],
    [
      'a file path with ..',
      multi([['..', '..', '.bashrc']]),
      'unsafe',
      /a file name in it "\.\." would be written outside/,
    ],
    ['a file path component with a slash', multi([['ok', '/etc/passwd']]), 'unsafe', /"\/etc\/passwd"/],
    ['an empty file name', multi([['']]), 'unsafe', /""/],
    ['an empty path', multi([[]]), 'invalid', /file 1 has no path/],
    ['a NUL in a name', multi([['a\0b']]), 'unsafe', /outside/],
  ])('%s → %s', (_w, bytes, kind, re) => {
    let err: unknown;
    try {
      readTorrent(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TorrentProblem);
    expect((err as TorrentProblem).kind).toBe(kind);
    expect((err as TorrentProblem).message).toMatch(re);
  });
});

describe('escapingPath (names qBittorrent reports)', () => {
  it.each([
    ['share.7z', undefined],
    ['share/a/b.txt', undefined],
    ['share/..hidden/..x', undefined],
    ['share/back\\..\\x', undefined],
    ['../x', '../x'],
    ['share/../../x', 'share/../../x'],
    ['/etc/passwd', '/etc/passwd'],
  ])('%s → %s', (p, out) => {
    expect(escapingPath(p)).toBe(out);
  });
});
