/**
 * `npm run bench`: qshare against the floor (7-Zip alone) and the manual routes, side by side on data it generates.
 *
 *   npm run bench                                   # 2 GiB sets, 3 runs each, 20 GiB sparse file; writes BENCHMARKS.md
 *   npm run bench -- --size 256M --runs 1 --sparse-size 1G --out /tmp/b    # a quick smoke run
 *
 * Every scenario runs once per round, next to the scenario it is compared with (its baseline: the floor, mktorrent),
 * rounds repeat `--runs` times with the groups rotated and their order reversed every other round (so drift and other
 * load spread evenly), each command under GNU time (`/usr/bin/time -v`) for its CPU time and peak RSS, the source
 * read into the page cache before and `sync` after each run (so one run's reads and writeback do not land in the
 * next). Ratios are paired: taken per round against the baseline of the same round, reported as their median and
 * range, for wall time and for CPU time; medians of the absolute times stay as secondary columns.
 * Options: --size, --runs, --text-size, --sparse-size, --startup-runs, --dir (data), --out (report folder),
 * --skip-qbit, --skip-sparse (also skips the 100,000-file set), --only ID,ID (those scenarios and their baselines).
 *
 * Every Node process (qshare, the Node reference, `node -e 0`) runs without NODE_EXTRA_CA_CERTS: Node 20 reads and
 * parses that file at every start, before any script runs (45 ms for a 220 kB CA bundle on the benchmark machine,
 * whose environment sets it for its own tooling). Left in, it would add a cost of the environment, not of qshare or
 * Node, to every Node row and to `node -e 0`. The start-up line also reports `node -e 0` with it, when it was set.
 */
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { link, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { choosePieceLength } from '../src/torrent/piece-length.js';
import { startQbitNox, type QbitNox } from '../test/helpers/qbit-nox.js';
import { prepareData, type DataSets } from './data.js';
import { measure, run, type Step } from './measure.js';
import {
  checkTargets,
  cpuFloorRatio,
  formatSize,
  markdownTable,
  pairedOrder,
  pairedRatios,
  parseSize,
  summarize,
  targetsMarkdown,
  textTable,
  median,
  type Sample,
  type ScenarioResult,
  type StartupResult,
  type Summary,
} from './report.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CLI = join(REPO, 'dist/cli/main.js');
const NODE_HASH = fileURLToPath(new URL('./node-hash.js', import.meta.url));
const PASSWORD = 'bench-password-not-secret';
const TRACKER = 'http://127.0.0.1:9/announce';

interface Options {
  size: number;
  runs: number;
  textSize: number;
  sparseSize: number;
  startupRuns: number;
  dir: string;
  out: string;
  qbit: boolean;
  sparse: boolean;
  /** only these scenario ids (and their baselines) */
  only: string[] | undefined;
}

function parseArgs(argv: string[]): Options {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const size = parseSize(get('size') ?? '2G');
  return {
    size,
    runs: Number(get('runs') ?? 3),
    textSize: get('text-size') ? parseSize(get('text-size')!) : Math.max(8 << 20, Math.floor(size / 128)),
    sparseSize: parseSize(get('sparse-size') ?? '20G'),
    startupRuns: Number(get('startup-runs') ?? 20),
    dir: resolve(get('dir') ?? join(tmpdir(), 'qshare-bench-data')),
    out: resolve(get('out') ?? REPO),
    qbit: !argv.includes('--skip-qbit'),
    sparse: !argv.includes('--skip-sparse'),
    only: get('only')?.split(','),
  };
}

interface Scenario {
  id: string;
  label: string;
  set: string;
  source: string;
  baseline?: string;
  /** only once, after the rounds (the sparse file) */
  once?: boolean;
  steps: (out: string) => Step[];
}

const log = (s: string) => process.stderr.write(`${s}\n`);

function sevenZipFloor(source: string, archive: string): Step {
  return {
    cmd: '7zz',
    args: ['a', '-t7z', '-mx0', '-mhe=on', '-p', '-bso0', '-bsp0', '--', archive, source],
    stdin: `${PASSWORD}\n`,
  };
}

function mktorrent(target: string, torrent: string, pieceLength: number): Step {
  // mktorrent accepts 2^15 … 2^28
  const l = Math.min(28, Math.max(15, Math.log2(pieceLength)));
  return { cmd: 'mktorrent', args: ['-t', '2', '-l', String(l), '-a', TRACKER, '-o', torrent, '--', target] };
}

/** Variables that change how fast any Node process starts, whatever it runs: left out of every Node process's environment. */
export const NODE_START_VARIABLES = ['NODE_EXTRA_CA_CERTS'];
const WITH_CA_CERTS = 'node -e 0 with NODE_EXTRA_CA_CERTS';
const LS_EMPTY = 'qshare ls (no shares)';

function scenarios(
  sets: DataSets,
  o: Options,
  qshareEnv: (out: string, seed: boolean) => NodeJS.ProcessEnv,
  nodeEnv: NodeJS.ProcessEnv,
): Scenario[] {
  const qshare = (out: string, source: string, extra: string[], seed = false, input = `${PASSWORD}\n`): Step => ({
    cmd: process.execPath,
    args: [CLI, 'add', source, '--json', ...extra],
    stdin: input,
    env: qshareEnv(out, seed),
  });
  const L = choosePieceLength(o.size);
  const list: Scenario[] = [];
  for (const [set, source] of [
    ['10 files', sets.files10],
    ['2000 files', sets.files2000],
  ] as const) {
    list.push(
      {
        id: 'floor',
        label: 'floor: 7zz -mx0 -mhe=on',
        set,
        source,
        steps: (out) => [sevenZipFloor(source, join(out, 'floor.7z'))],
      },
      {
        id: 'fast-manual',
        label: 'fast manual: floor, then mktorrent -t 2',
        set,
        source,
        baseline: 'floor',
        steps: (out) => [
          sevenZipFloor(source, join(out, 'a.7z')),
          mktorrent(join(out, 'a.7z'), join(out, 'a.torrent'), L),
        ],
      },
      {
        id: 'qshare-no-seed',
        label: 'qshare add --no-seed',
        set,
        source,
        baseline: 'floor',
        steps: (out) => [qshare(out, source, ['--no-seed', '--password-stdin'])],
      },
      ...(o.qbit
        ? [
            {
              id: 'qshare-seed',
              label: 'qshare add (until seeding)',
              set,
              source,
              baseline: 'floor',
              steps: (out: string) => [qshare(out, source, ['--password-stdin'], true)],
            },
          ]
        : []),
      {
        id: 'mktorrent',
        label: 'mktorrent -t 2 (folder, no archive)',
        set,
        source,
        steps: (out) => [mktorrent(source, join(out, 'f.torrent'), L)],
      },
      {
        id: 'qshare-no-encrypt',
        label: 'qshare add --no-encrypt --no-seed',
        set,
        source,
        baseline: 'mktorrent',
        steps: (out) => [qshare(out, source, ['--no-encrypt', '--no-seed'], false, '')],
      },
      {
        id: 'node-hash',
        label: "reference: Node only lists + hashes (qshare's hasher)",
        set,
        source,
        baseline: 'mktorrent',
        steps: () => [{ cmd: process.execPath, args: [NODE_HASH, source, String(L)], env: nodeEnv }],
      },
    );
  }
  const text = sets.text;
  const Lt = choosePieceLength(o.textSize);
  list.push(
    {
      id: 'floor',
      label: 'floor: 7zz -mx0 -mhe=on',
      set: 'text',
      source: text,
      steps: (out) => [sevenZipFloor(text, join(out, 'floor.7z'))],
    },
    {
      id: 'manual',
      label: 'manual: 7zz default level (-mx5), then mktorrent -t 2',
      set: 'text',
      source: text,
      baseline: 'floor',
      steps: (out) => [
        {
          cmd: '7zz',
          args: ['a', '-t7z', '-mhe=on', '-p', '-bso0', '-bsp0', '--', join(out, 'm.7z'), text],
          stdin: `${PASSWORD}\n`,
        },
        mktorrent(join(out, 'm.7z'), join(out, 'm.torrent'), Lt),
      ],
    },
    {
      id: 'qshare-auto',
      label: 'qshare add --no-seed --level auto',
      set: 'text',
      source: text,
      baseline: 'floor',
      steps: (out) => [qshare(out, text, ['--no-seed', '--password-stdin', '--level', 'auto'])],
    },
  );
  if (o.sparse) {
    const set = `sparse ${formatSize(o.sparseSize)}`;
    list.push(
      {
        id: 'sparse-no-seed',
        label: `qshare add --no-seed (${formatSize(o.sparseSize)} sparse file)`,
        set,
        source: sets.sparse,
        once: true,
        steps: (out) => [qshare(out, sets.sparse, ['--no-seed', '--password-stdin'])],
      },
      {
        id: 'many-no-seed',
        label: 'qshare add --no-seed (100,000 files of 1 KiB)',
        set: '100,000 files',
        source: sets.small,
        once: true,
        steps: (out) => [qshare(out, sets.small, ['--no-seed', '--password-stdin'])],
      },
      {
        id: 'sparse-no-encrypt',
        label: `qshare add --no-encrypt --no-seed (${formatSize(o.sparseSize)} sparse file)`,
        set,
        source: sets.sparse,
        once: true,
        steps: (out) => [qshare(out, sets.sparse, ['--no-encrypt', '--no-seed'], false, '')],
      },
    );
  }
  return list;
}

/**
 * Start-up: `node -e 0`, `qshare --help`, `qshare ls` (no shares), and the whole fixed cost of a share —
 * `qshare add --no-encrypt --no-seed` of one 1 KiB file: start, parse, check, list, hash, write the .torrent and
 * the record — the part of every `add` that does not grow with the data.
 */
async function startupBench(
  runs: number,
  env: NodeJS.ProcessEnv,
  tinyDir: string,
  withCaCerts: string | undefined,
): Promise<StartupResult> {
  await mkdir(tinyDir, { recursive: true });
  await writeFile(join(tinyDir, 'note.txt'), 'x'.repeat(1024));
  const lines: Record<string, string[]> = {
    'node -e 0': [process.execPath, '-e', '0'],
    ...(withCaCerts ? { [WITH_CA_CERTS]: [process.execPath, '-e', '0'] } : {}),
    'qshare --help': [process.execPath, CLI, '--help'],
    [LS_EMPTY]: [process.execPath, CLI, 'ls'],
    'qshare add --no-encrypt --no-seed (1 KiB)': [
      process.execPath,
      CLI,
      'add',
      tinyDir,
      '--no-encrypt',
      '--no-seed',
      '--json',
    ],
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(lines).map((k) => [k, []]));
  for (let i = 0; i < runs + 2; i++) {
    for (const [name, argv] of Object.entries(lines)) {
      const t0 = performance.now();
      // `ls` gets a data folder of its own: the adds below would otherwise give it shares to ask qBittorrent about
      const lineEnv =
        name === WITH_CA_CERTS
          ? { ...env, NODE_EXTRA_CA_CERTS: withCaCerts }
          : name === LS_EMPTY
            ? { ...env, QSHARE_HOME: join(tinyDir, '..', 'startup-ls-home') }
            : env;
      const r = spawnSync(argv[0]!, argv.slice(1), { env: lineEnv, stdio: 'ignore' });
      const ms = performance.now() - t0;
      if (r.status !== 0) throw new Error(`${name} exited ${r.status}`);
      if (i >= 2) times[name]!.push(ms); // two warm-up rounds
    }
  }
  const medians = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
  // paired: each round ran `node -e 0` and `qshare --help` one after the other
  const ratios = pairedRatios(times['qshare --help']!, times['node -e 0']!);
  return {
    medians,
    helpRatio: median(ratios),
    helpRatioMin: Math.min(...ratios),
    helpRatioMax: Math.max(...ratios),
  };
}

function machine(o: Options): Record<string, string> {
  const first = (cmd: string, args: string[]) =>
    (spawnSync(cmd, args, { encoding: 'utf8' }).stdout ?? '')
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? '?';
  const fs = (spawnSync('df', ['-T', o.dir], { encoding: 'utf8' }).stdout ?? '').split('\n')[1]?.split(/\s+/)[1] ?? '?';
  return {
    cpu: `${cpus()[0]?.model ?? '?'} (${availableParallelism()} cores)`,
    memory: formatSize(totalmem()),
    kernel: release(),
    filesystem: `${fs} (${o.dir})`,
    node: process.version,
    '7-Zip': first('7zz', []).replace(/ : Copyright.*/, ''),
    mktorrent: first('mktorrent', ['-h']).replace(/ \(c\).*/, ''),
    qBittorrent: o.qbit ? first('qbittorrent-nox', ['--version']) : 'not used',
  };
}

/** Reads every file under `dir` once (unmeasured), so it is in the page cache. */
async function warm(dir: string): Promise<void> {
  const { open } = await import('node:fs/promises');
  const buf = Buffer.allocUnsafe(4 << 20);
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const fh = await open(join(e.parentPath ?? e.path, e.name), 'r');
    try {
      while ((await fh.read(buf, 0, buf.length)).bytesRead > 0);
    } finally {
      await fh.close();
    }
  }
}

