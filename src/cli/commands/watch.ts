/**
 * `qshare watch [DIR]`: the drop folder. Joins the watcher (src/watch: which items are complete, which left) to the
 * share pipeline through the journal-backed worker (src/share/worker.ts). Runs until SIGTERM/SIGINT, then stops
 * the current step, records it, and exits 0.
 */
import { existsSync } from 'node:fs';
import { lstat, mkdir, realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { QshareError } from '../../errors.js';
import { ensurePrivateDir, writeFileAtomic } from '../../fsx/atomic.js';
import { isInside } from '../../fsx/paths.js';
import { runAutoStop } from '../../share/autostop.js';
import { cleanLeftovers } from '../../share/leftovers.js';
import { piecesFromTorrentFile } from '../../share/observe.js';
import { noProgress } from '../../share/deps.js';
import { outboxDir } from '../../share/outbox.js';
import { createQbitGate } from '../../share/qbit-gate.js';
import { createWatchSteps } from '../../share/watch-steps.js';
import { ShareWorker } from '../../share/worker.js';
import { lockWatcher, openJournal } from '../../state/journal.js';
import { watchDropFolder } from '../../watch/watcher.js';
import type { CommandContext } from '../context.js';
import { connectRelay, qbitConnector } from '../qbit-connect.js';
import { launchdPlist, serviceFilePath, systemdUnit } from '../service.js';

export interface WatchArgs {
  dir?: string;
  installService: boolean;
}

/** `~` and `~/x` → the home folder; anything else resolved against the current folder. */
export function expandHome(p: string, home: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return join(home, p.slice(2));
  return resolve(p);
}

export async function runWatch(ctx: CommandContext, args: WatchArgs, version: string): Promise<number> {
  const home = ctx.env.HOME && ctx.env.HOME !== '' ? ctx.env.HOME : homedir();
  const dropDir = expandHome(args.dir ?? ctx.config.watch.dir, home);
  if (args.installService) return installService(ctx, dropDir, home);

  const { paths, log } = ctx;
  const w = ctx.config.watch;
  if (!existsSync(dropDir)) {
    await mkdir(dropDir, { recursive: true, mode: 0o700 });
    log.info(`created the drop folder ${dropDir}`);
  }
  const dir = await realpath(dropDir);
  if (!(await lstat(dir)).isDirectory()) throw new QshareError('USAGE', `${dropDir} is not a folder`);
  await Promise.all([
    ensurePrivateDir(paths.dataDir),
    ensurePrivateDir(paths.archivesDir),
    ensurePrivateDir(paths.torrentsDir),
  ]);
  const data = await realpath(paths.dataDir);
  if (isInside(data, dir) || isInside(dir, data)) {
    throw new QshareError(
      'USAGE',
      `the drop folder ${dir} and qshare's data folder ${data} must not be inside one another`,
      {
        hint: 'choose another drop folder, or set QSHARE_HOME elsewhere',
      },
    );
  }

  const release = await lockWatcher(join(paths.dataDir, 'watch.lock'));
  try {
    const secrets = await ctx.deps.secrets();
    if (secrets.kind === 'none' && !w.writePasswordFile) {
      throw new QshareError(
        'SECRET',
        `qshare watch makes a new password for every share and needs somewhere to keep it: ${secrets.description}`,
        {
          hint: 'set "secrets": {"store": "auto"} in the config (the keychain, else an owner-only file in the data folder), or "watch": {"writePasswordFile": true} to write each password beside its card (a plain-text file, mode 600)',
        },
      );
    }
    const sz = await ctx.deps.sevenZip();
    const journal = await openJournal(join(paths.dataDir, 'watch.json'));

    const owned = new Set(journal.items().flatMap((i) => [`${i.name}.7z`, `${i.name}.torrent`]));
    const removed = await cleanLeftovers(
      [
        { dir: paths.archivesDir, owned },
        { dir: paths.torrentsDir, owned },
        { dir: outboxDir(dir), owned: '*' },
        { dir: paths.dataDir, owned: new Set(['watch.json']) },
      ],
      { now: Date.now() },
    );
    for (const p of removed) log.info(`removed a partial file left by an interrupted run: ${p}`);

    // A fresh connector per connection: the gate reconnects (one login) only after a session was lost, and never
    // after a refused login. Never a prompt: a service has nobody to ask.
    const gate = createQbitGate(() => qbitConnector({ ...ctx, interactive: false })(), log.child('qbit'));
    const store = ctx.deps.state;
    // one gate per relay, like qBittorrent's: a refused login is never tried again in this run
    const relayGates = new Map<string, ReturnType<typeof createQbitGate>>();
    const relay = (n: string) => {
      let g = relayGates.get(n);
      if (!g) {
        g = createQbitGate(() => connectRelay({ ...ctx, interactive: false }, n), log.child(`relay ${n}`));
        relayGates.set(n, g);
      }
      return g.session();
    };
    const steps = createWatchSteps({
      deps: {
        config: ctx.config,
        paths,
        log: log.child('share'),
        store,
        sevenZip: async () => sz,
        qbit: () => gate.session(),
        relay,
        progress: noProgress,
        signal: ctx.signal,
        now: () => new Date(),
        createdBy: `qshare ${version}`,
      },
      secrets,
      gate,
      journal,
      writePasswordFile: w.writePasswordFile,
    });
    const worker = new ShareWorker({
      journal,
      steps,
      gate,
      log,
      dropDir: dir,
      concurrency: w.concurrency,
      signal: ctx.signal,
    });
    const resumed = await worker.resume();
    if (resumed.held.length + resumed.resumed.length > 0)
      log.info(`resuming ${resumed.resumed.length + resumed.held.length} unfinished item(s) from the last run`, {
        held: resumed.held.length,
        resumed: resumed.resumed.length,
      });
    if (resumed.elsewhere > 0)
      log.info(`${resumed.elsewhere} item(s) of other drop folders in the journal are left as they are`);

    // items that can never be shared as they are, each said once (again only when it changes)
    const told = new Set<string>();
    const watcher = watchDropFolder({
      dir,
      settleMs: w.settleSeconds * 1000,
      log: log.child('watch'),
      onReady: (item) => {
        if (item.info.bytes === 0) {
          const why =
            item.info.kind === 'other'
              ? 'it is a special file (socket, FIFO or device)'
              : item.info.dangling
                ? 'it is a link that leads nowhere (a loop, or to something missing)'
                : undefined;
          if (why && !told.has(`${item.name}\0${item.info.fingerprint}`))
            log.warn(`not sharing "${item.name}": ${why}`, { item: item.name });
          else if (!why) log.debug(`"${item.name}" holds no data yet; waiting for content`, { item: item.name });
          told.add(`${item.name}\0${item.info.fingerprint}`);
          return;
        }
        void worker.arrival({
          dropDir: dir,
          entry: item.name,
          dev: item.info.dev,
          ino: item.info.ino,
          fingerprint: item.info.fingerprint,
          bytes: item.info.bytes,
        });
      },
      onRemoved: (name) => void worker.removal(name),
      onUnusable: (name, why) =>
        log.warn(`not sharing "${name}": ${why}; rename it to share it (names inside it may stay as they are)`, {
          item: name,
        }),
    });
    worker.start();
    // shares with a recipients target stop by themselves once they have them (watch.recipients for its own)
    const autoStop = runAutoStop({
      store,
      log: log.child('recipients'),
      now: () => new Date(),
      pieces: piecesFromTorrentFile,
      relay,
      session: () => gate.session(),
      signal: ctx.signal,
    });
    void gate.session().catch((e: unknown) => {
      if (e instanceof QshareError && e.code === 'QBIT_UNREACHABLE')
        log.warn(`${e.message}; items are archived anyway and handed over when it answers`);
    });
    await Promise.race([watcher.scanned, aborted(ctx.signal)]);
    if (!ctx.signal.aborted) {
      await worker.afterScan(async (entry) => existsSync(join(dir, entry)));
      log.info(
        `watching ${dir}: every file or folder dropped in is shared once it has not changed for ${w.settleSeconds} s; cards go to ${outboxDir(dir)}`,
      );
    }

    await aborted(ctx.signal);
    log.info('stopping: the current step is interrupted and recorded; it resumes at the next start');
    await watcher.close();
    await worker.stop();
    await autoStop;
    log.info('stopped');
    return 0;
  } finally {
    await release();
  }
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));
}

