/**
 * src/qbit against a REAL throwaway qbittorrent-nox 4.5.2 on 127.0.0.1 (test/helpers/qbit-nox.ts).
 * The torrents are made here with the mktorrent CLI from a small file already in place, then handed over with
 * skip_checking, as qshare does.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import bencode from 'bencode';
import { describe, expect, it } from 'vitest';
import { QshareError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { connectQbit } from '../../src/qbit/connect.js';
import type { SeedRequest } from '../../src/qbit/payload.js';
import type { QbitSession } from '../../src/qbit/session.js';
import { hasQbitNox, type QbitNox } from '../helpers/qbit-nox.js';
import { sharedQbitNox } from '../helpers/e2e.js';

const run = promisify(execFile);
const log = silentLogger();

interface Made {
  torrent: Buffer;
  infoHash: string;
  /** folder that holds the file (the save path) */
  dir: string;
  file: string;
}

/** A ~200 KiB file in `dir` and a single-file v1 torrent of it (mktorrent, 32 KiB pieces, no tracker). */
async function makeShare(dir: string, name: string): Promise<Made> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, name);
  await writeFile(file, randomBytes(200 * 1024));
  const out = path.join(dir, '..', `${name}.torrent`);
  await run('mktorrent', ['-d', '-l', '15', '-t', '1', '-o', out, '--', file]);
  const torrent = await readFile(out);
  const top = bencode.decode(torrent) as { info: unknown };
  const infoHash = createHash('sha1').update(bencode.encode(top.info)).digest('hex');
  return { torrent, infoHash, dir, file };
}

function request(m: Made, name: string): SeedRequest {
  return {
    torrent: m.torrent,
    fileName: `${name}.torrent`,
    savePath: m.dir,
    category: 'qshare-test',
    tags: ['qshare', 'it'],
  };
}

/** GET with a fresh (successful) login of the helper, outside the adapter: to look at what qBittorrent stored. */
async function peek<T>(
  qb: QbitNox,
  pathAndQuery: string,
  init: { method?: string; body?: URLSearchParams } = {},
): Promise<T> {
  const cookie = await qb.login();
  const res = await fetch(`${qb.url}/api/v2/${pathAndQuery}`, { ...init, headers: { cookie } });
  const text = await res.text();
  return (text.startsWith('[') || text.startsWith('{') ? JSON.parse(text) : text) as T;
}

