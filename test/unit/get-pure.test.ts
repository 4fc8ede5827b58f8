/** Pure parts of the recipient's side, as tables: magnet parsing, archive entry checks, link verdicts, download states, peers, the progress line. */
import { describe, expect, it } from 'vitest';
import type { ArchiveEntry } from '../../src/archive/listing.js';
import { checkEntries, judgeLink } from '../../src/archive/safety.js';
import { clock, downloadLine } from '../../src/cli/download-progress.js';
import { buildDownloadFields, classifyDownload } from '../../src/qbit/download.js';
import { parseMagnet } from '../../src/torrent/magnet.js';
import type { DownloadSnapshot } from '../../src/share/get.js';

const H = '0123456789abcdef0123456789abcdef01234567';

describe('parseMagnet', () => {
  it.each([
    [
      `magnet:?xt=urn:btih:${H}&dn=gift.7z&tr=http%3A%2F%2F127.0.0.1%3A9%2Fannounce`,
      { infoHash: H, name: 'gift.7z', trackers: ['http://127.0.0.1:9/announce'], peers: [] },
    ],
    [`MAGNET:?xt=urn:btih:${H.toUpperCase()}`, { infoHash: H, trackers: [], peers: [] }],
    [
      `magnet:?xt=urn:btih:${H}&x.pe=10.0.0.7%3A51413&x.pe=%5B2001%3Adb8%3A%3A1%5D%3A6881`,
      { infoHash: H, trackers: [], peers: ['10.0.0.7:51413', '[2001:db8::1]:6881'] },
    ],
    // base32 of the same 20 bytes
    [
      'magnet:?xt=urn:btih:AERUKZ4JVPG66AJDIVTYTK6N54ASGRLH&dn=a+b',
      { infoHash: H, name: 'a b', trackers: [], peers: [] },
    ],
  ])('%s', (uri, expected) => expect(parseMagnet(uri)).toEqual(expected));

  it.each([
    ['magnet:?dn=x'],
    ['magnet:?xt=urn:btmh:1220abcd'],
    ['http://x/y.torrent'],
    [`magnet:?xt=urn:btih:${H.slice(1)}`],
  ])('rejects %s', (uri) => expect(parseMagnet(uri)).toBeUndefined());
});

const e = (path: string, kind: ArchiveEntry['kind'] = 'file'): ArchiveEntry => ({
  path,
  kind,
  size: 1,
  attributes: '',
  encrypted: true,
});

describe('checkEntries', () => {
  it('accepts an ordinary tree with links', () => {
    expect(
      checkEntries([e('top', 'dir'), e('top/a.txt'), e('top/l', 'symlink'), e('top/sub', 'dir'), e('top/sub/..x')]),
    ).toEqual([]);
  });
  it.each([
    [[e('/etc/passwd')], /absolute/],
    [[e('C:\\Windows\\x')], /absolute/],
    [[e('a/../../x')], /\.\./],
    [[e('..')], /\.\./],
    [[e('evil', 'symlink'), e('evil/pwned.txt')], /through the link evil/],
    [[e('a', 'dir'), e('a/l', 'symlink'), e('a/l/deep/x')], /through the link a\/l/],
    [[e('x', 'symlink'), e('x')], /twice/],
    [[e('./')], /empty name/],
    [[e('a\0b')], /NUL/],
  ])('refuses %j', (entries, why) => {
    const problems = checkEntries(entries);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.map((p) => p.why).join('; ')).toMatch(why);
  });
});

describe('judgeLink', () => {
  const inside = (c: string, p: string) => c === p || c.startsWith(p + '/');
  it.each([
    ['d/f', '/root/top/d/f', '/root/top/d/f', 'keep'],
    ['/etc/passwd', '/etc/passwd', '/etc/passwd', 'absolute'],
    ['../../x', '/x', '/x', 'escapes'],
    ['d/self/../../..', '/', '/root', 'escapes'],
    ['missing', undefined, '/root/top/missing', 'keep'],
    ['../missing', undefined, '/root/missing', 'dangling-outside'],
    ['../../nowhere', undefined, '/nowhere', 'dangling-outside'],
  ] as const)('%s → %s', (target, resolved, lexical, verdict) => {
    expect(judgeLink(target, resolved, '/root', lexical, inside)).toBe(verdict);
  });
});

describe('buildDownloadFields', () => {
  it.each([
    [{ major: 2, minor: 8, patch: 19 }, { contentLayout: 'Original' }],
    [{ major: 2, minor: 2, patch: 0 }, { root_folder: 'true' }],
  ])('API %j', (api, layout) => {
    expect(
      buildDownloadFields({ savePath: '/d', category: 'qshare-get', tags: ['a', 'b'], magnet: 'magnet:?x' }, api),
    ).toEqual({
      savepath: '/d',
      category: 'qshare-get',
      autoTMM: 'false',
      paused: 'false',
      stopped: 'false',
      urls: 'magnet:?x',
      tags: 'a,b',
      ...layout,
    });
  });
});

describe('classifyDownload', () => {
  it.each([
    ['downloading', 0.3, 'downloading'],
    ['stalledDL', 0.3, 'downloading'],
    ['forcedDL', 0.3, 'downloading'],
    ['metaDL', 0, 'metadata'],
    ['forcedMetaDL', 0, 'metadata'],
    ['checkingResumeData', 0.5, 'checking'],
    ['checkingDL', 0.5, 'checking'],
    ['checkingUP', 1, 'checking'],
    ['moving', 1, 'checking'],
    ['queuedDL', 0, 'queued'],
    ['pausedDL', 0.2, 'stopped'],
    ['stoppedDL', 0.2, 'stopped'],
    ['stalledUP', 1, 'complete'],
    ['uploading', 1, 'complete'],
    ['pausedUP', 1, 'complete'],
    ['stoppedUP', 1, 'complete'],
    ['missingFiles', 0.4, 'missing-files'],
    ['error', 0.4, 'error'],
    ['someFutureState', 0.4, 'downloading'],
  ])('%s at %d → %s', (state, progress, verdict) => expect(classifyDownload(state, progress)).toBe(verdict));
});

describe('downloadLine', () => {
  const base: DownloadSnapshot = {
    name: 'g.7z',
    verdict: 'downloading',
    state: 'downloading',
    progress: 0.421,
    size: 30_000_000,
    dlSpeed: 5_100_000,
    peers: 3,
    eta: 12,
  };
  it.each([
    [base, 'Downloading   42.1%  12.6 MB / 30.0 MB  5.1 MB/s  3 peers  ETA 0:12'],
    [
      { ...base, peers: 0, eta: undefined, dlSpeed: 0 },
      'Downloading   42.1%  12.6 MB / 30.0 MB  0 B/s  0 peers  (waiting for peers: is the sender seeding?)',
    ],
    [{ ...base, peers: 1, eta: 3725 }, 'Downloading   42.1%  12.6 MB / 30.0 MB  5.1 MB/s  1 peer  ETA 1:02:05'],
    [{ ...base, verdict: 'metadata' as const, peers: 2 }, "Fetching the torrent's metadata from peers…  2 peers"],
    [{ ...base, verdict: 'checking' as const }, 'Checking data already on disk  42.1%'],
    [{ ...base, verdict: 'complete' as const }, 'Downloaded  100%  30.0 MB'],
  ])('%#', (s, line) => expect(downloadLine(s)).toBe(line));
  it('clock', () => {
    expect([clock(0), clock(59.6), clock(3600), clock(3 * 86400)]).toEqual(['0:00', '1:00', '1:00:00', '3 days']);
  });
});