async function clean(dir: string): Promise<void> {
  for (const n of await readdir(dir).catch(() => [] as string[]))
    await rm(join(dir, n), { recursive: true, force: true });
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (!(o.runs >= 1)) throw new Error('--runs must be at least 1');
  await stat(CLI).catch(() => {
    throw new Error(`${CLI} is missing: run npm run build first`);
  });
  const loadBefore = loadavg();
  log(
    `qshare benchmark: ${formatSize(o.size)} sets, text ${formatSize(o.textSize)}, ${o.runs} run(s); load average ${loadBefore.map((x) => x.toFixed(2)).join(' ')}`,
  );
  const sets = await prepareData(o.dir, { size: o.size, textSize: o.textSize, sparseSize: o.sparseSize }, log);
  const work = join(o.dir, 'work');
  await mkdir(work, { recursive: true });

  let qb: QbitNox | undefined;
  if (o.qbit) {
    qb = await startQbitNox();
    log(`qbittorrent-nox at ${qb.url}`);
  }
  const configFile = join(work, '..', 'bench-config.json');
  await writeFile(
    configFile,
    JSON.stringify({ trackers: [TRACKER], secrets: { store: 'none' }, qbittorrent: { seedWaitSeconds: 300 } }),
  );
  const baseEnv: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('QSHARE_') && k !== 'DBUS_SESSION_BUS_ADDRESS' && !NODE_START_VARIABLES.includes(k))
      baseEnv[k] = v;
  const qshareEnv = (out: string, seed: boolean): NodeJS.ProcessEnv => ({
    ...baseEnv,
    NO_COLOR: '1',
    QSHARE_HOME: join(out, 'home'),
    QSHARE_CONFIG: configFile,
    ...(seed && qb
      ? { QSHARE_QBIT_URL: qb.url, QSHARE_QBIT_USERNAME: qb.username, QSHARE_QBIT_PASSWORD: qb.password }
      : { QSHARE_QBIT_URL: 'http://127.0.0.1:9' }),
  });

  const every = scenarios(sets, o, qshareEnv, baseEnv);
  const only = o.only;
  const all = only
    ? every.filter(
        (s) => only.includes(s.id) || every.some((x) => x.set === s.set && only.includes(x.id) && x.baseline === s.id),
      )
    : every;
  const results = new Map<string, ScenarioResult>(
    all.map((s) => [
      `${s.set}/${s.id}`,
      { id: s.id, label: s.label, set: s.set, ...(s.baseline ? { baseline: s.baseline } : {}), samples: [] },
    ]),
  );
  const once = all.filter((s) => s.once);
  const rounds = all.filter((s) => !s.once);

  const runOne = async (s: Scenario): Promise<Sample> => {
    // every run starts with its source in the page cache: otherwise the first scenario on a set after the other
    // set's runs pays for reading it from disk (the kernel reclaims cache between), the others do not
    if (!s.once) await warm(s.source);
    const out = join(work, 'run');
    await rm(out, { recursive: true, force: true });
    await mkdir(join(out, 'home'), { recursive: true });
    // a data folder's cache outlives a share (7-Zip's version is read once per binary): kept from run to run, as on a
    // machine that shared something before
    await mkdir(join(work, 'cache'), { recursive: true });
    await symlink(join(work, 'cache'), join(out, 'home', 'cache'));
    let seconds = 0;
    let peakRss = 0;
    let cpuSeconds = 0;
    let qbOwn: number | undefined;
    try {
      for (const step of s.steps(out)) {
        const m = await measure(step);
        seconds += m.seconds;
        cpuSeconds += m.cpuSeconds;
        peakRss = Math.max(peakRss, m.peakRss);
        if (s.id === 'qshare-seed' && qb) {
          const r = JSON.parse(m.stdout) as { infoHash: string; state: string; torrentFile: string; archive: string };
          if (r.state !== 'seeding') throw new Error(`qshare add ended in state ${r.state}`);
          await qbDelete(qb, r.infoHash);
          // qBittorrent's own part, for the same torrent and data: added again as qshare adds it, until seeding
          qbOwn = (await qbAddUntilSeeding(qb, await readFile(r.torrentFile), r.infoHash, dirname(r.archive))) / 1000;
          await qbDelete(qb, r.infoHash);
        }
      }
    } finally {
      await clean(out);
      await run('sync', []);
    }
    return { seconds, peakRss, cpuSeconds, ...(qbOwn !== undefined ? { baselineExtraSeconds: qbOwn } : {}) };
  };

  let seedLatencyMs: number | undefined;
  let seedLatencyRange = '';
  try {
    for (let r = 0; r < o.runs; r++) {
      const order = pairedOrder(rounds, r);
      for (const s of order) {
        const sample = await runOne(s);
        results.get(`${s.set}/${s.id}`)!.samples.push(sample);
        log(
          `  round ${r + 1}/${o.runs}  ${s.set.padEnd(10)}  ${s.label.padEnd(58)} ${sample.seconds.toFixed(2)} s  ${(sample.peakRss / 1048576).toFixed(0)} MiB`,
        );
      }
    }
    for (const s of once) {
      const sample = await runOne(s);
      results.get(`${s.set}/${s.id}`)!.samples.push(sample);
      log(
        `  once      ${s.set.padEnd(10)}  ${s.label.padEnd(58)} ${sample.seconds.toFixed(2)} s  ${(sample.peakRss / 1048576).toFixed(0)} MiB`,
      );
    }
    if (qb) {
      // the data file must be where the torrent says: the text set's first file, under its own name
      const textFile = join(sets.text, (await readdir(sets.text)).sort()[0]!);
      const latencyDir = join(work, 'latency');
      await mkdir(latencyDir, { recursive: true });
      const times = await qbSeedLatency(qb, textFile, latencyDir, 9);
      seedLatencyMs = median(times);
      seedLatencyRange = `${Math.min(...times).toFixed(0)}–${Math.max(...times).toFixed(0)} ms`;
      log(
        `  qBittorrent alone, add (skip_checking) → seeding: ${seedLatencyMs.toFixed(0)} ms (median of 9, ${seedLatencyRange})`,
      );
    }
  } finally {
    await qb?.stop();
    await rm(work, { recursive: true, force: true });
  }

  log('start-up …');
  const startup = await startupBench(
    o.startupRuns,
    qshareEnv(join(o.dir, 'startup'), false),
    join(o.dir, 'set-tiny'),
    process.env.NODE_EXTRA_CA_CERTS,
  );
  await rm(join(o.dir, 'startup'), { recursive: true, force: true });
  await rm(join(o.dir, 'startup-ls-home'), { recursive: true, force: true });
  const loadAfter = loadavg();
  const summaries = summarize([...results.values()]);
  const onceIds = new Set(once.map((s) => s.id));
  const main2 = summaries.filter((s) => !onceIds.has(s.id));
  const sparse = summaries.filter((s) => onceIds.has(s.id));
  const targets = checkTargets(
    main2,
    startup,
    sparse.filter((s) => s.id.endsWith('no-seed')),
  );
  const mach = machine(o);

  const startupLines = Object.entries(startup.medians).map(([k, v]) => `${k} ${v.toFixed(1)} ms`);
  const text = [
    '',
    textTable(main2),
    ...(sparse.length ? ['', textTable(sparse)] : []),
    '',
    `start-up (median of ${o.startupRuns}): ${startupLines.join(' | ')}; --help / node -e 0, paired = ${startup.helpRatio.toFixed(2)} × (${startup.helpRatioMin?.toFixed(2)}–${startup.helpRatioMax?.toFixed(2)})`,
    ...(seedLatencyMs !== undefined
      ? [
          `qBittorrent alone, add (skip_checking) → reports seeding: ${seedLatencyMs.toFixed(0)} ms (median of 9, ${seedLatencyRange})`,
        ]
      : []),
    '',
    'targets:',
    ...targets.map((t) => `  ${t.ok ? 'met   ' : 'MISSED'}  ${t.what}: ${t.measured} (${t.limit})`),
    '',
    `load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadAfter.map((x) => x.toFixed(2)).join(' ')}`,
  ].join('\n');
  process.stdout.write(`${text}\n`);

  const json = {
    date: new Date().toISOString(),
    options: { ...o, dir: undefined, out: undefined },
    machine: mach,
    load: { before: loadBefore, after: loadAfter },
    results: [...results.values()],
    summaries,
    startup,
    seedLatencyMs,
    targets,
  };
  await mkdir(o.out, { recursive: true });
  await writeFile(join(o.out, 'benchmarks.json'), `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(
    join(o.out, 'BENCHMARKS.md'),
    markdown(o, mach, main2, sparse, startup, targets, loadBefore, loadAfter, seedLatencyMs, seedLatencyRange),
  );
  log(`wrote ${join(o.out, 'BENCHMARKS.md')} and benchmarks.json`);
}

/**
 * qBittorrent's own part of "until seeding": a .torrent whose data is in place, added with skip_checking as qshare
 * adds it, polled every 20 ms until it reports seeding. qBittorrent updates torrent states on a timer (1.5 s by
 * default), so each add waits a random 0–1.5 s first: adds at a fixed rhythm would lock onto the timer's phase.
 * Milliseconds of each add.
 */
async function qbSeedLatency(qb: QbitNox, dataFile: string, work: string, runs: number): Promise<number[]> {
  const { createHash } = await import('node:crypto');
  const bencode = (await import('bencode')).default;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const torrent = join(work, `latency-${i}.torrent`);
    // a new name each time (so each add is a new torrent), the data in place under that name (a hard link)
    const data = join(work, `latency-${i}-${Date.now()}.txt`);
    await link(dataFile, data);
    await run('mktorrent', ['-l', '20', '-a', TRACKER, '-o', torrent, '--', data]);
    const bytes = await readFile(torrent);
    const hash = createHash('sha1')
      .update(bencode.encode((bencode.decode(bytes) as { info: unknown }).info))
      .digest('hex');
    await new Promise((r) => setTimeout(r, Math.random() * 1500));
    times.push(await qbAddUntilSeeding(qb, bytes, hash, work));
    await qbDelete(qb, hash);
  }
  return times;
}

/** Adds a .torrent whose data is in place (skip_checking, as qshare adds it); milliseconds until it reports seeding. */
async function qbAddUntilSeeding(qb: QbitNox, torrent: Buffer, hash: string, savePath: string): Promise<number> {
  const cookie = await qb.login();
  const form = new FormData();
  form.append('torrents', new Blob([torrent]), 'x.torrent');
  form.append('savepath', savePath);
  form.append('skip_checking', 'true');
  form.append('autoTMM', 'false');
  const t0 = performance.now();
  const res = await fetch(`${qb.url}/api/v2/torrents/add`, { method: 'POST', headers: { cookie }, body: form });
  if (!res.ok) throw new Error(`torrents/add answered ${res.status}`);
  for (;;) {
    const [t] = (await (
      await fetch(`${qb.url}/api/v2/torrents/info?hashes=${hash}`, { headers: { cookie } })
    ).json()) as { state: string; progress: number }[];
    if (t && t.progress === 1 && /UP$|^uploading$/.test(t.state)) return performance.now() - t0;
    if (performance.now() - t0 > 60_000) throw new Error('qBittorrent did not seed within 60 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function qbDelete(qb: QbitNox, hash: string): Promise<void> {
  const cookie = await qb.login();
  const res = await fetch(`${qb.url}/api/v2/torrents/delete`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: `hashes=${hash}&deleteFiles=false`,
  });
  if (!res.ok) throw new Error(`qBittorrent torrents/delete answered ${res.status}`);
}

function markdown(
  o: Options,
  mach: Record<string, string>,
  main2: Summary[],
  sparse: Summary[],
  startup: StartupResult,
  targets: ReturnType<typeof checkTargets>,
  loadBefore: number[],
  loadAfter: number[],
  seedLatencyMs: number | undefined,
  seedLatencyRange: string,
): string {
  return `# qshare benchmarks

Made by \`npm run bench\` (bench/run.ts) on ${new Date().toISOString().slice(0, 10)}. Raw numbers: benchmarks.json.

## Machine

${Object.entries(mach)
  .map(([k, v]) => `- ${k}: ${v}`)
  .join('\n')}
- load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadAfter.map((x) => x.toFixed(2)).join(' ')} (1, 5, 15 min)

## Data and method

- \`10 files\`: ${formatSize(o.size)} of incompressible data (like video) in 10 files; \`2000 files\`: the same amount in
  2,000 files in 20 folders; \`text\`: ${formatSize(o.textSize)} of compressible text in 8 files; all generated by the
  benchmark and in the page cache. \`100,000 files\`: 100,000 files of 1 KiB in 100 folders (memory only).
- **Paired.** Each round runs every scenario right next to its baseline ("vs"), A and B in turn on the same warm
  data; ${o.runs} rounds, the groups rotated and their order reversed every other round. The ratio is taken per round
  and the table gives the median of those ratios with their range; a target is judged on that median. For
  \`qshare add\` until seeding the baseline is the floor plus qBittorrent's own time from \`torrents/add\` to
  reporting seeding, measured for the same torrent right after the run. Each command ran under
  \`/usr/bin/time -v\`, the source read into the page cache before each run and \`sync\` after it. CPU s is the
  median user + system time of the scenario's processes, every thread counted (GNU time), and its ratio is paired
  the same way. Peak RSS is the largest single process of a scenario
  (GNU time: for \`qshare add\` that is qshare's Node process, 7-Zip being smaller).
- The floor is \`7zz a -t7z -mx0 -mhe=on -p\` with the password on stdin. mktorrent gets the piece length qshare
  chooses. \`qshare add\` (until seeding) goes to a real qbittorrent-nox (${mach.qBittorrent}) on 127.0.0.1 and
  ends when qBittorrent reports the torrent seeding. Password storage is off (\`secrets.store: none\`).
- "reference: Node only lists + hashes" is \`bench/node-hash.ts\`: a Node process running qshare's listing and
  hasher and nothing else, to show what Node itself costs next to mktorrent.
- Every Node process (qshare, the reference, \`node -e 0\`) ran without ${NODE_START_VARIABLES.map((v) => `\`${v}\``).join(', ')}${
    startup.medians[WITH_CA_CERTS] !== undefined
      ? `: this machine's environment sets it (for its own tooling) to a CA bundle that Node 20 parses at every start, before any script runs — \`node -e 0\` took ${startup.medians[WITH_CA_CERTS].toFixed(0)} ms with it and ${startup.medians['node -e 0']!.toFixed(0)} ms without. Nothing qshare does changes that cost; a user who sets it pays it on every Node program they start`
      : ''
  }.

