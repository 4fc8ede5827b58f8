/**
 * qBittorrent failing under `qshare add`: killed between the torrent and the add (a real qbittorrent-nox, SIGKILL),
 * a Web UI port that accepts connections and never answers, and one that answers the login but never the add. Every
 * wait is bounded by qbittorrent.timeoutSeconds, the words say what happened, the share is kept whole (archive,
 * .torrent, record) with exit 3, and `qshare seed` finishes it once qBittorrent is back.
 */
import { existsSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { e2eSetup, ls, qbTorrents, sharedQbitNox, sharesIn, until } from '../helpers/e2e.js';
import { hasQbitNox } from '../helpers/qbit-nox.js';
import { pseudoRandom } from '../helpers/tree.js';

const have7zz = existsSync('/usr/bin/7zz');

async function source(dir: string, bytes: number, seed: number): Promise<string> {
  const src = join(dir, 'Photos');
  await mkdir(src);
  await writeFile(join(src, 'a.bin'), pseudoRandom(bytes, seed));
  return src;
}

/** The share is kept whole and recorded as not seeding. */
async function keptNotSeeding(
  home: string,
  out: { name: string; archive: string; torrentFile: string },
): Promise<void> {
  expect(await ls(join(home, 'archives'))).toEqual([`${out.name}.7z`]);
  expect(await ls(join(home, 'torrents'))).toEqual([`${out.name}.torrent`]);
  expect((await sharesIn(home)).map((s) => [s.name, s.state])).toEqual([[out.name, 'not-seeding']]);
  expect(await ls(join(home, 'pending'))).toEqual([]);
}

describe.skipIf(!hasQbitNox() || !have7zz)(
  'qBittorrent killed between the torrent and the add (real qbittorrent-nox)',
  () => {
    const nox = sharedQbitNox();

    it('exit 3 with the reason and `qshare seed <name>`; the share is kept; after a restart `qshare seed` seeds it', async () => {
      const qb = nox;
      const s = await e2eSetup(qb);
      const src = await source(s.dir, 16 * 1024 * 1024, 41);
      const r = await runCli(['add', src, '--json', '--level', '1'], {
        env: s.env,
        // logged in before archiving; killed while 7-Zip runs, so it is gone when the torrent is handed over
        onSpawn: () =>
          void until('the partial archive', async () =>
            (await ls(join(s.home, 'archives'))).some((f) => f.includes('.partial-')),
          ).then(() => qb.kill()),
      });
      expect(r.code, r.stderr).toBe(3);
      const out = JSON.parse(r.stdout);
      expect(out.state).toBe('not-seeding');
      expect(out.error.code).toBe('QBIT_UNREACHABLE');
      expect(out.error.message).toContain(`nothing is listening at ${qb.url}`);
      expect(r.stderr).toContain(`run: qshare seed ${out.name}`);
      await keptNotSeeding(s.home, out);

      await qb.restart();
      const again = await runCli(['seed', out.name], { env: s.env });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain(`"${out.name}" is seeding`);
      const [t] = await qbTorrents(qb, out.infoHash);
      expect(t?.progress).toBe(1);
      expect((await sharesIn(s.home))[0]!.state).toBe('seeding');
    }, 120_000);
  },
);

describe.skipIf(!have7zz)('qBittorrent answering slowly or not at all (a local server that never answers)', () => {
  let silent: Server;
  let silentPort: number;
  const sockets = new Set<Socket>();
  /** connections the silent server has accepted so far (a test waits for its own, not an earlier test's) */
  let accepted = 0;
  let slow: HttpServer;
  let slowPort: number;
  const seen: string[] = [];
  let dies: HttpServer;
  let diesPort: number;

  beforeAll(async () => {
    // accepts every connection and never says a word
    silent = createServer((sock) => {
      accepted++;
      sockets.add(sock);
      sock.on('error', () => {});
      sock.on('close', () => sockets.delete(sock));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    silentPort = (silent.address() as { port: number }).port;
    // a Web UI that needs no login (the localhost bypass) and answers everything but the add
    slow = createHttpServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      if (req.url === '/api/v2/app/version') return void res.end('v4.5.2');
      if (req.url === '/api/v2/app/webapiVersion') return void res.end('2.8.19');
      // torrents/add and anything else: never answered
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    slowPort = (slow.address() as { port: number }).port;
    // a Web UI that answers, then dies in the middle of the add: the connection closes with no answer
    dies = createHttpServer((req, res) => {
      req.resume();
      if (req.url === '/api/v2/app/version') return void res.end('v4.5.2');
      if (req.url === '/api/v2/app/webapiVersion') return void res.end('2.8.19');
      if (req.url?.startsWith('/api/v2/torrents/add')) return void req.socket.destroy();
      res.end('Ok.');
    });
    await new Promise<void>((r) => dies.listen(0, '127.0.0.1', r));
    diesPort = (dies.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    slow?.closeAllConnections();
    dies?.closeAllConnections();
    await Promise.all([
      new Promise((r) => silent?.close(r)),
      new Promise((r) => slow?.close(r)),
      new Promise((r) => dies?.close(r)),
    ]);
  });

  it('add: each wait ends after qbittorrent.timeoutSeconds with clear words; the share is kept (exit 3)', async () => {
    const s = await e2eSetup(null, { qbittorrent: { timeoutSeconds: 1 } });
    s.env.QSHARE_QBIT_URL = `http://127.0.0.1:${silentPort}`;
    const src = await source(s.dir, 1024 * 1024, 42);
    const t0 = Date.now();
    const r = await runCli(['add', src, '--json'], { env: s.env, timeoutMs: 60_000 });
    const secs = (Date.now() - t0) / 1000;
    expect(r.code, r.stderr).toBe(3);
    const out = JSON.parse(r.stdout);
    expect(out.error.code).toBe('QBIT_UNREACHABLE');
    expect(out.error.message).toBe(
      `qBittorrent at http://127.0.0.1:${silentPort} did not answer within 1 s: check the address, and that qBittorrent is not frozen or busy (raise qbittorrent.timeoutSeconds for a slow machine)`,
    );
    // the first try (before archiving) said it would go on and try again at the end
    expect(r.stderr).toContain('did not answer within 1 s: check the address');
    expect(r.stderr).toContain('qshare will make the archive anyway and try again at the end');
    expect(secs).toBeLessThan(15);
    await keptNotSeeding(s.home, out);

    // the other commands are bounded too
    const t1 = Date.now();
    const seed = await runCli(['seed', out.name], { env: s.env, timeoutMs: 60_000 });
    expect(seed.code).toBe(3);
    expect(seed.stderr).toContain('did not answer within 1 s');
    const list = await runCli(['ls', '--json'], { env: s.env, timeoutMs: 60_000 });
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).qbittorrent.error.message).toContain('did not answer within 1 s');
    expect((Date.now() - t1) / 1000).toBeLessThan(15);
  }, 90_000);

  it('Ctrl-C while connecting to it: exit 130 at once (not after the timeout), nothing made', async () => {
    const s = await e2eSetup(null, { qbittorrent: { timeoutSeconds: 30 } });
    s.env.QSHARE_QBIT_URL = `http://127.0.0.1:${silentPort}`;
    const src = await source(s.dir, 1024 * 1024, 44);
    let sentAt = 0;
    const before = accepted;
    const r = await runCli(['add', src], {
      env: s.env,
      timeoutMs: 60_000,
      // the known point: this qshare's own connection is open, and it waits for an answer that never comes
      onSpawn: (child) =>
        void until('the connection', async () => accepted > before).then(() => {
          sentAt = Date.now();
          child.kill('SIGINT');
        }),
    });
    expect(r.code, r.stderr).toBe(130);
    expect(Date.now() - sentAt).toBeLessThan(3000);
    expect(r.stderr).toContain('qshare: interrupted while connecting to qBittorrent; nothing was made');
    expect(await ls(s.home)).toEqual([]);
  }, 60_000);

  it('add: qBittorrent dies in the middle of the add → it says so, with no guess about HTTPS (exit 3)', async () => {
    const s = await e2eSetup(null);
    s.env.QSHARE_QBIT_URL = `http://127.0.0.1:${diesPort}`;
    const src = await source(s.dir, 64 * 1024, 44);
    const r = await runCli(['add', src, '--json'], { env: s.env, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(3);
    const out = JSON.parse(r.stdout);
    expect(out.error.code).toBe('QBIT_UNREACHABLE');
    expect(out.error.message).toMatch(
      /closed the connection in the middle of a request: it may have quit, crashed or restarted; check that it is running \(qshare doctor\)/,
    );
    expect(out.error.message).not.toMatch(/HTTPS/);
    await keptNotSeeding(s.home, out);
  }, 60_000);

  it('add: qBittorrent answers the login but never the add → the add times out with clear words (exit 3)', async () => {
    const s = await e2eSetup(null, { qbittorrent: { timeoutSeconds: 1 } });
    s.env.QSHARE_QBIT_URL = `http://127.0.0.1:${slowPort}`;
    const src = await source(s.dir, 1024 * 1024, 43);
    const t0 = Date.now();
    const r = await runCli(['add', src, '--json'], { env: s.env, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(3);
    const out = JSON.parse(r.stdout);
    expect(out.error.code).toBe('QBIT_UNREACHABLE');
    expect(out.error.message).toContain(`did not answer within 1 s`);
    expect(seen).toContain('POST /api/v2/torrents/add');
    expect((Date.now() - t0) / 1000).toBeLessThan(15);
    await keptNotSeeding(s.home, out);
  }, 90_000);
});
