import { readFileSync } from 'node:fs';
import { EXIT, isQshareError, QshareError } from '../errors.js';
import type { GlobalOptions, Io } from './context.js';
import { renderHelp } from './help.js';
import { parseCommandLine } from './parse.js';
import type { ParsedArgs, ParsedCommand } from './spec.js';
import { UsageError } from './usage-error.js';

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * The CLI's dispatcher. Returns the exit status; never calls process.exit. The command line is read once, from the
 * command table (parse.ts); --help, --version and Tab completion are answered from the same table. Commands (and
 * what they need: the config, the stores) are imported lazily, so each run loads only what it uses. Expected
 * failures (QshareError) are printed without a stack.
 */
export async function run(argv: string[], io: Io): Promise<number> {
  let json = argv.includes('--json');
  try {
    const line = parseCommandLine(argv);
    switch (line.kind) {
      case 'help':
        io.stdout.write(renderHelp(io.stdout.isTTY ? io.stdout.columns : undefined, line.command));
        return EXIT.ok;
      case 'version':
        io.stdout.write(`${packageVersion()}\n`);
        return EXIT.ok;
      case 'complete': {
        const { completions, renderCompletions } = await import('./completion.js');
        const shell = line.shell === 'legacy' ? (io.env.ZSH_NAME === 'zsh' ? 'zsh' : 'bash') : line.shell;
        io.stdout.write(renderCompletions(completions(line.words), shell));
        return EXIT.ok;
      }
      case 'run':
        json = line.args.json === true;
        return await dispatch(line, io);
    }
  } catch (e) {
    return report(e, io, json);
  }
}

/** Typed reads of parsed values: the parser gives each option the type the table names. */
function reader(a: ParsedArgs) {
  const get = <T>(k: string, type: string, ok: (v: unknown) => boolean): T => {
    const v = a[k];
    if (v !== undefined && !ok(v)) throw new Error(`internal: --${k} parsed as ${typeof v}, expected ${type}`);
    return v as T;
  };
  return {
    str: (k: string) => get<string | undefined>(k, 'string', (v) => typeof v === 'string'),
    num: (k: string) => get<number | undefined>(k, 'number', (v) => typeof v === 'number'),
    strs: (k: string) =>
      get<string[] | undefined>(k, 'string[]', (v) => Array.isArray(v) && v.every((x) => typeof x === 'string')),
    bool: (k: string) => get<boolean | undefined>(k, 'boolean', (v) => typeof v === 'boolean') === true,
    optBool: (k: string) => get<boolean | undefined>(k, 'boolean', (v) => typeof v === 'boolean'),
  };
}

