/**
 * `npm run bench:swarm`: why BitTorrent. One sender, its upload capped at U, shares S; four recipients start at once
 * and the time until all four have it is reported as a multiple of S/U (a one-to-one transfer to each needs 4 ×),
 * with how much the sender uploaded (S × the copies it sent). Recipients: two `qshare get`, each on its own
 * qbittorrent-nox, and two aria2c that stay open after they finish (as a person's client does). Everything on
 * 127.0.0.1 with a small open tracker (test/helpers/tracker.ts); no DHT, no PeX, no LSD.
 *
 *   npm run bench:swarm -- [--size 64M] [--rate 4M] [--runs 3] [--variants default,super,super-first]
 *
 * Variants are per-torrent settings on the sender, applied right after `qshare add`:
 * - default: what qshare does;
 * - super: qBittorrent's super seeding for the whole run;
 * - super-first: super seeding until the recipients together hold one whole copy (the sum of their progress as the
 *   sender's peer list shows it reaches 1), then off.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import bencode from 'bencode';
import { startQbitNox, type QbitNox } from '../test/helpers/qbit-nox.js';
import { startTracker, type TestTracker } from '../test/helpers/tracker.js';
import { median, parseSize } from './report.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CLI = join(REPO, 'dist/cli/main.js');
const PASSWORD = 'swarm-bench-password';

/** Variants that change the sender's qBittorrent settings (not per torrent: qshare would have to ask the user). */
const SENDER_PREFS: Record<string, Record<string, number | boolean>> = {
  'slots-1': { max_uploads_per_torrent: 1 },
  'slots-2': { max_uploads_per_torrent: 2 },
  'fastest-upload': { upload_choking_algorithm: 1 },
  'anti-leech': { upload_choking_algorithm: 2 },
  suggest: { send_upload_piece_suggestions: true },
};

interface Options {
  size: number;
  rate: number;
  runs: number;
  variants: string[];
}

