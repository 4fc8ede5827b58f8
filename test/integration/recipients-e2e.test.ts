/**
 * Know who has it: `--recipients N` with recipients on clients qshare did not write — aria2c, which quits the
 * moment it completes, and transmission-daemon — counted from every signal qBittorrent gives (peers seen, bytes
 * sent, whole files sent to peers nobody saw, the tracker's completed count). Proven here: the share stops within
 * 10 s of the last recipient finishing; nobody is counted twice (two clients behind one address count twice, one
 * client restarting counts once); a download killed half way does not count; `qshare watch` stops its own shares.
 * Real qbittorrent-nox as the sender, a tiny open tracker on 127.0.0.1, everything on loopback; qBittorrent's ratio
 * limit (the safety net) is turned off so that only qshare's count can stop a share.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { ShareRecord } from '../../src/state/types.js';
import { CLI, runCli } from '../helpers/cli.js';
import { e2eSetup, sharedQbitNox, until } from '../helpers/e2e.js';
import { freePort } from '../helpers/ports.js';
import { hasQbitNox } from '../helpers/qbit-nox.js';
import { startTracker, type TestTracker } from '../helpers/tracker.js';
import { pseudoRandom } from '../helpers/tree.js';

const mustRun = process.env.CI === 'true' || process.env.CI === '1';
const have = (bin: string) => ['/usr/bin', '/usr/local/bin'].some((d) => existsSync(join(d, bin)));
const ready =
  hasQbitNox() && have('7zz') && have('aria2c') && have('transmission-daemon') && have('transmission-remote');

it('the recipients these tests use are installed where the tests must run', () => {
  if (mustRun) expect(ready, 'install qbittorrent-nox, 7zip, aria2 and transmission-daemon (see .ci/run)').toBe(true);
});

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

interface Aria2 {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number; log: string }>;
}

/** aria2c as a recipient that quits at completion: no DHT, LPD or PeX; only the tracker. `exited` says when it ended. */
function aria2(torrentFile: string, dir: string, extra: string[] = []): Aria2 {
  let child!: ChildProcess;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number; log: string }>(
    (resolve) => {
      const c = spawn(
        'aria2c',
        [
          ...extra,
          '--dir',
          dir,
          '--seed-time=0',
          '--enable-dht=false',
          '--enable-dht6=false',
          '--bt-enable-lpd=false',
          '--enable-peer-exchange=false',
          '--bt-external-ip=127.0.0.1',
          '--console-log-level=warn',
          '--summary-interval=0',
          '--',
          torrentFile,
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      children.push(c);
      child = c;
      let log = '';
      c.stdout!.on('data', (d: Buffer) => (log += d.toString()));
      c.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      c.on('close', (code, signal) => resolve({ code, signal, at: Date.now(), log }));
    },
  );
  return { child, exited };
}

/** transmission-daemon on loopback with its own config (no DHT, LPD, PeX, port forwarding); RPC without auth on 127.0.0.1. */
async function transmission(
  dir: string,
): Promise<{ rpc: string; peerPort: number; download: string; remote(...a: string[]): Promise<string> }> {
  const conf = join(dir, 'conf');
  const download = join(dir, 'download');
  await mkdir(conf, { recursive: true });
  await mkdir(download, { recursive: true });
  const rpcPort = await freePort();
  const peerPort = await freePort();
  await writeFile(
    join(conf, 'settings.json'),
    JSON.stringify({
      'download-dir': download,
      'incomplete-dir-enabled': false,
      'dht-enabled': false,
      'lpd-enabled': false,
      'pex-enabled': false,
      'utp-enabled': false,
      'port-forwarding-enabled': false,
      'peer-port': peerPort,
      'peer-port-random-on-start': false,
      'bind-address-ipv4': '127.0.0.1',
      'rpc-bind-address': '127.0.0.1',
      'rpc-port': rpcPort,
      'rpc-authentication-required': false,
      'rpc-whitelist-enabled': false,
      'rpc-host-whitelist-enabled': false,
      'ratio-limit-enabled': false,
      'message-level': 1,
    }),
  );
  const c = spawn('transmission-daemon', ['-f', '-g', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(c);
  const rpc = `127.0.0.1:${rpcPort}`;
  const remote = (...a: string[]) =>
    new Promise<string>((resolve, reject) => {
      const r = spawn('transmission-remote', [rpc, ...a], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      r.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      r.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      r.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(out))));
    });
  await until(
    'transmission-daemon to answer',
    () =>
      remote('-l').then(
        () => true,
        () => false,
      ),
    20_000,
    100,
  );
  return { rpc, peerPort, download, remote };
}

interface Until {
  exited: Promise<{ code: number | null; at: number; stdout: string; stderr: string }>;
}

function untilDone(env: NodeJS.ProcessEnv, name: string): Until {
  const c = spawn(process.execPath, [CLI, 'seed', name, '--until-done', '--json'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(c);
  let stdout = '';
  let stderr = '';
  c.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return { exited: new Promise((r) => c.on('close', (code) => r({ code, at: Date.now(), stdout, stderr }))) };
}

describe.skipIf(!ready && !mustRun)('--recipients counts any client (aria2c, transmission-daemon)', () => {
  const qb = sharedQbitNox();
  let tracker: TestTracker;
  beforeAll(async () => {
    tracker = await startTracker();
  });
  afterAll(async () => {
    await tracker?.close();
  });

  async function share(recipients: number, label: string) {
    const s = await e2eSetup(qb, { trackers: [tracker.url] }, `qshare-recipients-${label}-`);
    dirs.push(s.dir);
    const src = join(s.dir, 'Wedding');
    await mkdir(src);
    await writeFile(join(src, 'a.jpg'), pseudoRandom(6_000_000, 11));
    await writeFile(join(src, 'b.jpg'), pseudoRandom(2_000_000, 12));
    const add = await runCli(['add', src, '--recipients', String(recipients), '--json'], { env: s.env });
    expect(add.code, add.stderr).toBe(0);
    const out = JSON.parse(add.stdout) as { name: string; infoHash: string; archive: string; torrentFile: string };
    return { ...s, ...out, recipients };
  }

  /** `seed --until-done` sets the share limits again as it starts: once it has, turn the safety net off. */
  async function netOff(sh: { infoHash: string; recipients: number }): Promise<void> {
    await until(
      'seed --until-done to set the share limits',
      async () =>
        ((await qb.api(`torrents/info?hashes=${sh.infoHash}`)) as Array<{ ratio_limit: number }>)[0]?.ratio_limit ===
        sh.recipients,
      30_000,
      50,
    );
    await qb.api('torrents/setShareLimits', { hashes: sh.infoHash, ratioLimit: '-1', seedingTimeLimit: '-1' });
    await until(
      'the ratio limit to be off',
      async () =>
        ((await qb.api(`torrents/info?hashes=${sh.infoHash}`)) as Array<{ ratio_limit: number }>)[0]?.ratio_limit ===
        -1,
      10_000,
      50,
    );
  }

  type Share = {
    dir: string;
    env: NodeJS.ProcessEnv;
    name: string;
    infoHash: string;
    archive: string;
    torrentFile: string;
  };

  /** transmission-daemon downloads it; resolves with when it had the whole, byte-identical archive. */
  async function transmissionRecipient(sh: Share): Promise<number> {
    const want = readFileSync(sh.archive);
    const t = await transmission(join(sh.dir, 'transmission'));
    await t.remote('-a', sh.torrentFile);
    const f = join(t.download, `${sh.name}.7z`);
    // transmission does not dial peers a tracker lists at 127.x: the sender dials it
    return until(
      'transmission-daemon to have the whole archive',
      async () => {
        if (existsSync(f) && statSync(f).size === want.length && readFileSync(f).equals(want)) return Date.now();
        await qb
          .api('torrents/addPeers', { hashes: sh.infoHash, peers: `127.0.0.1:${t.peerPort}` })
          .catch(() => undefined);
        return undefined;
      },
      90_000,
      100,
    );
  }

  /** aria2c downloads it and quits; resolves with when it ended, having the whole, byte-identical archive. */
  async function aria2Recipient(sh: Share, a: Aria2 = aria2(sh.torrentFile, join(sh.dir, 'aria2'))): Promise<number> {
    const ar = await a.exited;
    expect(ar.code, ar.log).toBe(0);
    expect(readFileSync(join(sh.dir, 'aria2', `${sh.name}.7z`)).equals(readFileSync(sh.archive))).toBe(true);
    return ar.at;
  }

  /** Both recipients download it at once; resolves with when the later of them had it. */
  async function twoRecipients(sh: Share): Promise<number> {
    const [a, t] = await Promise.all([aria2Recipient(sh), transmissionRecipient(sh)]);
    return Math.max(a, t);
  }

  /** The process's exit if it comes by `deadline` (ms since the epoch), else undefined. */
  function exitBy<T>(exited: Promise<T>, deadline: number): Promise<T | undefined> {
    return Promise.race([
      exited,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), Math.max(0, deadline - Date.now()))),
    ]);
  }

  async function stateOf(hash: string): Promise<string> {
    return ((await qb.api(`torrents/info?hashes=${hash}`)) as Array<{ state: string }>)[0]!.state;
  }

  /** The sender's connections for this torrent now, with the bytes it sent each. */
  async function senderPeers(hash: string): Promise<Array<{ uploaded: number; client: string }>> {
    const r = (await qb.api(`sync/torrentPeers?hash=${hash}&rid=0`)) as {
      peers?: Record<string, { uploaded: number; client: string }>;
    };
    return Object.values(r.peers ?? {});
  }

  /** The share as `ls --json` shows it. */
  async function lsShare(env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
    return (JSON.parse((await runCli(['ls', '--json'], { env })).stdout) as { shares: Array<Record<string, unknown>> })
      .shares[0]!;
  }

  it('N=2, aria2c and transmission-daemon behind one address: both count, and seeding stops within 10 s of the second finishing', async () => {
    const sh = await share(2, 'two');
    const watch = untilDone(sh.env, sh.name);
    await netOff(sh);
    const [aDone, tDone] = await Promise.all([aria2Recipient(sh), transmissionRecipient(sh)]);
    const lastDone = Math.max(aDone, tDone);
    const ended = await exitBy(watch.exited, lastDone + 10_000);
    expect(ended, 'seed --until-done was still seeding 10 s after the second recipient finished').toBeDefined();
    // aria2c's time is its exit; transmission's is when this test saw the whole archive on disk (polled every 100 ms)
    console.log(
      `recipients: aria2c ended ${aDone - lastDone} ms and transmission-daemon was seen complete ${tDone - lastDone} ms from the later; seed --until-done exited ${ended!.at - lastDone} ms after it`,
    );
    expect(ended!.code, ended!.stderr).toBe(0);
    expect(JSON.parse(ended!.stdout)).toMatchObject({ name: sh.name, state: 'done', completedPeers: 2, recipients: 2 });
    await until(
      'qBittorrent to show it stopped',
      async () => /^(pausedUP|stoppedUP)$/.test(await stateOf(sh.infoHash)),
      10_000,
      100,
    );
    const row = await lsShare(sh.env);
    expect(row).toMatchObject({ state: 'done', completedPeers: 2, completedUnknown: false });
    // each signal counts each recipient once at most
    const sig = row.signals as { peers: number; uploadedTo: number; tracker: number | null };
    expect(Math.max(sig.peers, sig.uploadedTo, sig.tracker ?? 0)).toBe(2);
  }, 180_000);

  it('N=2: a download killed half way does not count, the same client restarting counts once, and a second client ends it', async () => {
    const sh = await share(2, 'restart');
    const size = statSync(sh.archive).size;
    const watch = untilDone(sh.env, sh.name);
    await netOff(sh);
    // slow enough that the kill comes half way, at a point the sender itself reports
    await qb.api('torrents/setUploadLimit', { hashes: sh.infoHash, limit: '1500000' });
    const first = aria2(sh.torrentFile, join(sh.dir, 'aria2'));
    await until(
      'the sender to have sent aria2c half the archive',
      async () => (await senderPeers(sh.infoHash)).some((p) => p.uploaded >= size / 2),
      60_000,
      50,
    );
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    await until(
      'the sender to see aria2c gone',
      async () => (await senderPeers(sh.infoHash)).length === 0,
      30_000,
      100,
    );
    // every signal has had its time (the reannounces after a peer leaves end 10 s later): nobody has it
    expect(await exitBy(watch.exited, Date.now() + 12_000)).toBeUndefined();
    expect(await lsShare(sh.env)).toMatchObject({ state: 'seeding', completedPeers: 0 });

    // the same aria2c again, at full speed, resuming from what it has
    await qb.api('torrents/setUploadLimit', { hashes: sh.infoHash, limit: '0' });
    const again = await aria2Recipient(sh, aria2(sh.torrentFile, join(sh.dir, 'aria2'), ['--check-integrity=true']));
    expect(await exitBy(watch.exited, again + 12_000), 'the restarted client was counted twice').toBeUndefined();
    expect(await lsShare(sh.env)).toMatchObject({ state: 'seeding', completedPeers: 1 });

    const last = await transmissionRecipient(sh);
    const ended = await exitBy(watch.exited, last + 10_000);
    expect(ended, 'seed --until-done was still seeding 10 s after the second recipient finished').toBeDefined();
    expect(JSON.parse(ended!.stdout)).toMatchObject({ state: 'done', completedPeers: 2, recipients: 2 });
  }, 240_000);

  it('watch with recipients: 1 in the config: a dropped folder, one recipient, and the share stops with nobody running ls', async () => {
    const s = await e2eSetup(
      qb,
      { trackers: [tracker.url], watch: { settleSeconds: 1, recipients: 1 } },
      'qshare-recipients-watch-',
    );
    dirs.push(s.dir);
    const env = { ...s.env, QSHARE_SECRET_STORE: 'file' };
    const drop = join(s.dir, 'ToShare');
    await mkdir(drop);
    const w = spawn(process.execPath, [CLI, 'watch', drop], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(w);
    let log = '';
    w.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const wExited = new Promise((r) => w.on('close', r));
    onTestFailed(() => console.error(`--- qshare watch log ---\n${log}`));
    // the folder appears whole: made next to the drop folder, then moved in
    const staged = join(s.dir, 'Photos');
    await mkdir(staged);
    await writeFile(join(staged, 'p.jpg'), pseudoRandom(3_000_000, 21));
    await rename(staged, join(drop, 'Photos'));
    const stateFile = join(s.home, 'state.json');
    const shares = async () =>
      existsSync(stateFile) ? (JSON.parse(await readFile(stateFile, 'utf8')) as { shares: ShareRecord[] }).shares : [];
    const rec = await until(
      'watch to share the folder',
      async () => (await shares()).find((r) => r.state === 'seeding'),
      60_000,
      200,
    );
    expect(rec.recipients).toBe(1);
    await netOff({ infoHash: rec.infoHash, recipients: 1 });
    // the known point: watch has taken its first look at the new share (it notes watchedAt then)
    await until(
      'watch to look at the new share',
      async () => (await shares()).find((r) => r.id === rec.id && r.watchedAt),
      30_000,
      100,
    );

    const finished = await aria2Recipient({
      dir: s.dir,
      env,
      name: rec.name,
      infoHash: rec.infoHash,
      archive: rec.archive!,
      torrentFile: rec.torrentFile,
    });
    const done = await until(
      'watch to stop the share',
      async () => (await shares()).find((r) => r.id === rec.id && r.doneAt),
      30_000,
      100,
    );
    expect(Date.parse(done.doneAt!) - finished).toBeLessThan(10_000);
    await until(
      'qBittorrent to show it stopped',
      async () => /^(pausedUP|stoppedUP)$/.test(await stateOf(rec.infoHash)),
      10_000,
      100,
    );
    w.kill('SIGTERM');
    await wExited;
  }, 180_000);

  it('N=3 and only two recipients: it keeps seeding', async () => {
    const sh = await share(3, 'three');
    const watch = untilDone(sh.env, sh.name);
    await netOff(sh);
    const lastDone = await twoRecipients(sh);
    // long enough for every signal to have arrived: the reannounces after a peer leaves end 10 s later
    const early = await exitBy(watch.exited, lastDone + 15_000);
    expect(early, `seed --until-done ended: ${early?.stdout} ${early?.stderr}`).toBeUndefined();
    const t = (await qb.api(`torrents/info?hashes=${sh.infoHash}`)) as Array<{ state: string }>;
    expect(t[0]!.state).toMatch(/UP$|^uploading$/);
    const ls = JSON.parse((await runCli(['ls', '--json'], { env: sh.env })).stdout) as {
      shares: Array<Record<string, unknown>>;
    };
    expect(ls.shares[0]).toMatchObject({ state: 'seeding', recipients: 3, completedUnknown: false });
    // never more than there were: no signal counts a recipient twice (the same peer on two signals, two trackers)
    expect(ls.shares[0]!.completedPeers as number).toBeLessThanOrEqual(2);
  }, 180_000);
});