async function dispatch({ command, args }: ParsedCommand, io: Io): Promise<number> {
  const a = reader(args);
  const globals: GlobalOptions = { json: a.bool('json'), verbose: a.bool('verbose'), config: a.str('config') };
  /** the operand the table makes required (the parser refuses a command line without it) */
  const makeContext = async (i: Io, g: GlobalOptions) => (await import('./context.js')).makeContext(i, g);
  /** the context and the command's module, loaded side by side (reading the config overlaps compiling the module) */
  const withContext = <M>(load: Promise<M>) => Promise.all([makeContext(io, globals), load]);
  const operand = (k: string): string => {
    const v = a.str(k);
    if (v === undefined) throw new Error(`internal: <${k}> missing`);
    return v;
  };
  switch (command) {
    case 'add': {
      // the biggest module, loaded while the options are checked and the config read
      const loading = import('./commands/add.js');
      loading.catch(() => undefined); // a usage error below returns first; the import's own failure is awaited there
      const [{ checkLevel, checkTrackerUrl }, { checkRecipients, parseExpire }] = await Promise.all([
        import('../config/schema.js'),
        import('../share/limits.js'),
      ]);
      const rawLevel = a.str('level');
      const level = rawLevel === undefined || rawLevel === 'auto' ? rawLevel : Number(rawLevel);
      const levelProblem = level === undefined || level === 'auto' ? undefined : checkLevel(level);
      if (levelProblem) throw new QshareError('USAGE', `--level ${levelProblem}, or auto`);
      const tracker = a.strs('tracker');
      for (const t of tracker ?? []) {
        const p = checkTrackerUrl(t);
        if (p) throw new QshareError('USAGE', `--tracker ${p}`);
      }
      const rawRecipients = a.num('recipients');
      const recipients = rawRecipients === undefined ? undefined : checkRecipients(rawRecipients);
      const rawExpire = a.str('expire');
      const expireMinutes = rawExpire === undefined ? undefined : parseExpire(rawExpire);
      const [ctx, { runAdd }] = await withContext(loading);
      return runAdd(
        ctx,
        {
          path: operand('path'),
          name: a.str('name'),
          level,
          tracker,
          private: a.bool('private'),
          encrypt: a.bool('encrypt'),
          seed: a.bool('seed'),
          passwordStdin: a.bool('password-stdin'),
          askPassword: a.bool('ask-password'),
          recipients,
          expireMinutes,
          relay: a.strs('relay'),
          handoff: a.bool('handoff'),
        },
        packageVersion(),
      );
    }
    case 'seed': {
      const [ctx, { runSeed }] = await withContext(import('./commands/seed.js'));
      return runSeed(ctx, operand('share'), { untilDone: a.bool('until-done'), handoff: a.bool('handoff') });
    }
    case 'watch': {
      const [ctx, { runWatch }] = await withContext(import('./commands/watch.js'));
      return runWatch(ctx, { dir: a.str('dir'), installService: a.bool('install-service') }, packageVersion());
    }
    case 'get': {
      const [ctx, { runGet }] = await withContext(import('./commands/get.js'));
      return runGet(ctx, {
        source: operand('source'),
        to: a.str('to'),
        passwordStdin: a.bool('password-stdin'),
        force: a.bool('force'),
        seed: a.bool('seed'),
        relay: a.str('relay'),
      });
    }
    case 'ls': {
      const [ctx, { runLs }] = await withContext(import('./commands/ls.js'));
      return runLs(ctx);
    }
    case 'show': {
      const [ctx, { runShow }] = await withContext(import('./commands/show.js'));
      return runShow(ctx, operand('share'), a.bool('qr'));
    }
    case 'stop': {
      const [ctx, { runStop }] = await withContext(import('./commands/stop.js'));
      return runStop(ctx, operand('share'), a.bool('delete'));
    }
    case 'login': {
      const ctx = await makeContext(io, globals);
      const login = {
        url: a.str('url'),
        username: a.str('username'),
        passwordStdin: a.bool('password-stdin'),
        caFile: a.str('ca-file'),
        insecure: a.optBool('insecure'),
      };
      const relay = a.str('relay');
      if (relay === undefined) {
        for (const k of ['peer', 'save-path'])
          if (a.str(k) !== undefined) throw new QshareError('USAGE', `--${k} goes with --relay NAME`);
        if (a.bool('remove')) throw new QshareError('USAGE', '--remove goes with --relay NAME');
        const { runLogin } = await import('./commands/login.js');
        return runLogin(ctx, login);
      }
      const { runRelayLogin } = await import('./commands/relay.js');
      return runRelayLogin(ctx, {
        ...login,
        name: relay,
        peer: a.str('peer'),
        savePath: a.str('save-path'),
        remove: a.bool('remove'),
      });
    }
    case 'relay': {
      const [ctx, { runRelayLs }] = await withContext(import('./commands/relay.js'));
      return runRelayLs(ctx);
    }
    case 'doctor': {
      const [ctx, { runDoctorCommand }] = await withContext(import('./commands/doctor.js'));
      return runDoctorCommand(ctx, { fix: a.bool('fix'), yes: a.bool('yes') });
    }
    case 'daemon': {
      const [ctx, { runDaemon }] = await withContext(import('./commands/daemon.js'));
      return runDaemon(ctx, operand('action'));
    }
    case 'completion': {
      const { completionScript, shellFromEnv } = await import('./completion.js');
      const shell = a.str('shell');
      io.stdout.write(completionScript(shell === 'bash' || shell === 'zsh' ? shell : shellFromEnv(io.env)));
      return EXIT.ok;
    }
  }
}

function report(e: unknown, io: Io, json: boolean): number {
  if (e instanceof UsageError) {
    const help = e.command ? `qshare ${e.command} --help` : 'qshare --help';
    io.stderr.write(
      `qshare: ${e.message}\nRun \`${help}\` for the ${e.command ? 'options' : 'commands and options'}.\n`,
    );
    return EXIT.usage;
  }
  if (isQshareError(e)) {
    if (json)
      io.stdout.write(
        JSON.stringify({ error: { code: e.code, message: e.message, hint: e.hint ?? null } }, null, 2) + '\n',
      );
    io.stderr.write(`qshare: ${e.message}\n${e.hint ? `  ${e.hint}\n` : ''}`);
    return e.exitCode;
  }
  io.stderr.write(
    `qshare: unexpected error (a bug; please report it with this text):\n${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  return EXIT.failure;
}
