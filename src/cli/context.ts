import { loadConfig } from '../config/load.js';
import { resolvePaths, type Paths } from '../config/paths.js';
import type { Config } from '../config/schema.js';
import { createLogger, type Logger } from '../log.js';
import type { Progress } from '../share/deps.js';
import { noProgress } from '../share/deps.js';
import { makeDeps, type CommandDeps } from './deps.js';
import { ttyProgress } from './progress.js';

/** What every command gets from the shell: streams, environment, and the run's abort signal. */
export interface Io {
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  signal: AbortSignal;
  /** the running CLI's entry script (dist/cli/main.js), for what must start qshare again (a service unit) */
  entry: string;
}

export interface GlobalOptions {
  json: boolean;
  verbose: boolean;
  config?: string;
}

export interface CommandContext extends Io {
  opts: GlobalOptions;
  paths: Paths;
  config: Config;
  log: Logger;
  progress: Progress;
  /** stdout is for results; human text goes there only without --json */
  print(text: string): void;
  printJson(value: unknown): void;
  /** interactive prompts allowed */
  interactive: boolean;
  /** the run's stores, 7-Zip and qBittorrent connection, each built once when first used (deps.ts) */
  deps: CommandDeps;
}

export async function makeContext(io: Io, opts: GlobalOptions): Promise<CommandContext> {
  const env = opts.config ? { ...io.env, QSHARE_CONFIG: opts.config } : io.env;
  const paths = resolvePaths(env);
  const color = io.stderr.isTTY === true && !env.NO_COLOR;
  const log = createLogger({
    write: (l) => io.stderr.write(l),
    json: opts.json || io.stderr.isTTY !== true,
    level: opts.verbose ? 'debug' : 'info',
    color,
  });
  const config = await loadConfig(paths.configFile, env);
  const base: Omit<CommandContext, 'deps'> = {
    ...io,
    env,
    opts,
    paths,
    config,
    log,
    progress: !opts.json && io.stderr.isTTY === true ? ttyProgress(io.stderr) : noProgress,
    print: (t) => {
      if (!opts.json) io.stdout.write(t.endsWith('\n') ? t : t + '\n');
    },
    printJson: (v) => io.stdout.write(JSON.stringify(v, null, 2) + '\n'),
    interactive: io.stdin.isTTY === true && io.stderr.isTTY === true,
  };
  return { ...base, deps: makeDeps(base) };
}