## Results

${markdownTable(main2)}
${sparse.length ? `\nMemory with a very large input (one run each; the encrypted one writes a ${formatSize(o.sparseSize)} archive):\n\n${markdownTable(sparse)}\n` : ''}
Start-up (median of ${o.startupRuns} runs each): ${Object.entries(startup.medians)
    .map(([k, v]) => `\`${k}\` ${v.toFixed(1)} ms`)
    .join(
      ', ',
    )}; \`qshare --help\` / \`node -e 0\`, paired per round = ${startup.helpRatio.toFixed(2)} × (${startup.helpRatioMin?.toFixed(2)}–${startup.helpRatioMax?.toFixed(2)}).
${
  seedLatencyMs !== undefined
    ? `\nqBittorrent's own part of "until seeding": a torrent whose data is in place, added with skip_checking as qshare adds it (at a random moment) and polled every 20 ms, is reported seeding after ${seedLatencyMs.toFixed(0)} ms (median of 9; ${seedLatencyRange}): qBittorrent updates torrent states on a timer.\n`
    : ''
}
## Targets (issue #17)

${targetsMarkdown(targets)}
${explain(main2, startup, seedLatencyMs)}`;
}

/** For the targets that depend on fixed costs: the budget each leaves, next to the fixed cost measured here. */
function explain(s: Summary[], startup: StartupResult, seedLatencyMs: number | undefined): string {
  const lines: string[] = [];
  const fixed = startup.medians['qshare add --no-encrypt --no-seed (1 KiB)'];
  for (const set of [...new Set(s.map((x) => x.set))]) {
    const mk = s.find((x) => x.set === set && x.id === 'mktorrent');
    const ne = s.find((x) => x.set === set && x.id === 'qshare-no-encrypt');
    if (mk && ne && fixed !== undefined) {
      lines.push(
        `- \`--no-encrypt\` (${set}): 1.20 × mktorrent leaves ${(0.2 * mk.median * 1000).toFixed(0)} ms above mktorrent's ${(mk.median * 1000).toFixed(0)} ms. ` +
          `qshare's fixed cost, \`qshare add --no-encrypt --no-seed\` of a 1 KiB file (Node start-up ${startup.medians['node -e 0']!.toFixed(0)} ms, loading and parsing, listing, writing the .torrent and the record), is ${fixed.toFixed(0)} ms; ` +
          `the rest, ${((ne.median * 1000 - fixed) / (mk.median * 1000)).toFixed(2)} × mktorrent's time, is hashing.`,
      );
      const ref = s.find((x) => x.set === set && x.id === 'node-hash');
      if (ref?.ratio !== undefined) {
        lines.push(
          `  A Node process that only lists the folder and hashes it with qshare's hasher (no CLI, config, checks, .torrent or record) takes ${(ref.median * 1000).toFixed(0)} ms, ` +
            `${ref.ratio.toFixed(2)} × mktorrent: what Node itself costs here (start-up, worker threads) before qshare does anything; qshare adds ${((ne.median - ref.median) * 1000).toFixed(0)} ms to that.`,
        );
      }
      const cores = availableParallelism();
      const neFloor = cpuFloorRatio(ne, s, cores);
      const refFloor = ref ? cpuFloorRatio(ref, s, cores) : undefined;
      if (mk.cpuMedian !== undefined && ne.cpuMedian !== undefined && neFloor !== undefined) {
        lines.push(
          `  CPU time (user + system, every thread): mktorrent ${mk.cpuMedian.toFixed(2)} s, qshare ${ne.cpuMedian.toFixed(2)} s${ref?.cpuMedian !== undefined ? `, the reference ${ref.cpuMedian.toFixed(2)} s` : ''}. ` +
            `On ${cores} cores no run takes less than its CPU time / ${cores}: for qshare that floor is already ${neFloor.toFixed(2)} × mktorrent's time${refFloor !== undefined ? `, for the reference ${refFloor.toFixed(2)} ×` : ''}.`,
        );
      }
    }
    const floor = s.find((x) => x.set === set && x.id === 'floor');
    const seed = s.find((x) => x.set === set && x.id === 'qshare-seed');
    if (floor && seed && seedLatencyMs !== undefined) {
      const noSeed = s.find((x) => x.set === set && x.id === 'qshare-no-seed');
      lines.push(
        `- until seeding (${set}): the floor took ${(floor.median * 1000).toFixed(0)} ms (median); ` +
          (noSeed
            ? `seeding added ${((seed.median - noSeed.median) * 1000).toFixed(0)} ms to \`--no-seed\` (one login, the add, the wait); `
            : '') +
          `qBittorrent alone takes ${seedLatencyMs.toFixed(0)} ms (median) from the add to reporting seeding.`,
      );
    }
  }
  return lines.length ? `\nWhere the fixed costs go:\n\n${lines.join('\n')}\n` : '';
}

await main();