function options(argv: string[]): Options {
  const get = (n: string) => {
    const i = argv.indexOf(`--${n}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    size: parseSize(get('size') ?? '64M'),
    rate: parseSize(get('rate') ?? '4M'),
    runs: Number(get('runs') ?? 3),
    variants: (get('variants') ?? 'default,super,super-first').split(','),
  };
}

const log = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function env(home: string, config: string, qb: QbitNox): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(e)) if (k.startsWith('QSHARE_') || k === 'NODE_EXTRA_CA_CERTS') delete e[k];
  return {
    ...e,
    NO_COLOR: '1',
    QSHARE_HOME: home,
    QSHARE_CONFIG: config,
    QSHARE_SECRET_STORE: 'none',
    QSHARE_QBIT_URL: qb.url,
    QSHARE_QBIT_USERNAME: qb.username,
    QSHARE_QBIT_PASSWORD: qb.password,
  };
}

function exec(
  cmd: string,
  args: string[],
  e: NodeJS.ProcessEnv,
  input = '',
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done) => {
    const c = spawn(cmd, args, { env: e, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('close', (code) => done({ code, out, err }));
    c.stdin.end(input);
  });
}

interface TorrentInfo {
  progress: number;
  uploaded: number;
  availability?: number;
  num_complete?: number;
}

async function info(qb: QbitNox, hash: string): Promise<TorrentInfo | undefined> {
  const list = (await qb.api(`torrents/info?hashes=${hash}`)) as TorrentInfo[];
  return list[0];
}

/** The recipients' progress as the sender sees its peers: the sum of their progress (2.0 = two whole copies). */
async function peerCopies(qb: QbitNox, hash: string): Promise<number> {
  const r = (await qb.api(`sync/torrentPeers?hash=${hash}&rid=0`)) as { peers?: Record<string, { progress: number }> };
  return Object.values(r.peers ?? {}).reduce((n, p) => n + p.progress, 0);
}

interface RunResult {
  variant: string;
  /** seconds until all four had it, as a multiple of size / rate */
  multiple: number;
  /** what the sender uploaded, as a multiple of size */
  uploaded: number;
  /** each recipient's time as a multiple of size / rate */
  each: number[];
}

async function oneRun(o: Options, variant: string, tracker: TestTracker, work: string): Promise<RunResult> {
  const dir = await mkdtemp(join(work, `${variant}-`));
  const children: ChildProcess[] = [];
  const daemons: QbitNox[] = [];
  try {
    const config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ trackers: [tracker.url], qbittorrent: { seedWaitSeconds: 60 } }));
    const [sender, r1, r2] = await Promise.all([startQbitNox(), startQbitNox(), startQbitNox()]);
    daemons.push(sender, r1, r2);
    // the cap applies on loopback too (qBittorrent exempts LAN peers from limits unless told otherwise)
    await sender.api('app/setPreferences', { json: JSON.stringify({ up_limit: o.rate, limit_lan_peers: true }) });
    const src = join(dir, 'Photos');
    await mkdir(src);
    await writeFile(join(src, 'album.bin'), randomBytes(o.size));
    const add = await exec(
      process.execPath,
      [CLI, 'add', src, '--json', '--password-stdin'],
      env(join(dir, 's'), config, sender),
      `${PASSWORD}\n`,
    );
    if (add.code !== 0) throw new Error(`qshare add: ${add.err}`);
    const share = JSON.parse(add.out) as { infoHash: string; torrentFile: string; archive: string };
    const size = (await stat(share.archive)).size;
    const meta = bencode.decode(await readFile(share.torrentFile)) as { info: { 'piece length': number } };
    const pieces = Math.ceil(size / meta.info['piece length']);
    const ariaLog = (i: number) => join(dir, `aria${i}.log`);
    if (variant.startsWith('super'))
      await sender.api('torrents/setSuperSeeding', { hashes: share.infoHash, value: 'true' });
    const prefs = SENDER_PREFS[variant];
    if (prefs) await sender.api('app/setPreferences', { json: JSON.stringify(prefs) });

    const t0 = performance.now();
    const done: (number | undefined)[] = [undefined, undefined, undefined, undefined];
    const gets = [r1, r2].map((qb, i) => {
      const c = spawn(
        process.execPath,
        [CLI, 'get', share.torrentFile, '--password-stdin', '--to', join(dir, `out${i}`), '--json'],
        {
          env: env(join(dir, `r${i}`), config, qb),
          stdio: ['pipe', 'ignore', 'pipe'],
        },
      );
      c.stdin.end(`${PASSWORD}\n`);
      children.push(c);
      return c;
    });
    for (const i of [0, 1]) {
      const d = join(dir, `aria${i}`);
      const c = spawn(
        'aria2c',
        [
          '--dir',
          d,
          '--seed-time=600',
          '--seed-ratio=0',
          '--enable-dht=false',
          '--enable-dht6=false',
          '--bt-enable-lpd=false',
          '--enable-peer-exchange=false',
          '--bt-external-ip=127.0.0.1',
          `--listen-port=${46000 + i * 10}-${46009 + i * 10}`,
          '--console-log-level=warn',
          `--log=${ariaLog(i)}`,
          '--log-level=info',
          '--summary-interval=0',
          '--',
          share.torrentFile,
        ],
        { stdio: 'ignore' },
      );
      children.push(c);
    }
    let superOff = variant !== 'super-first';
    const deadline = t0 + (8 * o.size * 1000) / o.rate + 120_000;
    while (done.some((d) => d === undefined)) {
      if (performance.now() > deadline) throw new Error(`not everyone had it in time: ${JSON.stringify(done)}`);
      const now = performance.now();
      for (const [i, qb] of [r1, r2].entries()) {
        if (done[i] === undefined && (await info(qb, share.infoHash))?.progress === 1) done[i] = now;
      }
      // aria2 has it when its log counts every piece verified ("we got new piece"); its completion hook, and the
      // file's bytes on disk (its write cache), came up to a minute later
      if (Math.floor(now / 500) !== Math.floor((now - 100) / 500)) {
        for (const i of [0, 1]) {
          if (done[2 + i] !== undefined) continue;
          const text = await readFile(ariaLog(i), 'utf8').catch(() => '');
          if ((text.match(/we got new piece/g) ?? []).length >= pieces) done[2 + i] = now;
        }
      }
      if (!superOff && (await peerCopies(sender, share.infoHash)) >= 1) {
        await sender.api('torrents/setSuperSeeding', { hashes: share.infoHash, value: 'false' });
        superOff = true;
        log(`    super seeding off after ${((now - t0) / 1000).toFixed(1)} s`);
      }
      await sleep(100);
    }
    const uploaded = (await info(sender, share.infoHash))?.uploaded ?? NaN;
    const unit = (o.size / o.rate) * 1000;
    const each = done.map((d) => ((d as number) - t0) / unit);
    for (const g of gets) g.kill('SIGTERM');
    return { variant, multiple: Math.max(...each), uploaded: uploaded / size, each };
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(daemons.map((d) => d.stop()));
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const work = await mkdtemp(join(tmpdir(), 'qshare-swarm-'));
  const tracker = await startTracker(2);
  const results: RunResult[] = [];
  try {
    for (let r = 0; r < o.runs; r++) {
      // in turn, the order reversed every other round
      for (const v of r % 2 === 0 ? o.variants : [...o.variants].reverse()) {
        const x = await oneRun(o, v, tracker, work);
        results.push(x);
        log(
          `  round ${r + 1}  ${v.padEnd(12)} all four: ${x.multiple.toFixed(2)} × S/U (each ${x.each.map((e) => e.toFixed(2)).join(' ')}), sender uploaded ${x.uploaded.toFixed(2)} × S`,
        );
      }
    }
  } finally {
    await tracker.close();
    await rm(work, { recursive: true, force: true });
  }
  const lines = o.variants.map((v) => {
    const xs = results.filter((x) => x.variant === v);
    const m = xs.map((x) => x.multiple);
    const u = xs.map((x) => x.uploaded);
    return `| ${v} | ${median(m).toFixed(2)} × (${Math.min(...m).toFixed(2)}–${Math.max(...m).toFixed(2)}) | ${median(u).toFixed(2)} × (${Math.min(...u).toFixed(2)}–${Math.max(...u).toFixed(2)}) |`;
  });
  process.stdout.write(
    [
      `swarm: ${o.size / 1048576} MiB, sender capped at ${o.rate / 1048576} MiB/s, 4 recipients (2 qshare get, 2 aria2c), ${o.runs} runs each`,
      '| sender setting | all four have it (× S/U), median (range) | sender uploaded (× S), median (range) |',
      '|---|---:|---:|',
      ...lines,
      '',
    ].join('\n'),
  );
}

await main();
