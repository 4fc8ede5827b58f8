/**
 * Relays through a real NAT (network namespaces, nftables): home and a friend each behind a router that drops every
 * new connection coming in, a relay (the user's own qBittorrent) and a tracker on the public side. Loopback would
 * hide exactly what this is about, so nothing here runs on 127.0.0.1 between peers: BitTorrent in each namespace is
 * bound to its NAT-side address, and qshare runs inside "home" as a user's would.
 *
 * Shown: without a relay the friend gets nothing (the NAT is real); `add --relay --handoff` gets the archive to the
 * relay, home stops and is shut down, and the friend still downloads it byte-identical with clients qshare did not
 * write (aria2c) and with `qshare get`, from the magnet link alone (x.pe, no tracker); a relay that is down, refuses
 * the login or has no room is an error of its own while home keeps seeding; `stop --delete` removes the relay's
 * copy; no password is ever on a command line.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cliEnv, watchCmdlines, type CliResult } from '../helpers/cli.js';
import { until } from '../helpers/e2e.js';
import { makeNatLab, natLabPossible, TRACKER_SCRIPT, type LabHost, type NatLab } from '../helpers/nat-lab.js';
import { hashWebuiPassword, hasQbitNox, iniString, startQbitNox, type QbitNox } from '../helpers/qbit-nox.js';
import { pseudoRandom } from '../helpers/tree.js';
import type { ShareRecord } from '../../src/state/types.js';

const run = promisify(execFile);
const mustRun = process.env.CI === 'true' || process.env.CI === '1';
const have = (bin: string) => ['/usr/bin', '/usr/local/bin'].some((d) => existsSync(join(d, bin)));
const parts = hasQbitNox() && have('7zz') && have('aria2c');
const possible = natLabPossible();

it('the NAT tests can run where they must (root, ip netns, nftables, qbittorrent-nox, 7zz, aria2c)', () => {
  if (mustRun)
    expect(
      { root: possible, parts },
      'run as root with iproute2 and nftables; install qbittorrent-nox, 7zip and aria2 (see .ci/run)',
    ).toEqual({ root: true, parts: true });
});

const TRACKER_PORT = 6969;
const timings: Record<string, number> = {};

describe.skipIf(!(possible && parts) && !mustRun)('relay through your own seedbox, across a real NAT', () => {
  let lab: NatLab;
  let tracker: ChildProcess | undefined;
  const qbs: QbitNox[] = [];
  const children: ChildProcess[] = [];
  let home: QbitNox;
  let box: QbitNox;
  let tiny: QbitNox;
  let picky: QbitNox;
  let friendQb: QbitNox;
  let fbox: QbitNox;
  let dir: string;
  let tinyDir: string;
  let homeEnv: NodeJS.ProcessEnv;
  let friendEnv: NodeJS.ProcessEnv;
  let configFile: string;
  const trackerUrl = `http://10.77.2.2:${TRACKER_PORT}/announce`;

  /** qshare run inside a namespace, as a user there would run it */
  const cli = (
    host: LabHost,
    env: NodeJS.ProcessEnv,
    args: string[],
    input?: string,
    timeoutMs = 240_000,
  ): Promise<CliResult> =>
    new Promise((resolve, reject) => {
      const [cmd, ...rest] = lab.exec(host, [process.execPath, CLI, ...args]);
      const c = spawn(cmd!, rest, { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
      c.on('error', reject);
      c.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
      c.stdin.end(input ?? '');
    });

  const torrentOf = async (qb: QbitNox, hash: string) =>
    ((await qb.api(`torrents/info?hashes=${hash}`)) as Array<Record<string, unknown>>)[0];

  /** aria2c in the friend's namespace, with the tracker only (no DHT, LPD or PeX); resolves when it exits */
  const aria2 = (torrent: string, out: string, extra: string[] = []) => {
    const [cmd, ...rest] = lab.exec(lab.friend, [
      'aria2c',
      ...extra,
      '--dir',
      out,
      '--seed-time=0',
      '--enable-dht=false',
      '--enable-dht6=false',
      '--bt-enable-lpd=false',
      '--enable-peer-exchange=false',
      '--file-allocation=none',
      '--console-log-level=warn',
      '--summary-interval=0',
      '--',
      torrent,
    ]);
    const c = spawn(cmd!, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(c);
    let log = '';
    c.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    return {
      child: c,
      exited: new Promise<{ code: number | null; log: string }>((r) => c.on('close', (code) => r({ code, log }))),
    };
  };

  const sha1 = async (f: string) =>
    createHash('sha1')
      .update(await readFile(f))
      .digest('hex');

  beforeAll(async () => {
    lab = await makeNatLab();
    dir = await mkdtemp(join(tmpdir(), 'qshare-nat-'));
    // the tracker on the public side, a process of its own inside that namespace
    const [tcmd, ...targs] = lab.exec(lab.pub, [
      process.execPath,
      '-e',
      TRACKER_SCRIPT,
      lab.pub.addr,
      String(TRACKER_PORT),
    ]);
    tracker = spawn(tcmd!, targs, { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      tracker!.stdout!.once('data', () => resolve());
      tracker!.once('exit', (c) => reject(new Error(`the test tracker exited (${c})`)));
    });
    const inNs = (h: LabHost, extra: Parameters<typeof startQbitNox>[0] = {}) =>
      startQbitNox({ netns: h.ns, bindAddress: h.addr, webuiAddress: '*', apiHost: h.mgmt, ...extra });
    // a relay with 1 MiB free: its default save path is a tiny tmpfs
    tinyDir = join(dir, 'tiny');
    await mkdir(tinyDir);
    await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', tinyDir]);
    [home, box, tiny, picky, friendQb, fbox] = await Promise.all([
      inNs(lab.home),
      inNs(lab.pub),
      inNs(lab.pub, { extraConf: { BitTorrent: { 'Session\\DefaultSavePath': iniString(tinyDir) } } }),
      inNs(lab.pub),
      inNs(lab.friend),
      // the friend's own relay
      inNs(lab.pub),
    ]);
    qbs.push(home, box, tiny, picky, friendQb, fbox);

    configFile = join(dir, 'home-config.json');
    await writeFile(
      configFile,
      JSON.stringify({ trackers: [trackerUrl], qbittorrent: { seedWaitSeconds: 60 }, managed: { autoStart: false } }),
    );
    homeEnv = cliEnv({
      QSHARE_HOME: join(dir, 'home-data'),
      QSHARE_CONFIG: configFile,
      QSHARE_SECRET_STORE: 'file',
      QSHARE_QBIT_URL: `http://127.0.0.1:${home.webuiPort}`,
      QSHARE_QBIT_PASSWORD: home.password,
    });
    await writeFile(
      join(dir, 'friend-config.json'),
      JSON.stringify({ managed: { autoStart: false }, qbittorrent: { seedWaitSeconds: 60 } }),
    );
    friendEnv = cliEnv({
      QSHARE_HOME: join(dir, 'friend-data'),
      QSHARE_CONFIG: join(dir, 'friend-config.json'),
      QSHARE_SECRET_STORE: 'file',
      QSHARE_QBIT_URL: `http://127.0.0.1:${friendQb.webuiPort}`,
      QSHARE_QBIT_PASSWORD: friendQb.password,
    });
    for (const [name, bytes] of [
      ['ctl', 3],
      ['a', 12],
      ['b', 6],
      ['c', 4],
      ['d', 5],
      ['e', 12],
    ] as const) {
      await mkdir(join(dir, 'src', name, 'photos'), { recursive: true });
      await writeFile(join(dir, 'src', name, 'photos', 'IMG_0001.jpg'), pseudoRandom(bytes * 1024 * 1024, bytes));
      await writeFile(join(dir, 'src', name, 'notes.txt'), `share ${name}\n`);
    }
  }, 120_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    tracker?.kill('SIGKILL');
    await Promise.all(qbs.map((q) => q.stop().catch(() => undefined)));
    await run('umount', [tinyDir]).catch(() => undefined);
    await lab?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
    if (Object.keys(timings).length) console.log(`relay-nat timings (s): ${JSON.stringify(timings)}`);
  }, 60_000);

  let control: { started: number; hash: string; aria: ReturnType<typeof aria2>; out: string } | undefined;

  it('control: without a relay, a friend behind the other NAT cannot reach home (watched for a minute, until the last test)', async () => {
    const r = await cli(lab.home, homeEnv, ['add', join(dir, 'src', 'ctl'), '--name', 'ctl', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const share = JSON.parse(r.stdout) as { infoHash: string; torrentFile: string };
    const out = join(dir, 'friend-ctl');
    await mkdir(out);
    control = { started: Date.now(), hash: share.infoHash, aria: aria2(share.torrentFile, out), out };
    // home did announce: the tracker knows it, so the friend is told where home is (behind its NAT)
    await until(
      'home to announce to the tracker',
      async () => {
        const trackers = (await home.api(`torrents/trackers?hash=${share.infoHash}`)) as Array<{
          url: string;
          status: number;
        }>;
        return trackers.some((t) => t.url === trackerUrl && t.status === 2);
      },
      30_000,
      250,
    );
  });

  it("login --relay: one login, the relay's address for peers from its own settings, the password in the secret store and on no command line", async () => {
    const seen = watchCmdlines();
    const started = Date.now();
    const r = await cli(
      lab.home,
      homeEnv,
      ['login', '--relay', 'box', '--url', `http://${lab.pub.addr}:${box.webuiPort}`, '--password-stdin', '--json'],
      `${box.password}\n`,
    );
    timings['login --relay'] = (Date.now() - started) / 1000;
    const small = await cli(
      lab.home,
      homeEnv,
      ['login', '--relay', 'small', '--url', `http://${lab.pub.addr}:${tiny.webuiPort}`, '--password-stdin'],
      `${tiny.password}\n`,
    );
    const p = await cli(
      lab.home,
      homeEnv,
      ['login', '--relay', 'picky', '--url', `http://${lab.pub.addr}:${picky.webuiPort}`, '--password-stdin'],
      `${picky.password}\n`,
    );
    const cmdlines = await seen.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(small.code, small.stderr).toBe(0);
    expect(p.code, p.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { peer: string; version: string; passwordKept: boolean };
    expect(out.peer).toBe(`${lab.pub.addr}:${box.torrentPort}`);
    expect(out.passwordKept).toBe(true);
    const config = await readFile(configFile, 'utf8');
    expect(JSON.parse(config).relays.box).toMatchObject({
      url: `http://${lab.pub.addr}:${box.webuiPort}`,
      username: 'admin',
      peer: `${lab.pub.addr}:${box.torrentPort}`,
    });
    for (const pw of [box.password, tiny.password, picky.password]) {
      expect(config).not.toContain(pw);
      expect(cmdlines.filter((c) => c.includes(pw))).toEqual([]);
    }
    const ls = await cli(lab.home, homeEnv, ['relay', 'ls', '--json']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(
      (JSON.parse(ls.stdout) as { relays: Array<{ name: string; answers: boolean }> }).relays.map((x) => [
        x.name,
        x.answers,
      ]),
    ).toEqual([
      ['box', true],
      ['small', true],
      ['picky', true],
    ]);
  });

  it('login --relay refuses a qBittorrent that takes peers on loopback only, and saves nothing', async () => {
    const lo = await startQbitNox({
      netns: lab.pub.ns,
      bindAddress: '127.0.0.1',
      webuiAddress: '*',
      apiHost: lab.pub.mgmt,
    });
    qbs.push(lo);
    const before = await readFile(configFile, 'utf8');
    const r = await cli(
      lab.home,
      homeEnv,
      [
        'login',
        '--relay',
        'lo',
        '--url',
        `http://${lab.pub.addr}:${lo.webuiPort}`,
        '--password-stdin',
        '--peer',
        `${lab.pub.addr}:${lo.torrentPort}`,
      ],
      `${lo.password}\n`,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /relay "lo" cannot be used: the relay's qBittorrent listens for peers on 127\.0\.0\.1 only.*Nothing was saved/,
    );
    expect(await readFile(configFile, 'utf8')).toBe(before);
    await lo.stop();
  });

  const PW_A = 'correct horse battery staple a';
  let shareA: { name: string; infoHash: string; torrentFile: string; archive: string; magnet: string; message: string };

  it("add --relay box --handoff: the relay gets the whole archive from home through home's NAT, then home stops seeding", async () => {
    const seen = watchCmdlines();
    const started = Date.now();
    const r = await cli(
      lab.home,
      homeEnv,
      ['add', join(dir, 'src', 'a'), '--name', 'share-a', '--relay', 'box', '--handoff', '--password-stdin', '--json'],
      `${PW_A}\n`,
    );
    timings['add --relay --handoff (12 MiB)'] = (Date.now() - started) / 1000;
    const cmdlines = await seen.stop();
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as typeof shareA & {
      relays: Array<{ name: string; state: string; progress: number; peer: string; error: string | null }>;
      handedOff: boolean;
    };
    shareA = out;
    expect(out.relays).toEqual([
      { name: 'box', state: 'holding', progress: 1, peer: `${lab.pub.addr}:${box.torrentPort}`, error: null },
    ]);
    // stopped at home (qBittorrent shows a state change at its next refresh)
    await until(
      'home to show share-a stopped',
      async () => /^(paused|stopped)UP$/.test(String((await torrentOf(home, out.infoHash))?.state)),
      10_000,
      200,
    );
    expect(out.handedOff).toBe(true);
    expect((await torrentOf(box, out.infoHash))?.progress).toBe(1);
    // the magnet carries the relay's address; the message for recipients does not name the relay
    expect(out.magnet).toContain(`x.pe=${encodeURIComponent(`${lab.pub.addr}:${box.torrentPort}`)}`);
    expect(out.message).not.toMatch(/\bbox\b/);
    for (const secret of [PW_A, box.password]) expect(cmdlines.filter((c) => c.includes(secret))).toEqual([]);
    const ls = JSON.parse((await cli(lab.home, homeEnv, ['ls', '--json'])).stdout) as {
      shares: Array<{ name: string; state: string; relays?: Array<{ name: string; state: string }> }>;
    };
    const a = ls.shares.find((s) => s.name === 'share-a')!;
    expect(a.state).toBe('handed-off');
    expect(a.relays).toEqual([expect.objectContaining({ name: 'box', state: 'holding' })]);
  });

  it('Ctrl-C while the relay downloads: exit 130, both sides keep running, ls shows the progress, and seed --handoff finishes it', async () => {
    // the relay downloads slowly (1 MB/s), so the interrupt lands while it is under way
    await box.api('app/setPreferences', { json: JSON.stringify({ dl_limit: 1_000_000 }) });
    try {
      const [cmd, ...rest] = lab.exec(lab.home, [
        process.execPath,
        CLI,
        'add',
        join(dir, 'src', 'e'),
        '--name',
        'share-e',
        '--relay',
        'box',
        '--handoff',
        '--json',
      ]);
      const c = spawn(cmd!, rest, { env: homeEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(c);
      let err = '';
      c.stderr!.on('data', (x: Buffer) => (err += x.toString()));
      const ended = new Promise<number | null>((res) => c.on('close', (code) => res(code)));
      // the known point: the relay lists the torrent and has some of it
      const stateFile = join(dir, 'home-data', 'state.json');
      const rec = await until(
        'share-e to be recorded',
        async () =>
          existsSync(stateFile)
            ? (JSON.parse(await readFile(stateFile, 'utf8')) as { shares: ShareRecord[] }).shares.find(
                (x) => x.name === 'share-e',
              )
            : undefined,
        60_000,
        100,
      );
      await until(
        'the relay to be downloading share-e',
        async () => {
          const t = await torrentOf(box, rec.infoHash);
          return t !== undefined && Number(t.progress) > 0 && Number(t.progress) < 0.8;
        },
        60_000,
        100,
      );
      c.kill('SIGINT');
      expect(await ended).toBe(130);
      expect(err).toMatch(/both sides keep running.*qshare seed share-e --handoff/);
      // home still seeds, the relay goes on
      expect(['uploading', 'stalledUP', 'forcedUP']).toContain(String((await torrentOf(home, rec.infoHash))?.state));
      const ls = JSON.parse((await cli(lab.home, homeEnv, ['ls', '--json'])).stdout) as {
        shares: Array<{ name: string; relays?: Array<{ name: string; state: string; progress: number }> }>;
      };
      expect(ls.shares.find((x) => x.name === 'share-e')!.relays).toEqual([
        expect.objectContaining({ name: 'box', state: expect.stringMatching(/^(uploading|holding)$/) }),
      ]);
    } finally {
      await box.api('app/setPreferences', { json: JSON.stringify({ dl_limit: 0 }) });
    }
    const fin = await cli(lab.home, homeEnv, ['seed', 'share-e', '--handoff', '--json']);
    expect(fin.code, fin.stderr).toBe(0);
    expect(JSON.parse(fin.stdout)).toMatchObject({
      handedOff: true,
      relays: [expect.objectContaining({ name: 'box', state: 'holding', progress: 1 })],
    });
  }, 180_000);

  let shareB: { name: string; infoHash: string; magnet: string };

  it('--recipients 1 through a relay: the relay downloading from home is no recipient; the friend the relay serves is, and seeding stops there', async () => {
    const r = await cli(lab.home, homeEnv, [
      'add',
      join(dir, 'src', 'd'),
      '--name',
      'share-d',
      '--relay',
      'box',
      '--handoff',
      '--recipients',
      '1',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout) as { infoHash: string; torrentFile: string; archive: string; handedOff: boolean };
    expect(d.handedOff).toBe(true);
    // home sent the relay the whole file: that counts for nobody
    const before = (
      JSON.parse((await cli(lab.home, homeEnv, ['ls', '--json'])).stdout) as {
        shares: Array<{ name: string; state: string; completedPeers: number }>;
      }
    ).shares.find((x) => x.name === 'share-d')!;
    expect(before).toMatchObject({ state: 'handed-off', completedPeers: 0 });

    // someone looks continuously (as watch does): seed --until-done, which does not start seeding at home again
    const [cmd, ...rest] = lab.exec(lab.home, [process.execPath, CLI, 'seed', 'share-d', '--until-done', '--json']);
    const watcher = spawn(cmd!, rest, { env: homeEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(watcher);
    let out = '';
    let err = '';
    watcher.stdout!.on('data', (x: Buffer) => (out += x.toString()));
    watcher.stderr!.on('data', (x: Buffer) => (err += x.toString()));
    const ended = new Promise<{ code: number | null; at: number }>((res) =>
      watcher.on('close', (code) => res({ code, at: Date.now() })),
    );
    const stateFile = join(dir, 'home-data', 'state.json');
    await until(
      'the watcher to take its first look',
      async () =>
        (JSON.parse(await readFile(stateFile, 'utf8')) as { shares: ShareRecord[] }).shares.find(
          (x) => x.name === 'share-d' && x.watchedAt,
        ),
      30_000,
      100,
    );

    const got = join(dir, 'friend-d');
    await mkdir(got);
    const a = await aria2(d.torrentFile, got).exited;
    const finished = Date.now();
    expect(a.code, a.log).toBe(0);
    expect(await sha1(join(got, 'share-d.7z'))).toBe(await sha1(d.archive));
    const e = await Promise.race([
      ended,
      new Promise<{ code: null; at: number }>((res) => setTimeout(() => res({ code: null, at: Date.now() }), 30_000)),
    ]);
    timings['--recipients 1 via the relay: stopped after the friend finished'] = (e.at - finished) / 1000;
    expect(e.code, `${out}\n${err}`).toBe(0);
    expect(e.at - finished).toBeLessThan(10_000);
    expect(JSON.parse(out)).toMatchObject({ state: 'done', completedPeers: 1 });
    // stopped on the relay too, and still not seeding at home
    await until(
      'the relay to stop share-d',
      async () => /^(paused|stopped)UP$/.test(String((await torrentOf(box, d.infoHash))?.state)),
      10_000,
      200,
    );
    expect(String((await torrentOf(home, d.infoHash))?.state)).toMatch(/^(paused|stopped)UP$/);
  }, 150_000);

  it('add --relay box --handoff with no tracker that answers: the magnet link alone (x.pe) names the relay', async () => {
    const started = Date.now();
    const r = await cli(lab.home, homeEnv, [
      'add',
      join(dir, 'src', 'b'),
      '--name',
      'share-b',
      '--relay',
      'box',
      '--handoff',
      '--tracker',
      `http://${lab.pub.addr}:1/announce`,
      '--json',
    ]);
    timings['add --relay --handoff, no tracker (6 MiB)'] = (Date.now() - started) / 1000;
    expect(r.code, r.stderr).toBe(0);
    shareB = JSON.parse(r.stdout) as typeof shareB;
    expect(shareB.magnet).toContain('x.pe=');
    expect((await torrentOf(box, shareB.infoHash))?.progress).toBe(1);
  });

  it('a relay that is down, one that refuses the login and one without room: each its own error, exit 4, and home keeps seeding', async () => {
    // "down": paired, then nothing answers there; "picky": its Web UI password changed since it was paired
    const cfg = JSON.parse(await readFile(configFile, 'utf8')) as { relays: Record<string, unknown> };
    cfg.relays.down = { url: `http://${lab.pub.addr}:2`, username: 'admin', peer: `${lab.pub.addr}:3` };
    await writeFile(configFile, JSON.stringify(cfg));
    // killed, not stopped: qBittorrent writes its settings back when it quits, over the change
    await picky.kill();
    const conf = await readFile(picky.confPath, 'utf8');
    await writeFile(
      picky.confPath,
      conf.replace(
        /^WebUI\\Password_PBKDF2=.*$/m,
        `WebUI\\Password_PBKDF2=${iniString(await hashWebuiPassword('a different password'))}`,
      ),
    );
    await picky.restart();

    const started = Date.now();
    const r = await cli(lab.home, homeEnv, [
      'add',
      join(dir, 'src', 'c'),
      '--name',
      'share-c',
      '--relay',
      'box',
      '--relay',
      'down',
      '--relay',
      'picky',
      '--relay',
      'small',
      '--json',
    ]);
    timings['add with 3 failing relays'] = (Date.now() - started) / 1000;
    expect(r.code, r.stderr).toBe(4);
    const out = JSON.parse(r.stdout) as {
      infoHash: string;
      state: string;
      relays: Array<{ name: string; state: string; error: string | null; hint?: string }>;
    };
    expect(out.state).toBe('seeding');
    const by = Object.fromEntries(out.relays.map((x) => [x.name, x]));
    expect(by.box!.state).not.toBe('error');
    expect(by.down).toMatchObject({
      state: 'error',
      error: expect.stringMatching(/^relay "down": nothing is listening at/),
    });
    expect(by.picky).toMatchObject({
      state: 'error',
      error: expect.stringMatching(/^relay "picky": .*refused the login/),
    });
    expect(by.picky!.hint).toMatch(/qshare login --relay picky/);
    expect(by.small).toMatchObject({
      state: 'error',
      error: expect.stringMatching(/^relay "small": it has 1\.\d MB free and the share is 4\.\d MB$/),
    });
    expect(r.stderr).toContain('still seeds here');
    // still seeding at home: an active upload state, the whole file
    const t = await torrentOf(home, out.infoHash);
    expect(['uploading', 'stalledUP', 'forcedUP', 'queuedUP']).toContain(String(t?.state));
    expect(t?.progress).toBe(1);
    expect(await torrentOf(tiny, out.infoHash)).toBeUndefined();
  });

  it('seed NAME seeds a handed-off share here again; seed NAME --handoff hands it off again', async () => {
    const again = await cli(lab.home, homeEnv, ['seed', 'share-a', '--json']);
    expect(again.code, again.stderr).toBe(0);
    await until(
      'home to seed share-a again',
      async () =>
        ['uploading', 'stalledUP', 'forcedUP'].includes(String((await torrentOf(home, shareA.infoHash))?.state)),
      20_000,
      200,
    );
    const shown = JSON.parse((await cli(lab.home, homeEnv, ['show', 'share-a', '--json'])).stdout) as {
      handedOffAt: string | null;
      relays: Array<{ name: string; state: string }>;
    };
    expect(shown.handedOffAt).toBeNull();
    expect(shown.relays).toEqual([expect.objectContaining({ name: 'box', state: 'holding' })]);
    const off = await cli(lab.home, homeEnv, ['seed', 'share-a', '--handoff', '--json']);
    expect(off.code, off.stderr).toBe(0);
    expect(JSON.parse(off.stdout)).toMatchObject({ state: 'handed-off', handedOff: true });
    expect(String((await torrentOf(home, shareA.infoHash))?.state)).toMatch(/^(paused|stopped)UP$/);
  });

  it('doctor: one line per relay, from home through its NAT (answers, login, free disk, the peer port opens)', async () => {
    const r = await cli(lab.home, homeEnv, ['doctor', '--json']);
    const checks = (JSON.parse(r.stdout) as { checks: Array<{ id: string; status: string; detail: string }> }).checks;
    const by = Object.fromEntries(checks.filter((c) => c.id.startsWith('relay:')).map((c) => [c.id, c]));
    // libtorrent counts no incoming connection from private addresses, so the relay here says "firewalled": a warning,
    // since its port does open from home (through home's NAT), which is what recipients need
    expect(by['relay:box']).toMatchObject({
      status: expect.stringMatching(/^(ok|warn)$/),
      detail: expect.stringContaining(`${lab.pub.addr}:${box.torrentPort} opens from here`),
    });
    expect(by['relay:small']).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/; 1 MiB free;/),
      fix: expect.stringMatching(/free space on the relay/),
    });
    expect(by['relay:picky']).toMatchObject({ status: 'fail', detail: expect.stringMatching(/refused the login/) });
    expect(by['relay:down']).toMatchObject({ status: 'fail', detail: expect.stringMatching(/nothing is listening/) });
  });

  it("stop --delete removes the share from the relay too, with the relay's copy of that torrent's files only", async () => {
    const c = await torrentOf(
      box,
      (JSON.parse((await cli(lab.home, homeEnv, ['show', 'share-c', '--json'])).stdout) as { infoHash: string })
        .infoHash,
    );
    expect(c).toBeDefined();
    const savePath = String(c!.save_path);
    const r = await cli(lab.home, homeEnv, ['stop', 'share-c', '--delete', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { relays: unknown[] }).relays).toEqual([
      { name: 'box', removed: true, error: null },
    ]);
    await until(
      'the relay to forget share-c',
      async () => (await torrentOf(box, String(c!.hash))) === undefined,
      20_000,
      200,
    );
    await until('the relay to delete share-c.7z', async () => !existsSync(join(savePath, 'share-c.7z')), 20_000, 200);
    expect(existsSync(join(savePath, 'share-a.7z'))).toBe(true);
  });

  it('watch with defaultRelays: a dropped folder is shared here and handed to the relay, with nobody running add', async () => {
    const cfg = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
    delete (cfg.relays as Record<string, unknown>).down;
    const watchConfig = join(dir, 'watch-config.json');
    await writeFile(watchConfig, JSON.stringify({ ...cfg, defaultRelays: ['box'], watch: { settleSeconds: 1 } }));
    const drop = join(dir, 'ToShare');
    let dropped: ShareRecord | undefined;
    await mkdir(drop);
    const [cmd, ...rest] = lab.exec(lab.home, [process.execPath, CLI, 'watch', drop]);
    const w = spawn(cmd!, rest, {
      env: { ...homeEnv, QSHARE_CONFIG: watchConfig },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(w);
    let log = '';
    w.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise((r) => w.on('close', r));
    try {
      const staged = join(dir, 'Dropped');
      await mkdir(staged);
      await writeFile(join(staged, 'v.mp4'), pseudoRandom(2 * 1024 * 1024, 77));
      await rename(staged, join(drop, 'Dropped'));
      const stateFile = join(dir, 'home-data', 'state.json');
      const started = Date.now();
      const rec = await until(
        'watch to share the folder and hand it to the relay',
        async () =>
          (JSON.parse(await readFile(stateFile, 'utf8')) as { shares: ShareRecord[] }).shares.find(
            (x) => x.source.endsWith('Dropped') && x.relays?.[0]?.added,
          ),
        90_000,
        250,
      ).catch((e: Error) => Promise.reject(new Error(`${e.message}\n--- watch log ---\n${log}`)));
      timings['watch: drop → relay holds the torrent (2 MiB)'] = (Date.now() - started) / 1000;
      expect(rec.relays![0]).toMatchObject({ name: 'box', added: true });
      expect(rec.relays![0]!.state).not.toBe('error');
      expect(rec.magnet).toContain('x.pe=');
      await until(
        'the relay to have the whole dropped folder',
        async () => (await torrentOf(box, rec.infoHash))?.progress === 1,
        60_000,
        250,
      );
      dropped = rec;
    } finally {
      w.kill('SIGTERM');
      await exited;
    }
    // home sent the relay the whole file, and the relay told the tracker it completed: neither makes it a recipient
    await until(
      "the tracker to count the relay's completed download",
      async () => {
        // home learns the count at its next announce: ask for one now (the tracker allows one a second)
        await home.api('torrents/reannounce', { hashes: dropped!.infoHash });
        await new Promise((r) => setTimeout(r, 1000));
        const trackers = (await home.api(`torrents/trackers?hash=${dropped!.infoHash}`)) as Array<{
          url: string;
          num_downloaded: number;
        }>;
        return trackers.some((t) => t.url === trackerUrl && t.num_downloaded >= 1);
      },
      30_000,
      250,
    );
    const ls = JSON.parse((await cli(lab.home, homeEnv, ['ls', '--json'])).stdout) as {
      shares: Array<{
        id: string;
        state: string;
        completedPeers: number;
        signals: { peers: number; uploadedTo: number; tracker: number | null };
      }>;
    };
    expect(ls.shares.find((x) => x.id === dropped!.id)).toMatchObject({
      state: 'seeding',
      completedPeers: 0,
      signals: { peers: 0, uploadedTo: 0, tracker: 0 },
    });
  });

  it('login --relay NAME --remove forgets a relay: its entry, its place in defaultRelays and its kept password', async () => {
    const secrets = join(dir, 'home-data', 'secrets.json');
    expect(await readFile(secrets, 'utf8')).toContain(tiny.password);
    const r = await cli(lab.home, homeEnv, ['login', '--relay', 'small', '--remove']);
    expect(r.code, r.stderr).toBe(0);
    const cfg = JSON.parse(await readFile(configFile, 'utf8')) as { relays: Record<string, unknown> };
    expect(Object.keys(cfg.relays)).not.toContain('small');
    expect(await readFile(secrets, 'utf8')).not.toContain(tiny.password);
    // the others stay; one that does not answer makes relay ls exit 4
    const ls = await cli(lab.home, homeEnv, ['relay', 'ls', '--json']);
    expect(ls.code).toBe(4);
    expect(
      (JSON.parse(ls.stdout) as { relays: Array<{ name: string; answers: boolean }> }).relays
        .map((x) => `${x.name}:${x.answers}`)
        .sort(),
    ).toEqual(['box:true', 'down:false', 'picky:false']);
  });

  it('control, a minute on: the friend got nothing from home, and home sent it nothing', async () => {
    const c = control!;
    expect(c).toBeDefined();
    const waited = Date.now() - c.started;
    if (waited < 60_000) await new Promise((r) => setTimeout(r, 60_000 - waited));
    expect(c.aria.child.exitCode).toBeNull(); // still waiting for a peer
    expect(Number((await torrentOf(home, c.hash))?.uploaded)).toBe(0);
    c.aria.child.kill('SIGTERM');
    const done = await c.aria.exited;
    expect(done.log).not.toMatch(/Download complete/);
  }, 120_000);

  it('get --relay: both sides behind NAT and no relay at home, the friend gets the control share through a relay of its own', async () => {
    const pair = await cli(
      lab.friend,
      friendEnv,
      ['login', '--relay', 'fbox', '--url', `http://${lab.pub.addr}:${fbox.webuiPort}`, '--password-stdin'],
      `${fbox.password}\n`,
    );
    expect(pair.code, pair.stderr).toBe(0);
    const ctl = JSON.parse((await cli(lab.home, homeEnv, ['show', 'ctl', '--json'])).stdout) as {
      password: string;
      torrentFile: string;
      infoHash: string;
    };
    // home learns of the friend's relay at its next announce (every 30 min or more on a real tracker; here: asked
    // for), then connects out to it, as it would to any peer: the NAT lets that through
    let going = true;
    const nudging = (async () => {
      while (going) {
        await home.api('torrents/reannounce', { hashes: ctl.infoHash }).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 2000));
      }
    })();
    const to = join(dir, 'friend-ctl-relay');
    const started = Date.now();
    const r = await cli(
      lab.friend,
      friendEnv,
      ['get', ctl.torrentFile, '--relay', 'fbox', '--to', to, '--password-stdin', '--json'],
      `${ctl.password}\n`,
      240_000,
    ).finally(() => {
      going = false;
    });
    await nudging;
    timings['get --relay, sender behind NAT without a relay (3 MiB)'] = (Date.now() - started) / 1000;
    expect(r.code, r.stderr).toBe(0);
    const got = (await readdir(to, { recursive: true })).filter((f) => f.endsWith('IMG_0001.jpg'));
    expect(got).toHaveLength(1);
    expect(await sha1(join(to, got[0]!))).toBe(await sha1(join(dir, 'src', 'ctl', 'photos', 'IMG_0001.jpg')));
    // it came through the relay: the relay has it whole and sent the friend's qBittorrent its bytes
    expect((await torrentOf(fbox, ctl.infoHash))?.progress).toBe(1);
    // (qBittorrent refreshes a torrent's totals every second or two)
    await until(
      "the friend's relay to show what it sent",
      async () => Number((await torrentOf(fbox, ctl.infoHash))?.uploaded) > 0,
      15_000,
      250,
    );
  }, 300_000);

  it('home shut down: the friend behind the other NAT still gets share-a from the relay with aria2c, byte-identical, and it opens with 7zz and the password', async () => {
    await home.stop();
    const out = join(dir, 'friend-a');
    await mkdir(out);
    const started = Date.now();
    const a = aria2(shareA.torrentFile, out);
    const done = await a.exited;
    timings['friend aria2c, home off (12 MiB)'] = (Date.now() - started) / 1000;
    expect(done.code, done.log).toBe(0);
    expect(await sha1(join(out, 'share-a.7z'))).toBe(await sha1(shareA.archive));
    const t = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const c = spawn('7zz', ['t', '-bso1', '--', join(out, 'share-a.7z')], { stdio: ['pipe', 'pipe', 'pipe'] });
      let o = '';
      c.stdout.on('data', (d: Buffer) => (o += d.toString()));
      c.stderr.on('data', (d: Buffer) => (o += d.toString()));
      c.on('close', (code) => resolve({ code, out: o }));
      c.stdin.end(`${PW_A}\n`);
    });
    expect(t.code, t.out).toBe(0);
    expect(t.out).toContain('Everything is Ok');
  });

  it('home shut down, no tracker: qshare get with the magnet link alone reaches the relay (x.pe) and unpacks share-b', async () => {
    const pw = (
      JSON.parse((await cli(lab.home, homeEnv, ['show', 'share-b', '--json'])).stdout) as { password: string }
    ).password;
    const to = join(dir, 'friend-b');
    const started = Date.now();
    const r = await cli(
      lab.friend,
      friendEnv,
      ['get', shareB.magnet, '--to', to, '--password-stdin', '--no-seed', '--json'],
      `${pw}\n`,
      150_000,
    );
    timings['friend qshare get, magnet only, home off (6 MiB)'] = (Date.now() - started) / 1000;
    if (r.code !== 0)
      console.log(
        JSON.stringify(
          {
            stderr: r.stderr,
            torrents: await friendQb.api('torrents/info'),
            relayPeers: await box.api(`sync/torrentPeers?hash=${shareB.infoHash}&rid=0`),
            log: (await friendQb.appLog()).slice(-3000),
          },
          null,
          1,
        ),
      );
    expect(r.code, r.stderr).toBe(0);
    const got = (await readdir(to, { recursive: true })).filter((f) => f.endsWith('IMG_0001.jpg'));
    expect(got).toHaveLength(1);
    expect(await sha1(join(to, got[0]!))).toBe(await sha1(join(dir, 'src', 'b', 'photos', 'IMG_0001.jpg')));
  }, 180_000);
});