async function installService(ctx: CommandContext, dropDir: string, home: string): Promise<number> {
  const cli = ctx.entry;
  const keep: Record<string, string> = {};
  for (const k of [
    'QSHARE_HOME',
    'QSHARE_CONFIG',
    'QSHARE_SECRET_STORE',
    'QSHARE_QBIT_URL',
    'QSHARE_QBIT_USERNAME',
  ] as const) {
    const v = ctx.env[k];
    if (v !== undefined && v !== '') keep[k] = k === 'QSHARE_HOME' || k === 'QSHARE_CONFIG' ? resolve(v) : v;
  }
  const spec = { node: process.execPath, cli, dropDir, env: keep };
  const file = serviceFilePath(process.platform, ctx.env, home);
  const text =
    process.platform === 'darwin'
      ? launchdPlist({ ...spec, logFile: join(home, 'Library', 'Logs', 'qshare-watch.log') })
      : systemdUnit(spec);
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, text, { mode: 0o644 });
  const next =
    process.platform === 'darwin'
      ? [`launchctl load -w ${file}`, 'logs: ~/Library/Logs/qshare-watch.log']
      : [
          'systemctl --user daemon-reload',
          'systemctl --user enable --now qshare-watch',
          'journalctl --user -u qshare-watch -f    (its log)',
        ];
  if (ctx.opts.json) ctx.printJson({ serviceFile: file, dropDir, start: next });
  else
    ctx.print(
      [
        `Wrote ${file}`,
        `It runs: qshare watch ${dropDir}`,
        'Start it now and at every login with:',
        ...next.map((l) => `  ${l}`),
      ].join('\n'),
    );
  return 0;
}
