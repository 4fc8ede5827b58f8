/**
 * Bad input to `qshare get` (issue #7), through the built CLI: .torrent files that are cut short, damaged or name
 * files outside the download folder, bad magnet links (all refused before qBittorrent is contacted), and, with a
 * real qbittorrent-nox on 127.0.0.1, downloads that are not what qshare makes: a .7z that is no 7-Zip archive, one
 * that is not encrypted, one with a `../` name, one with links leading out, a wrong password. No second qBittorrent
 * is needed: the "sender's" file is put where the recipient's qBittorrent downloads it, which finds it complete when
 * it checks the torrent. The password never shows in any process's command line, log line or JSON.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import bencode from 'bencode';
import { describe, expect, it } from 'vitest';
import { cliEnv, runCli, watchCmdlines } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { hasQbitNox } from '../helpers/qbit-nox.js';
import { byteSnapshot, makeAwkwardNames } from '../helpers/awkward-names.js';
import { sevenZip } from '../helpers/seven-zip.js';
import { pseudoRandom, snapshot } from '../helpers/tree.js';
import { sharedQbitNox } from '../helpers/e2e.js';

const have7zz = existsSync('/usr/bin/7zz');
const TRACKER = 'http://127.0.0.1:9/announce';
const PASSWORD = 'a crafted archive password';

async function setup(qbUrl: string, extraEnv: Record<string, string> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'qshare-gethard-'));
  const configFile = join(dir, 'config.json');
  await writeFile(
    configFile,
    JSON.stringify({ trackers: [TRACKER], qbittorrent: { seedWaitSeconds: 30, timeoutSeconds: 30 } }),
  );
  const home = join(dir, 'home');
  return {
    dir,
    home,
    env: cliEnv({ QSHARE_HOME: home, QSHARE_CONFIG: configFile, QSHARE_QBIT_URL: qbUrl, ...extraEnv }),
  };
}

function oneMessage(stderr: string, re: RegExp): void {
  expect(stderr).toMatch(re);
  expect(stderr).not.toMatch(/unexpected error|\n\s+at /);
}

describe('qshare get: a bad .torrent or magnet link is refused before qBittorrent is contacted', () => {
  it.each([
    [
      'a .torrent cut short',
      async (dir: string) => torrentFile(dir, (t) => t.subarray(0, t.length - 40)),
      1,
      /is not a usable \.torrent file: it is not bencoded data/,
    ],
    [
      'a web page saved as .torrent',
      async (dir: string) => write(dir, 'page.torrent', '<html><body>Not found</body></html>'),
      1,
      /page\.torrent is not a usable \.torrent file/,
    ],
    [
      'a .torrent without piece hashes',
      async (dir: string) =>
        write(dir, 'bad.torrent', bencode.encode({ info: { name: 'x.7z', 'piece length': 16384, length: 5 } })),
      1,
      /piece hashes are missing/,
    ],
    [
      'a .torrent whose file names climb out with ../',
      async (dir: string) =>
        write(
          dir,
          'evil.torrent',
          bencode.encode({
            info: {
              name: 'share',
              'piece length': 16384,
              pieces: Buffer.alloc(20),
              files: [{ length: 5, path: ['..', '..', '.bashrc'] }],
            },
          }),
        ),
      1,
      /refusing evil\.torrent: a file name in it "\.\." would be written outside the download folder/,
    ],
    [
      'a .torrent named ..',
      async (dir: string) =>
        write(
          dir,
          'up.torrent',
          bencode.encode({ info: { name: '..', 'piece length': 16384, pieces: Buffer.alloc(20), length: 5 } }),
        ),
      1,
      /refusing up\.torrent: its name "\.\."/,
    ],
    ['a missing .torrent file', async (dir: string) => join(dir, 'nope.torrent'), 1, /nope\.torrent does not exist/],
    [
      'a magnet link without an info hash',
      async () => 'magnet:?dn=holiday.7z&tr=http%3A%2F%2F127.0.0.1%3A9%2Fannounce',
      2,
      /magnet link has no BitTorrent v1 info hash/,
    ],
    [
      'a magnet link with a broken info hash',
      async () => 'magnet:?xt=urn:btih:12345zz',
      2,
      /magnet link has no BitTorrent v1 info hash/,
    ],
  ])('%s: one message, a non-zero exit, nothing added or written', async (_what, make, code, re) => {
    const qbUrl = `http://127.0.0.1:${await freePort()}`;
    const { dir, home, env } = await setup(qbUrl);
    const source = await make(dir);
    const r = await runCli(['get', source, '--password-stdin', '--to', join(dir, 'out')], { env, input: 'pw\n' });
    expect(r.code, r.stderr).toBe(code);
    oneMessage(r.stderr, re);
    expect(r.stderr).not.toContain(qbUrl); // never got as far as trying qBittorrent
    expect(existsSync(join(home, 'downloads'))).toBe(false);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });
});

async function write(dir: string, name: string, data: string | Uint8Array): Promise<string> {
  await writeFile(join(dir, name), data);
  return join(dir, name);
}

/** A valid single-file .torrent, changed by `mangle`. */
async function torrentFile(dir: string, mangle: (t: Buffer) => Buffer): Promise<string> {
  const t = Buffer.from(
    bencode.encode({
      announce: TRACKER,
      info: { name: 'x.7z', 'piece length': 16384, pieces: Buffer.alloc(20, 1), length: 100 },
    }),
  );
  return write(dir, 'cut.torrent', mangle(t));
}

