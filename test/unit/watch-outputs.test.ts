import { mkdtemp, readdir, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { launchdPlist, serviceFilePath, systemdQuote, systemdUnit } from '../../src/cli/service.js';
import { expandHome } from '../../src/cli/commands/watch.js';
import { cleanLeftovers, partialTarget } from '../../src/share/leftovers.js';
import { outboxFiles, shareCard } from '../../src/share/outbox.js';

describe('the card beside the drop folder', () => {
  const base = {
    name: 'burly-duckbill-aviation',
    entry: 'Wedding Photos',
    dropDir: '/home/me/ToShare',
    size: 5_300_000_000,
    magnet: 'magnet:?xt=urn:btih:abc',
    createdAt: '2026-01-01T00:00:00.000Z',
    message: 'MESSAGE FOR RECIPIENTS',
  };
  it.each<[string, { passwordInStore: string | null; passwordFile: boolean }, RegExp]>([
    [
      'kept in the keychain',
      { passwordInStore: 'the OS keychain', passwordFile: false },
      /Password: {5}run {2}qshare show burly-duckbill-aviation {3}\(the OS keychain\)/,
    ],
    [
      'only in the opt-in file',
      { passwordInStore: null, passwordFile: true },
      /Password: {5}in burly-duckbill-aviation\.password\.txt beside this card/,
    ],
    [
      'both',
      { passwordInStore: 'the OS keychain', passwordFile: true },
      /qshare show burly-duckbill-aviation[^\n]*\n {14}also in burly-duckbill-aviation\.password\.txt/,
    ],
  ])('says where the password is: %s', (_n, pw, re) => {
    const card = shareCard({ ...base, ...pw });
    expect(card).toMatch(re);
    expect(card).toContain('Shared from:  Wedding Photos');
    expect(card).toContain('Magnet link:  magnet:?xt=urn:btih:abc');
    expect(card).toContain('5.3 GB');
    expect(card).toContain('MESSAGE FOR RECIPIENTS');
  });

  it('puts everything in <drop>/.qshare/', () => {
    expect(outboxFiles('/d', 'n')).toEqual({
      dir: '/d/.qshare',
      torrent: '/d/.qshare/n.torrent',
      card: '/d/.qshare/n.txt',
      password: '/d/.qshare/n.password.txt',
    });
  });
});

describe('leftovers of dead runs', () => {
  it.each([
    ['.a-b-c.7z.partial-0a1b2c3d4e5f', 'a-b-c.7z'],
    ['.a-b-c.7z.partial-0a1b2c3d4e5f.001', 'a-b-c.7z'],
    ['.watch.json.partial-deadbeef', 'watch.json'],
    ['a-b-c.7z', undefined],
    ['.hidden', undefined],
    ['.x.partial-XYZ', undefined],
  ])('%s stands for %s', (n, t) => {
    expect(partialTarget(n)).toBe(t);
  });

  it('removes partials that are ours and stale ones, keeps a fresh one of someone else and real files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qshare-left-'));
    const files = ['.mine.7z.partial-aa', '.other.7z.partial-bb', '.old.7z.partial-cc', 'mine.7z', 'other.7z'];
    for (const f of files) await writeFile(join(dir, f), 'x');
    const hourAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(join(dir, '.old.7z.partial-cc'), hourAgo, hourAgo);
    const removed = await cleanLeftovers([{ dir, owned: new Set(['mine.7z']) }], { now: Date.now() });
    expect(removed.map((p) => p.slice(dir.length + 1)).sort()).toEqual(['.mine.7z.partial-aa', '.old.7z.partial-cc']);
    expect((await readdir(dir)).sort()).toEqual(['.other.7z.partial-bb', 'mine.7z', 'other.7z']);
  });
});

describe('service files', () => {
  const spec = {
    node: '/usr/bin/node',
    cli: '/opt/qshare/dist/cli/main.js',
    dropDir: '/home/me/To Share',
    env: { QSHARE_HOME: '/srv/q' },
  };
  it('systemd: runs the watch on the drop folder, restarts slowly, never holds a password', () => {
    const u = systemdUnit(spec);
    expect(u).toContain('ExecStart="/usr/bin/node" "/opt/qshare/dist/cli/main.js" "watch" "/home/me/To Share"');
    expect(u).toContain('Environment="QSHARE_HOME=/srv/q"');
    expect(u).toContain('Restart=on-failure');
    expect(u).toContain('RestartSec=30');
    expect(u).toContain('KillSignal=SIGTERM');
    expect(u).toContain('WantedBy=default.target');
    expect(u).not.toMatch(/^Environment=.*PASSWORD/m);
  });
  it.each([
    ['plain', '"plain"'],
    ['a "q" b', '"a \\"q\\" b"'],
    ['100%', '"100%%"'],
    ['$HOME', '"$$HOME"'],
    ['back\\slash', '"back\\\\slash"'],
  ])('systemd quoting of %j', (raw, quoted) => {
    expect(systemdQuote(raw)).toBe(quoted);
  });
  it('launchd: a KeepAlive agent with the same arguments, XML-escaped', () => {
    const p = launchdPlist({ ...spec, dropDir: '/Users/me/A&B', logFile: '/Users/me/Library/Logs/qshare-watch.log' });
    expect(p).toContain('<string>/Users/me/A&amp;B</string>');
    expect(p).toContain('<key>KeepAlive</key>');
    expect(p).toContain('<string>org.qshare.watch</string>');
  });
  it.each([
    ['linux', {}, '/home/me/.config/systemd/user/qshare-watch.service'],
    ['linux', { XDG_CONFIG_HOME: '/x' }, '/x/systemd/user/qshare-watch.service'],
    ['darwin', {}, '/home/me/Library/LaunchAgents/org.qshare.watch.plist'],
  ] as const)('%s %j → %s', (platform, env, path) => {
    expect(serviceFilePath(platform, env, '/home/me')).toBe(path);
  });
  it.each([
    ['~/ToShare', '/home/me/ToShare'],
    ['~', '/home/me'],
    ['/abs/drop', '/abs/drop'],
  ])('expandHome(%s) = %s', (p, want) => {
    expect(expandHome(p, '/home/me')).toBe(want);
  });
});