/** A plain TCP relay from a new local port to `port`: the Host header then names a port qBittorrent does not own. */
async function relay(port: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((down) => {
    const up = net.connect(port, '127.0.0.1');
    sockets.add(down).add(up);
    down.pipe(up).on('error', () => {});
    up.pipe(down).on('error', () => {});
    down.on('error', () => up.destroy());
    up.on('error', () => down.destroy());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address() as net.AddressInfo;
  return {
    port: addr.port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

/** Messages of qBittorrent's own log (a separate login, which also resets its failure counter). */
async function qbitLog(qb: QbitNox): Promise<string[]> {
  const cookie = await qb.login();
  const res = await fetch(`${qb.url}/api/v2/log/main?normal=true&info=true&warning=true&critical=true`, {
    headers: { cookie },
  });
  const entries = (await res.json()) as Array<{ message: string }>;
  return entries.map((e) => e.message);
}

describe.skipIf(!hasQbitNox())('qbit adapter against qbittorrent-nox 4.5.2', () => {
  const qb = sharedQbitNox();
  let session: QbitSession;

  it('connects with the right credentials and reads the versions', async () => {
    session = await connectQbit({ url: qb.url, username: qb.username, password: qb.password, log });
    expect(session.appVersion).toBe('v4.5.2');
    expect(session.apiVersion).toEqual({ major: 2, minor: 8, patch: 19 });
  });

  it('a wrong password → QBIT_AUTH, after exactly one login attempt', async () => {
    const before = (await qbitLog(qb)).filter((m) => m.includes('WebAPI login failure')).length;
    let caught: unknown;
    try {
      await connectQbit({ url: qb.url, username: qb.username, password: 'definitely-wrong', log });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(QshareError);
    expect((caught as QshareError).code).toBe('QBIT_AUTH');
    expect((caught as QshareError).message).not.toContain('definitely-wrong');
    const failures = (await qbitLog(qb)).filter((m) => m.includes('WebAPI login failure'));
    expect(failures.length - before).toBe(1);
  });

  it('no password while qBittorrent wants one → QBIT_AUTH "needs a password", and no login attempt', async () => {
    const before = (await qbitLog(qb)).filter((m) => m.includes('WebAPI login')).length;
    await expect(connectQbit({ url: qb.url, log })).rejects.toMatchObject({
      code: 'QBIT_AUTH',
      message: expect.stringMatching(/needs a password/),
    });
    // the only new login lines are qbitLog's own successful one
    const after = (await qbitLog(qb)).filter((m) => m.includes('WebAPI login'));
    expect(after.length - before).toBe(1);
    expect(after.at(-1)).toMatch(/WebAPI login success/);
  });

  it('adds data already in place with skip_checking and sees it seed; adding again → already-present; remove()', async () => {
    const m = await makeShare(path.join(qb.downloadsDir, 'it-seed', 'holiday'), 'holiday.7z');
    expect(await session.addForSeeding(request(m, 'holiday'), m.infoHash)).toBe('added');
    const t = await session.waitUntilSeeding(m.infoHash, { timeoutMs: 30_000, savePathHint: m.dir });
    expect(t.progress).toBe(1);
    expect(['stalledUP', 'uploading', 'queuedUP', 'forcedUP']).toContain(t.state);
    expect(t.hash).toBe(m.infoHash);
    expect(path.resolve(t.savePath)).toBe(path.resolve(m.dir));
    // the form was understood: category, tags, no automatic management
    const [stored] = await peek<Array<{ category: string; tags: string; auto_tmm: boolean }>>(
      qb,
      `torrents/info?hashes=${m.infoHash}`,
    );
    expect(stored).toMatchObject({ category: 'qshare-test', auto_tmm: false });
    expect(stored?.tags.split(/,\s*/).sort()).toEqual(['it', 'qshare']);

    // paused by hand → waitUntilSeeding resumes it (4.x: torrents/resume through the library)
    await peek(qb, 'torrents/pause', { method: 'POST', body: new URLSearchParams({ hashes: m.infoHash }) });
    for (let i = 0; i < 50 && (await session.getTorrent(m.infoHash))?.state !== 'pausedUP'; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect((await session.getTorrent(m.infoHash))?.state).toBe('pausedUP');
    const resumed = await session.waitUntilSeeding(m.infoHash, { timeoutMs: 30_000, pollMs: 300, savePathHint: m.dir });
    expect(['stalledUP', 'uploading']).toContain(resumed.state);

    expect(await session.addForSeeding(request(m, 'holiday'), m.infoHash)).toBe('already-present');

    await session.remove(m.infoHash, false);
    let gone = false;
    for (let i = 0; i < 50 && !gone; i++) {
      gone = (await session.getTorrent(m.infoHash)) === undefined;
      if (!gone) await new Promise((r) => setTimeout(r, 100));
    }
    expect(gone).toBe(true);
    // deleteFiles=false kept the data
    await expect(readFile(m.file)).resolves.toHaveLength(200 * 1024);
  });

  it('data missing where the save path says → QBIT_MISSING_FILES naming the path', async () => {
    const m = await makeShare(path.join(qb.downloadsDir, 'it-missing', 'gone'), 'gone.7z');
    await rm(m.file);
    expect(await session.addForSeeding(request(m, 'gone'), m.infoHash)).toBe('added');
    let caught: unknown;
    try {
      await session.waitUntilSeeding(m.infoHash, { timeoutMs: 30_000, savePathHint: m.dir });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(QshareError);
    expect((caught as QshareError).code).toBe('QBIT_MISSING_FILES');
    expect((caught as QshareError).message).toContain(
      `qBittorrent cannot see ${m.dir}: if it runs in Docker or on another machine, set qbittorrent.pathMap`,
    );
    await session.remove(m.infoHash, false);
  });

  it('reached through a port qBittorrent does not own (Docker -p 18080:8080) → QBIT_FORBIDDEN, no login attempt', async () => {
    const r = await relay(qb.webuiPort);
    try {
      const before = (await qbitLog(qb)).filter((m) => m.includes('WebAPI login')).length;
      await expect(
        connectQbit({ url: `http://127.0.0.1:${r.port}`, username: qb.username, password: qb.password, log }),
      ).rejects.toMatchObject({
        code: 'QBIT_FORBIDDEN',
        message: expect.stringMatching(/Host header validation/),
      });
      const after = (await qbitLog(qb)).filter((m) => m.includes('WebAPI login')).length;
      expect(after - before).toBe(1); // qbitLog's own login only
    } finally {
      await r.close();
    }
  });

  it('a file that is not a torrent → QBIT_REJECTED (415)', async () => {
    const req: SeedRequest = {
      torrent: Buffer.from('this is not bencode'),
      fileName: 'junk.torrent',
      savePath: qb.downloadsDir,
      category: 'qshare-test',
      tags: [],
    };
    await expect(session.addForSeeding(req, 'cd'.repeat(20))).rejects.toMatchObject({
      code: 'QBIT_REJECTED',
      message: expect.stringMatching(/not a valid torrent file/),
    });
  });
});

describe.skipIf(!hasQbitNox())('qbit adapter against a qbittorrent-nox that bans after 1 failure', () => {
  const qb = sharedQbitNox({ extraConf: { Preferences: { 'WebUI\\MaxAuthenticationFailCount': '1' } } });

  it('wrong password → QBIT_AUTH; the next run, even with the right password → QBIT_BANNED', async () => {
    await expect(
      connectQbit({ url: qb.url, username: qb.username, password: 'definitely-wrong', log }),
    ).rejects.toMatchObject({ code: 'QBIT_AUTH' });
    const e = await connectQbit({ url: qb.url, username: qb.username, password: qb.password, log }).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(QshareError);
    expect((e as QshareError).code).toBe('QBIT_BANNED');
    expect((e as QshareError).message).toMatch(/1 hour by default/);
  });
});
