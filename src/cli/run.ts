import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { EXIT, isQshareError, QshareError } from '../errors.js';
import { checkLevel, checkTrackerUrl } from '../config/schema.js';
import { makeContext, type GlobalOptions, type Io } from './context.js';
import { helpWidth } from './help-cache.js';
import { operandsAfterDoubleDash } from './operands.js';

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * The CLI's dispatcher. Returns the exit status; never calls process.exit. Commands are imported lazily so
 * `qshare --help` starts fast. Expected failures (QshareError) are printed without a stack.
 */
export async function run(argv: string[], io: Io): Promise<number> {
  const version = packageVersion();
  let exitCode: number = EXIT.ok;
  let json = argv.includes('--json');
  const parser = yargs(operandsAfterDoubleDash(argv))
    .scriptName('qshare')
    .usage('$0 <command> [options]\n\nSend a large folder privately: encrypt it with 7-Zip, make a torrent, seed it from your qBittorrent.')
    .version(version)
    .option('json', { type: 'boolean', default: false, describe: 'print one JSON result on stdout and nothing else' })
    .option('verbose', { type: 'boolean', default: false, describe: 'more detail on stderr' })
    .option('config', { type: 'string', describe: 'config file (default: $QSHARE_CONFIG or ~/.config/qshare/config.json)' })
    .command(
      'add <path>',
      'encrypt a folder or file, make its torrent, and seed it from qBittorrent',
      (y) =>
        y
          .positional('path', { type: 'string', demandOption: true, describe: 'the folder or file to share' })
          .option('name', { type: 'string', describe: 'the share name (default: three random words)' })
          .option('level', { type: 'string', describe: '7-Zip compression: 0 (store, default) … 9, or auto (store if a sample does not compress, like photos and video; else fast)' })
          .option('tracker', { type: 'string', array: true, describe: 'announce URL, repeatable (default: config "trackers")' })
          .option('private', { type: 'boolean', default: false, describe: 'mark the torrent private (no DHT/PeX: trackers only)' })
          .option('encrypt', { type: 'boolean', default: true, describe: 'make the encrypted 7z (--no-encrypt: share the files as they are)' })
          .option('seed', { type: 'boolean', default: true, describe: 'hand it to qBittorrent (--no-seed: only make the archive and .torrent)' })
          .option('password-stdin', { type: 'boolean', default: false, describe: 'read the archive password from the first line of stdin' })
          .option('ask-password', { type: 'boolean', default: false, describe: 'type the archive password at a hidden prompt' })
          .option('recipients', { type: 'number', describe: 'stop seeding once this many peers have the whole file (qBittorrent ratio limit N as a safety net)' })
          .option('expire', { type: 'string', describe: 'stop seeding after this much seeding time: 7d, 48h' }),
      async (a) => {
        const level = a.level === undefined || a.level === 'auto' ? a.level : Number(a.level);
        const levelProblem = level === undefined || level === 'auto' ? undefined : checkLevel(level);
        if (levelProblem) throw new QshareError('USAGE', `--level ${levelProblem}, or auto`);
        for (const t of a.tracker ?? []) {
          const p = checkTrackerUrl(t);
          if (p) throw new QshareError('USAGE', `--tracker ${p}`);
        }
        const { checkRecipients, parseExpire } = await import('../share/limits.js');
        const recipients = a.recipients === undefined ? undefined : checkRecipients(a.recipients);
        const expireMinutes = a.expire === undefined ? undefined : parseExpire(a.expire);
        const ctx = await makeContext(io, globals(a));
        const { runAdd } = await import('./commands/add.js');
        exitCode = await runAdd(
          ctx,
          {
            path: a.path,
            name: a.name,
            level,
            tracker: a.tracker,
            private: a.private,
            encrypt: a.encrypt,
            seed: a.seed,
            passwordStdin: a['password-stdin'],
            askPassword: a['ask-password'],
            recipients,
            expireMinutes,
          },
          version,
        );
      },
    )
    .command(
      'seed <share>',
      'hand a share to qBittorrent again (after it was unreachable)',
      (y) =>
        y
          .positional('share', { type: 'string', demandOption: true, describe: 'name or id' })
          .option('until-done', { type: 'boolean', default: false, describe: 'stay and watch until --recipients peers have it (or a share limit ends it), then stop seeding' }),
      async (a) => {
        const ctx = await makeContext(io, globals(a));
        const { runSeed } = await import('./commands/seed.js');
        exitCode = await runSeed(ctx, a.share, { untilDone: a['until-done'] });
      },
    )
    .command(
      'watch [dir]',
      'share whatever lands in a drop folder (default: config watch.dir, ~/ToShare), once it has finished arriving',
      (y) =>
        y
          .positional('dir', { type: 'string', describe: 'the drop folder (default: config "watch.dir")' })
          .option('install-service', { type: 'boolean', default: false, describe: 'write a systemd user unit (launchd agent on macOS) that runs this watch, then exit' }),
      async (a) => {
        const ctx = await makeContext(io, globals(a));
        const { runWatch } = await import('./commands/watch.js');
        exitCode = await runWatch(ctx, { dir: a.dir, installService: a['install-service'] }, version);
      },
    )
    .command(
      'get <source>',
      'download a share into your qBittorrent and unpack it (magnet link, .torrent file or http(s) link)',
      (y) =>
        y
          .positional('source', { type: 'string', demandOption: true, describe: 'magnet link, .torrent file, or http(s) link to a .torrent' })
          .option('to', { type: 'string', describe: 'unpack into this folder (default: ./<archive name>)' })
          .option('password-stdin', { type: 'boolean', default: false, describe: 'read the archive password from the first line of stdin' })
          .option('force', { type: 'boolean', default: false, describe: 'replace files that already exist in the target folder' })
          .option('seed', { type: 'boolean', default: true, describe: 'keep seeding afterwards (--no-seed: remove it from qBittorrent, keeping the files)' }),
      async (a) => {
        const ctx = await makeContext(io, globals(a));
        const { runGet } = await import('./commands/get.js');
        exitCode = await runGet(ctx, { source: a.source, to: a.to, passwordStdin: a['password-stdin'], force: a.force, seed: a.seed });
      },
    )
    .command(
      'ls',
      'list your shares: state, peers, uploaded, ratio, and how many peers have the whole file',
      (y) => y,
      async (a) => {
        const ctx = await makeContext(io, globals(a));
        const { runLs } = await import('./commands/ls.js');
        exitCode = await runLs(ctx);
      },
    )
    .command(
      'show <share>',
      'show a share again: magnet link, .torrent, password and the message for your recipients',
      (y) =>
        y
          .positional('share', { type: 'string', demandOption: true, describe: 'name or id' })
          .option('qr', { type: 'boolean', default: false, describe: 'also draw the magnet link as a QR code (for a phone)' }),
      async (a) => {
        const ctx = await makeContext(io, globals(a));
        const { runShow } = await import('./commands/show.js');
        exitCode = await runShow(ctx, a.share, a.qr);
      },
    )
    .command(
      'stop <share>',
      "remove a share from qBittorrent (--delete: also delete qshare's archive and .torrent; never your folder)",
      (y) =>
        y
          .positional('share', { type: 'string', demandOption: true, describe: 'name or id' })
          .option('delete', { type: 'boolean', default: false, describe: "also delete qshare's archive and .torrent and forget the share" }),
      async (a) => {
        const ctx = await makeContext(io, globals(a));
        const { runStop } = await import('./commands/stop.js');
        exitCode = await runStop(ctx, a.share, a.delete);
      },
    )
    .command(
      'login',
      'pair qshare with your qBittorrent: test one login, save the address and user, keep the password in the keychain',
      (y) =>
        y
          .option('url', { type: 'string', describe: 'the Web UI address, e.g. http://127.0.0.1:8080 or https://nas/qbt/ (default: asked, or the config)' })
          .option('username', { type: 'string', describe: 'the Web UI user name (default: asked, or the config)' })
          .option('password-stdin', { type: 'boolean', default: false, describe: 'read the password or API key (qbt_…) from the first line of stdin' })
          .option('ca-file', { type: 'string', describe: 'trust this PEM certificate for an https:// Web UI with a self-signed certificate (saved in the config)' })
          .option('insecure', { type: 'boolean', describe: 'do not check the https:// certificate at all (warns; saved in the config)' }),
      async (a) => {
        const ctx = await makeContext(io, globals(a));
        const { runLogin } = await import('./commands/login.js');
        exitCode = await runLogin(ctx, { url: a.url, username: a.username, passwordStdin: a['password-stdin'], caFile: a['ca-file'], insecure: a.insecure });
      },
    )
    .command(
      'doctor',
      'check everything a share needs (qBittorrent, its settings, paths, disk, 7-Zip, keychain) and say what to do',
      (y) =>
        y
          .option('fix', { type: 'boolean', default: false, describe: 'change the qBittorrent settings that need it, each one confirmed' })
          .option('yes', { type: 'boolean', default: false, describe: 'with --fix: change them all without asking' }),
      async (a) => {
        const ctx = await makeContext(io, globals(a));
        const { runDoctorCommand } = await import('./commands/doctor.js');
        exitCode = await runDoctorCommand(ctx, { fix: a.fix, yes: a.yes });
      },
    )
    .command(
      'daemon <action>',
      "qshare's own qBittorrent (qbittorrent-nox on 127.0.0.1): start, stop or status",
      (y) => y.positional('action', { type: 'string', choices: ['start', 'stop', 'status'], demandOption: true }),
      async (a) => {
        const ctx = await makeContext(io, globals(a));
        const { runDaemon } = await import('./commands/daemon.js');
        exitCode = await runDaemon(ctx, a.action);
      },
    )
    .command(
      'completion [shell]',
      'print a Tab-completion script for bash or zsh (default: your $SHELL): qshare completion >> ~/.bashrc',
      (y) => y.positional('shell', { type: 'string', choices: ['bash', 'zsh'], describe: 'the shell (default: zsh if $SHELL is zsh, else bash)' }),
      async (a) => {
        const { completionScript, shellFromEnv } = await import('./completion.js');
        io.stdout.write(completionScript(a.shell === 'bash' || a.shell === 'zsh' ? a.shell : shellFromEnv(io.env)));
      },
    )
    .demandCommand(1, 'name a command: qshare add <folder>')
    .strict()
    .help()
    .alias('h', 'help')
    .wrap(helpWidth(io.stdout.columns))
    .exitProcess(false)
    .fail((msg, err) => {
      // yargs reports its own parse/validation failures as a message (or a YError, possibly wrapping what an
      // earlier fail() threw); anything else came from a command and keeps its identity.
      if (err instanceof UsageError) throw err;
      if (err && err.name !== 'YError') throw err;
      throw new UsageError(msg || err?.message || 'invalid command line');
    });

  try {
    await parser.parseAsync();
    return exitCode;
  } catch (e) {
    return report(e, io, json);
  }

  function globals(a: { json?: boolean; verbose?: boolean; config?: string }): GlobalOptions {
    json = a.json === true;
    return { json, verbose: a.verbose === true, config: a.config };
  }
}

class UsageError extends Error {}

function report(e: unknown, io: Io, json: boolean): number {
  if (e instanceof UsageError) {
    io.stderr.write(`qshare: ${e.message}\nRun \`qshare --help\` for the commands and options.\n`);
    return EXIT.usage;
  }
  if (isQshareError(e)) {
    if (json) io.stdout.write(JSON.stringify({ error: { code: e.code, message: e.message, hint: e.hint ?? null } }, null, 2) + '\n');
    io.stderr.write(`qshare: ${e.message}\n${e.hint ? `  ${e.hint}\n` : ''}`);
    return e.exitCode;
  }
  io.stderr.write(`qshare: unexpected error (a bug; please report it with this text):\n${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return EXIT.failure;
}
