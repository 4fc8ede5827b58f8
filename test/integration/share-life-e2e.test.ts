/**
 * A share's life on the sender, with the built CLI and a real qbittorrent-nox on loopback: ls, show (--qr), stop,
 * seed again, stop --delete; then "seed until they all have it" with a second qbittorrent-nox as the recipient.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFailed } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { hasQbitNox, type QbitNox } from '../helpers/qbit-nox.js';
import { api, joinPeersWhileRunning, peerHome, torrent } from '../helpers/two-peers.js';

// the opt-in plain-text secret store, so `show` can give the password back without a keychain
const home = (qb: QbitNox, label: string) => peerHome(qb, label, { secrets: { store: 'file' } });
import { pseudoRandom, snapshot } from '../helpers/tree.js';
import { sharedQbitNox } from '../helpers/e2e.js';

const have7zz = existsSync('/usr/bin/7zz');

describe.skipIf(!hasQbitNox() || !have7zz)('a share on the sender: ls, show, stop', () => {
  const sender = sharedQbitNox();

  it("ls and show report it; stop keeps the files, stop --delete removes only qshare's own", async () => {
    const s = await home(sender, 'life');
    const src = join(s.dir, 'Holiday');
    await mkdir(src);
    await writeFile(join(src, 'a.bin'), pseudoRandom(300_000, 9));
    const before = await snapshot(src);
    const added = JSON.parse((await runCli(['add', src, '--json'], { env: s.env })).stdout);
    expect(added.state).toBe('seeding');

    const ls = await runCli(['ls', '--json'], { env: s.env });
    expect(ls.code, ls.stderr).toBe(0);
    const [row] = JSON.parse(ls.stdout).shares;
    expect(row).toMatchObject({
      name: added.name,
      state: 'seeding',
      peers: 0,
      completedPeers: 0,
      recipients: null,
      uploaded: 0,
    });
    const human = await runCli(['ls'], { env: s.env });
    expect(human.stdout).toMatch(
      new RegExp(
        `^NAME\\s+SIZE\\s+STATE\\s+PEERS\\s+UPLOADED\\s+RATIO\\s+HAVE IT\\n${added.name}\\s+\\S+ kB\\s+seeding\\s+0\\s+0 B\\s+0\\.00\\s+unknown \\(nobody was watching\\)$`,
        'm',
      ),
    );
    expect(human.stdout).toContain('peers are not people');

    const show = await runCli(['show', added.name, '--json'], { env: s.env });
    expect(show.code, show.stderr).toBe(0);
    const shown = JSON.parse(show.stdout);
    expect(shown).toMatchObject({ magnet: added.magnet, torrentFile: added.torrentFile, password: added.password });
    expect(shown.message).toContain(added.magnet);
    expect(shown.message).not.toContain(added.password);
    const qr = await runCli(['show', added.id, '--qr'], { env: s.env });
    expect(qr.code, qr.stderr).toBe(0);
    expect(qr.stdout).toContain(`Password:     ${added.password}`);
    expect(qr.stdout).toMatch(/[▀▄█]{10,}/);
    expect((await runCli(['show', added.name, '--qr', '--json'], { env: s.env })).code).toBe(2);
    expect((await runCli(['show', 'no-such-share'], { env: s.env })).code).toBe(1);

    const stop = await runCli(['stop', added.name], { env: s.env });
    expect(stop.code, stop.stderr).toBe(0);
    expect(await torrent(sender, added.infoHash)).toBeUndefined();
    expect(existsSync(added.archive)).toBe(true);
    expect(JSON.parse((await runCli(['ls', '--json'], { env: s.env })).stdout).shares[0].state).toBe('stopped');

    expect((await runCli(['seed', added.name], { env: s.env })).code).toBe(0);
    expect(await torrent(sender, added.infoHash)).toBeDefined();
    const del = await runCli(['stop', added.name, '--delete', '--json'], { env: s.env });
    expect(del.code, del.stderr).toBe(0);
    expect(JSON.parse(del.stdout)).toMatchObject({
      removedFromQbittorrent: true,
      deleted: [added.archive, added.torrentFile],
      forgotten: true,
    });
    expect(existsSync(added.archive)).toBe(false);
    expect(existsSync(added.torrentFile)).toBe(false);
    expect(await snapshot(src)).toEqual(before);
    expect(JSON.parse((await runCli(['ls', '--json'], { env: s.env })).stdout).shares).toEqual([]);
    expect(JSON.parse((await runCli(['show', added.id, '--json'], { env: s.env })).stdout).error.code).toBe(
      'NOT_FOUND',
    );
  });

  it('stop --delete of a --no-encrypt share deletes the .torrent only, never the shared folder', async () => {
    const s = await home(sender, 'plain');
    const src = join(s.dir, 'Plain');
    await mkdir(src);
    await writeFile(join(src, 'x.txt'), 'x\n');
    const added = JSON.parse((await runCli(['add', src, '--no-encrypt', '--json'], { env: s.env })).stdout);
    const del = await runCli(['stop', added.name, '--delete', '--json'], { env: s.env });
    expect(del.code, del.stderr).toBe(0);
    expect(JSON.parse(del.stdout).deleted).toEqual([added.torrentFile]);
    expect(existsSync(join(src, 'x.txt'))).toBe(true);
  });
});

describe.skipIf(!hasQbitNox() || !have7zz)('seed until they all have it (two qbittorrent-nox)', () => {
  const sender = sharedQbitNox();
  const recipient = sharedQbitNox();

  it('--recipients 1: share limits set, the completed peer is seen, seeding stops by itself', async () => {
    const s = await home(sender, 'until');
    const r = await home(recipient, 'until-r');
    const src = join(s.dir, 'Gift');
    await mkdir(src);
    await writeFile(join(src, 'g.bin'), pseudoRandom(40_000, 11));
    const added = await runCli(['add', src, '--recipients', '1', '--expire', '48h', '--json'], { env: s.env });
    expect(added.code, added.stderr).toBe(0);
    const share = JSON.parse(added.stdout);
    const t0 = await torrent(sender, share.infoHash);
    // the safety net: qBittorrent's own limits for this torrent (ratio 1, 48 h = 2880 min)
    expect(t0).toMatchObject({ ratio_limit: 1, seeding_time_limit: 2880 });
    // slow the upload so the recipient spends seconds one piece from the end, where qshare can see it
    await api(sender, 'torrents/setUploadLimit', { hashes: share.infoHash, limit: '6000' });

    const started = Date.now();
    const marks: string[] = [];
    onTestFailed(async () => {
      const [sent, got] = await Promise.all([
        torrent(sender, share.infoHash).catch(String),
        torrent(recipient, share.infoHash).catch(String),
      ]);
      const peers = await api(sender, `sync/torrentPeers?hash=${share.infoHash}&rid=0`).catch(String);
      console.error(
        `--- after ${Date.now() - started} ms: ${marks.join('; ')}\nsender: ${JSON.stringify(sent)}\nrecipient: ${JSON.stringify(got)}\nsender peers: ${JSON.stringify(peers)}`,
      );
    });
    const watching = runCli(['seed', share.name, '--until-done', '--json'], { env: s.env, timeoutMs: 90_000 });
    void watching.then((w) =>
      marks.push(`seed --until-done exited ${w.code} at ${Date.now() - started} ms: ${w.stderr.slice(0, 2000)}`),
    );
    const peers = joinPeersWhileRunning(recipient, sender, share.infoHash);
    let got;
    try {
      got = await runCli(['get', share.torrentFile, '--to', join(r.dir, 'out'), '--password-stdin', '--json'], {
        env: r.env,
        input: `${share.password}\n`,
        timeoutMs: 90_000,
      });
    } finally {
      peers.stop();
    }
    marks.push(`get exited ${got.code} at ${Date.now() - started} ms`);
    expect(got.code, got.stderr).toBe(0);
    expect(await snapshot(join(r.dir, 'out', 'Gift'))).toEqual(await snapshot(src));

    const watched = await watching;
    expect(watched.code, watched.stderr).toBe(0);
    expect(JSON.parse(watched.stdout)).toMatchObject({
      name: share.name,
      state: 'done',
      completedPeers: 1,
      recipients: 1,
    });
    // qBittorrent refreshes torrent states about every 1.5 s
    let stateNow = '';
    for (let i = 0; i < 20 && !/^(pausedUP|stoppedUP)$/.test(stateNow); i++) {
      stateNow = String((await torrent(sender, share.infoHash))?.state);
      await new Promise((res) => setTimeout(res, 250));
    }
    expect(stateNow).toMatch(/^(pausedUP|stoppedUP)$/);

    const ls = JSON.parse((await runCli(['ls', '--json'], { env: s.env })).stdout).shares[0];
    expect(ls).toMatchObject({ state: 'done', completedPeers: 1, recipients: 1, expireMinutes: 2880 });
    expect(ls.doneAt).toEqual(expect.any(String));
    // only digests of the peers are kept, never their addresses
    const rec = JSON.parse(await readFile(join(s.home, 'state.json'), 'utf8')).shares[0];
    expect(rec.completedPeers).toEqual([expect.stringMatching(/^[0-9a-f]{16}$/)]);
    const { trackers: _t, magnet: _m, ...rest } = rec;
    expect(JSON.stringify(rest)).not.toContain('127.0.0.1');
  });
});
