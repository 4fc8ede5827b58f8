/**
 * The whole exchange on loopback with real parts: TWO throwaway qbittorrent-nox instances (sender and recipient,
 * TCP, joined with torrents/addPeers), the built CLI, real 7-Zip. `qshare add` on the sender, `qshare get` on the
 * recipient. Trackers point at a closed loopback port: nothing leaves the machine.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, watchCmdlines } from '../helpers/cli.js';
import { hasQbitNox } from '../helpers/qbit-nox.js';
import { sharedQbitNox } from '../helpers/e2e.js';
import { api, joinPeersWhileRunning, peerHome as home, torrent } from '../helpers/two-peers.js';
import { makeAwkwardTree, pseudoRandom, snapshot } from '../helpers/tree.js';

const have7zz = existsSync('/usr/bin/7zz');

describe.skipIf(!hasQbitNox() || !have7zz)('qshare get: the whole exchange between two qBittorrents', () => {
  const sender = sharedQbitNox();
  const recipient = sharedQbitNox();

  it('add on the sender, get on the recipient: a wrong password fails cleanly, the retry unpacks the tree byte for byte', async () => {
    const s = await home(sender, 'sender');
    const r = await home(recipient, 'recipient');
    const outside = join(s.dir, 'outside-secret.txt');
    await writeFile(outside, 'never shared\n');
    const src = join(s.dir, 'Wedding Photos');
    await mkdir(src);
    await makeAwkwardTree(src, outside, 3 * 1024 * 1024);
    const before = await snapshot(src);

    const added = await runCli(['add', src, '--json'], { env: s.env });
    expect(added.code, added.stderr).toBe(0);
    const share = JSON.parse(added.stdout);
    expect(share.state).toBe('seeding');

    // 1. wrong password: exit 1, says so, the download is kept, nothing unpacked
    const target = join(r.dir, 'unpacked');
    const peers = joinPeersWhileRunning(recipient, sender, share.infoHash);
    let wrong;
    try {
      wrong = await runCli(['get', share.torrentFile, '--to', target, '--password-stdin', '--json'], {
        env: r.env,
        input: 'not the password\n',
      });
    } finally {
      peers.stop();
    }
    expect(wrong.code, wrong.stderr).toBe(1);
    expect(JSON.parse(wrong.stdout).error.code).toBe('WRONG_PASSWORD');
    expect(wrong.stderr).toMatch(/wrong password/i);
    expect(wrong.stderr).toMatch(/download is kept/);
    expect(existsSync(target)).toBe(false);
    const downloaded = join(r.home, 'downloads', share.infoHash, `${share.name}.7z`);
    expect((await readFile(downloaded)).equals(await readFile(share.archive))).toBe(true);
    const inQbit = await torrent(recipient, share.infoHash);
    expect(inQbit?.category).toBe('qshare-get');
    expect(inQbit?.progress).toBe(1);

    // 2. the same get again with the right password resumes (nothing to download) and unpacks; the password is
    //    never on a command line
    const watcher = watchCmdlines();
    const ok = await runCli(['get', share.torrentFile, '--to', target, '--password-stdin', '--json'], {
      env: r.env,
      input: `${share.password}\n`,
    });
    const cmdlines = await watcher.stop();
    expect(ok.code, ok.stderr).toBe(0);
    const out = JSON.parse(ok.stdout);
    expect(out.resumed).toBe(true);
    expect(out.unpackedTo).toBe(target);
    expect(out.seeding).toBe(true);
    expect(cmdlines.some((c) => /7zz .*\bx\b/.test(c))).toBe(true);
    for (const c of cmdlines) expect(c).not.toContain(share.password);
    const [top] = await readdir(target);
    expect(top).toBe('Wedding Photos');
    const got = await snapshot(join(target, top!));
    // the link to an absolute path outside the share is left out (it could only ever point outside the target)
    const { 'link-outside': _gone, ...expected } = before;
    expect(got).toEqual(expected);
    expect(out.leftOut).toEqual([{ path: 'Wedding Photos/link-outside', why: expect.stringMatching(/absolute/) }]);
    expect(JSON.stringify(await snapshot(r.dir))).not.toContain('never shared');

    // 3. a third run refuses to overwrite what is there, and --force replaces it
    const again = await runCli(['get', share.torrentFile, '--to', target, '--password-stdin'], {
      env: r.env,
      input: `${share.password}\n`,
    });
    expect(again.code, again.stderr).toBe(1);
    expect(again.stderr).toMatch(/refusing to overwrite/);
    await writeFile(join(target, top!, 'a/b/c/deep.txt'), 'changed locally\n');
    const forced = await runCli(
      ['get', share.torrentFile, '--to', target, '--password-stdin', '--force', '--no-seed'],
      { env: r.env, input: `${share.password}\n` },
    );
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/Removed from qBittorrent \(--no-seed\)/);
    expect(await snapshot(join(target, top!))).toEqual(expected);
    expect(await torrent(recipient, share.infoHash)).toBeUndefined();
    expect(existsSync(downloaded)).toBe(true);
  });

  it('Ctrl-C during the download: exit 130, qBittorrent keeps the torrent, the same get again resumes it', async () => {
    const s = await home(sender, 'sender');
    const r = await home(recipient, 'recipient');
    const src = join(s.dir, 'Slow');
    await mkdir(src);
    await writeFile(join(src, 's.bin'), pseudoRandom(300_000, 13));
    const added = await runCli(['add', src, '--json'], { env: s.env });
    expect(added.code, added.stderr).toBe(0);
    const share = JSON.parse(added.stdout);
    await api(sender, 'torrents/setUploadLimit', { hashes: share.infoHash, limit: '50000' });
    const peers = joinPeersWhileRunning(recipient, sender, share.infoHash);
    let first;
    try {
      first = await runCli(['get', share.magnet, '--to', join(r.dir, 'out'), '--password-stdin'], {
        env: r.env,
        input: `${share.password}\n`,
        onSpawn: (child) => {
          // One Ctrl-C only: polls overlap under load, and a second SIGINT means "exit now" by design.
          let sent = false;
          const poll = setInterval(async () => {
            const t = await torrent(recipient, share.infoHash).catch(() => undefined);
            if (!sent && t && Number(t.progress) > 0 && Number(t.progress) < 1) {
              sent = true;
              clearInterval(poll);
              child.kill('SIGINT');
            }
          }, 100);
          child.on('close', () => clearInterval(poll));
        },
      });
    } finally {
      peers.stop();
    }
    expect(first.code, first.stderr).toBe(130);
    expect(first.stderr).toMatch(/run the same qshare get again/);
    expect(await torrent(recipient, share.infoHash)).toBeDefined();
    expect(existsSync(join(r.dir, 'out'))).toBe(false);

    await api(sender, 'torrents/setUploadLimit', { hashes: share.infoHash, limit: '0' });
    const again = joinPeersWhileRunning(recipient, sender, share.infoHash);
    let second;
    try {
      second = await runCli(['get', share.magnet, '--to', join(r.dir, 'out'), '--password-stdin', '--json'], {
        env: r.env,
        input: `${share.password}\n`,
      });
    } finally {
      again.stop();
    }
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout).resumed).toBe(true);
    expect(await snapshot(join(r.dir, 'out', 'Slow'))).toEqual(await snapshot(src));
  });

  it('a magnet link of a torrent that is not a qshare archive is just downloaded', async () => {
    const s = await home(sender, 'sender');
    const r = await home(recipient, 'recipient');
    const src = join(s.dir, 'Plain');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeFile(join(src, 'sub', 'a.bin'), pseudoRandom(200_000, 5));
    await writeFile(join(src, 'b.txt'), 'plain\n');
    const added = await runCli(['add', src, '--no-encrypt', '--json'], { env: s.env });
    expect(added.code, added.stderr).toBe(0);
    const share = JSON.parse(added.stdout);
    const peers = joinPeersWhileRunning(recipient, sender, share.infoHash);
    let res;
    try {
      res = await runCli(['get', share.magnet, '--json'], { env: r.env, timeoutMs: 90_000 });
    } finally {
      peers.stop();
    }
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out.archive).toBeNull();
    expect(out.unpackedTo).toBeNull();
    expect(out.downloaded).toBe(join(r.home, 'downloads', share.infoHash, 'Plain'));
    expect(await snapshot(out.downloaded)).toEqual(await snapshot(src));
  });
});