describe.skipIf(!hasQbitNox() || !have7zz)(
  'qshare get: downloads that are not what qshare makes (real qbittorrent-nox)',
  () => {
    const qb = sharedQbitNox();

    /**
     * The sender's side for a file: its .torrent (made by `qshare add --no-encrypt --no-seed`), and the file put in
     * the recipient's download folder for it, so qBittorrent finds it complete.
     */
    async function offer(file: string, recipientHome: string): Promise<{ torrent: string; hash: string }> {
      const sender = await setup(`http://127.0.0.1:${await freePort()}`);
      const r = await runCli(['add', file, '--no-encrypt', '--no-seed', '--json'], { env: sender.env });
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      await mkdir(join(recipientHome, 'downloads', out.infoHash), { recursive: true });
      await copyFile(file, join(recipientHome, 'downloads', out.infoHash, basename(file)));
      return { torrent: out.torrentFile, hash: out.infoHash };
    }

    function recipient() {
      return setup(qb.url, { QSHARE_QBIT_USERNAME: qb.username, QSHARE_QBIT_PASSWORD: qb.password });
    }

    it('a real qshare archive with awkward names: a wrong password unpacks nothing, the right one unpacks it byte for byte; the password is in no command line, log line or JSON', async () => {
      const r = await recipient();
      const src = join(r.dir, 'Holiday');
      await mkdir(join(src, 'sub'), { recursive: true });
      await writeFile(join(src, 'sub', 'a.bin'), pseudoRandom(200_000, 5));
      await writeFile(join(src, 'b.txt'), 'hello\n');
      makeAwkwardNames(src, true); // newlines, quotes, backslashes, -sdel, 255 bytes, names that are not UTF-8
      // the sender: a real qshare archive with a password of their own
      const sender = await setup(`http://127.0.0.1:${await freePort()}`);
      const password = 'correct horse battery staple 7';
      const made = await runCli(['add', src, '--no-seed', '--password-stdin', '--json'], {
        env: sender.env,
        input: `${password}\n`,
      });
      expect(made.code, made.stderr).toBe(0);
      const share = JSON.parse(made.stdout);
      await mkdir(join(r.home, 'downloads', share.infoHash), { recursive: true });
      await copyFile(share.archive, join(r.home, 'downloads', share.infoHash, basename(share.archive)));

      const target = join(r.dir, 'out');
      const watcher = watchCmdlines();
      const wrong = await runCli(
        ['get', share.torrentFile, '--password-stdin', '--to', target, '--json', '--verbose'],
        { env: r.env, input: 'not the password\n' },
      );
      const right = await runCli(
        ['get', share.torrentFile, '--password-stdin', '--to', target, '--json', '--verbose'],
        { env: r.env, input: `${password}\n` },
      );
      const cmdlines = await watcher.stop();

      expect(wrong.code, wrong.stderr).toBe(1);
      oneMessage(wrong.stderr, /wrong password/);
      expect(JSON.parse(wrong.stdout).error.code).toBe('WRONG_PASSWORD');
      expect(right.code, right.stderr).toBe(0);
      const out = JSON.parse(right.stdout);
      expect(out.unpackedTo).toBe(target);
      expect(byteSnapshot(join(target, 'Holiday'))).toEqual(byteSnapshot(src));

      // 7-Zip ran (so this check could fail), and the password was never on any command line
      expect(cmdlines.some((c) => /(^|\/)7zz /.test(c) && / (t|x) /.test(c))).toBe(true);
      for (const c of [...cmdlines, wrong.stdout, wrong.stderr, right.stdout, right.stderr]) {
        expect(c).not.toContain(password);
        expect(c).not.toContain('not the password');
      }
      expect(right.stderr).toMatch(/"level":"debug"/); // --verbose did log
    });

    it('a .7z that is not a 7-Zip archive: said before any password, nothing unpacked, the download kept', async () => {
      const r = await recipient();
      const file = join(r.dir, 'fake.7z');
      await writeFile(file, pseudoRandom(100_000, 11));
      const { torrent, hash } = await offer(file, r.home);
      const got = await runCli(['get', torrent, '--password-stdin', '--to', join(r.dir, 'out')], {
        env: r.env,
        input: 'whatever\n',
      });
      expect(got.code, got.stderr).toBe(1);
      oneMessage(got.stderr, /fake\.7z is not a 7-Zip archive \(or a damaged one\)/);
      expect(got.stderr).toContain(`the download is kept at ${join(r.home, 'downloads', hash, 'fake.7z')}`);
      expect(existsSync(join(r.dir, 'out'))).toBe(false);
      expect(existsSync(join(r.home, 'downloads', hash, 'fake.7z'))).toBe(true);
    });

    it('a 7z that is not encrypted: not made by qshare, so not unpacked; the download kept', async () => {
      const r = await recipient();
      await mkdir(join(r.dir, 'plain'));
      await writeFile(join(r.dir, 'plain', 'readme.txt'), 'anyone can read this\n');
      const file = join(r.dir, 'open.7z');
      expect((await sevenZip(['a', '-t7z', '-bso0', '-bsp0', '--', file, join(r.dir, 'plain')], '')).code).toBe(0);
      const { torrent } = await offer(file, r.home);
      const got = await runCli(['get', torrent, '--password-stdin', '--to', join(r.dir, 'out')], {
        env: r.env,
        input: 'whatever\n',
      });
      expect(got.code, got.stderr).toBe(1);
      oneMessage(got.stderr, /open\.7z is a 7-Zip archive that is not encrypted, so it was not made by qshare add/);
      expect(existsSync(join(r.dir, 'out'))).toBe(false);
    });

    it('an archive with a ../ name is refused before anything is written; one with links leading out is unpacked without them', async () => {
      const r = await recipient();
      const work = join(r.dir, 'craft');
      await mkdir(join(work, 'top'), { recursive: true });
      await writeFile(join(work, 'top', 'ok.txt'), 'fine\n');
      await writeFile(join(work, 'top', 'up.txt'), 'pwned\n');
      await writeFile(join(r.dir, 'outside.txt'), 'outside\n');
      await symlink('ok.txt', join(work, 'top', 'good'));
      await symlink('../../../outside.txt', join(work, 'top', 'up'));
      await symlink(join(r.dir, 'outside.txt'), join(work, 'top', 'abs'));
      const pathsArchive = join(r.dir, 'climb.7z');
      const linksArchive = join(r.dir, 'links.7z');
      const mk = async (archive: string, ...names: string[]) => {
        const made = await sevenZip(
          ['a', '-t7z', '-snl', '-mhe=on', '-p', '-bso0', '-bsp0', '--', archive, ...names.map((n) => join(work, n))],
          `${PASSWORD}\n`,
        );
        expect(made.code, made.out).toBe(0);
      };
      await mk(pathsArchive, 'top/ok.txt', 'top/up.txt');
      expect(
        (await sevenZip(['rn', '-bso0', '-bsp0', '--', pathsArchive, 'up.txt', '../../pwned.txt'], `${PASSWORD}\n`))
          .code,
      ).toBe(0);
      await mk(linksArchive, 'top');

      const climb = await offer(pathsArchive, r.home);
      const refused = await runCli(['get', climb.torrent, '--password-stdin', '--to', join(r.dir, 'out1')], {
        env: r.env,
        input: `${PASSWORD}\n`,
      });
      expect(refused.code, refused.stderr).toBe(1);
      oneMessage(refused.stderr, /refusing to unpack this archive: "\.\.\/\.\.\/pwned\.txt" \(it contains "\.\."/);
      expect(existsSync(join(r.dir, 'out1'))).toBe(false);
      expect(await readdir(r.dir)).not.toContain('pwned.txt');

      const links = await offer(linksArchive, r.home);
      const ok = await runCli(['get', links.torrent, '--password-stdin', '--to', join(r.dir, 'out2'), '--json'], {
        env: r.env,
        input: `${PASSWORD}\n`,
      });
      expect(ok.code, ok.stderr).toBe(0);
      const out = JSON.parse(ok.stdout);
      expect(out.leftOut.map((l: { path: string }) => l.path).sort()).toEqual(['top/abs', 'top/up']);
      expect(Object.keys(await snapshot(join(r.dir, 'out2')))).toEqual(['top', 'top/good', 'top/ok.txt', 'top/up.txt']);
      expect((await snapshot(join(r.dir, 'out2')))['top/good']).toEqual({ type: 'link', target: 'ok.txt' });
      expect(await readFile(join(r.dir, 'outside.txt'), 'utf8')).toBe('outside\n');
    });
  },
);
