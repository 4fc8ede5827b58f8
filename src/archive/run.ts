/**
 * The one place that spawns 7-Zip. The password travels only on stdin, which is written and then closed (7-Zip
 * waits forever on an open stdin pipe). Locale is forced to C.UTF-8: p7zip mangles non-ASCII names otherwise.
 * On Linux 7-Zip runs under `setpriv --pdeathsig KILL` (when util-linux has it): if qshare itself is killed
 * (SIGKILL, a crash, the OOM killer) the kernel kills 7-Zip too, instead of leaving it writing an orphan archive.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { QshareError } from '../errors.js';
import { childEnv } from '../env.js';
import { sevenZipError, type SevenZipOp } from './errors.js';
import type { SevenZip } from './find.js';
import { createProgressParser } from './progress.js';

export interface RunOptions {
  /** written to stdin, then stdin is closed */
  stdin: string;
  cwd?: string;
  signal?: AbortSignal;
  /** when given, stdout is consumed by the progress parser and the returned stdout is '' */
  onProgress?: (percent: number, file?: string) => void;
  /** names the operation in error messages; default from args[0] */
  op?: SevenZipOp;
  /** the password, only to scrub it from any text echoed in an error */
  password?: string;
  /** base environment (default process.env); LANG/LC_ALL are always C.UTF-8 */
  env?: NodeJS.ProcessEnv;
  /** after SIGINT, how long to wait before SIGKILL */
  killAfterMs?: number;
  /**
   * run 7-Zip under this `setpriv` so it dies with qshare (see spawnPlan); default: /usr/bin/setpriv on Linux when
   * it is there, else none. null: never.
   */
  setpriv?: string | null;
}

const SETPRIV = '/usr/bin/setpriv';

/** `/usr/bin/setpriv` on Linux when it can be run, else null (macOS, Windows, a system without util-linux). */
export function defaultSetpriv(platform: NodeJS.Platform = process.platform): string | null {
  if (platform !== 'linux') return null;
  try {
    accessSync(SETPRIV, constants.X_OK);
    return SETPRIV;
  } catch {
    return null;
  }
}

/**
 * Pure: what to execute for 7-Zip `bin` with `args`. With a setpriv, `setpriv --pdeathsig KILL -- bin args…`:
 * setpriv sets the parent-death signal and then execs 7-Zip in the same process (same pid, same stdin, so the
 * password still goes only to 7-Zip's stdin; argv holds no secret either way).
 */
export function spawnPlan(bin: string, args: string[], setpriv: string | null): { command: string; args: string[] } {
  return setpriv ? { command: setpriv, args: ['--pdeathsig', 'KILL', '--', bin, ...args] } : { command: bin, args };
}

const OPS: Record<string, SevenZipOp> = { a: 'create', t: 'test', x: 'extract', l: 'list' };
const STDERR_CAP = 256 * 1024;

export function runSevenZip(
  sz: SevenZip,
  args: string[],
  opts: RunOptions,
): Promise<{ stdout: string; stderr: string }> {
  const op = opts.op ?? OPS[args[0] ?? ''] ?? 'create';
  if (opts.signal?.aborted) return Promise.reject(new QshareError('INTERRUPTED', 'interrupted'));
  const plan = spawnPlan(sz.path, args, opts.setpriv === undefined ? defaultSetpriv() : opts.setpriv);
  return new Promise((resolve, reject) => {
    const child = spawn(plan.command, plan.args, {
      cwd: opts.cwd,
      env: { ...childEnv(opts.env ?? process.env), LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    let spawnError: Error | undefined;

    const feed = opts.onProgress ? createProgressParser((u) => opts.onProgress?.(u.percent, u.file)) : null;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      if (feed) feed(d);
      else stdout += d;
    });
    child.stderr.on('data', (d: string) => {
      if (stderr.length < STDERR_CAP) stderr += d;
    });
    // 7-Zip may exit before reading stdin (e.g. bad archive): ignore EPIPE
    child.stdin.on('error', () => {});
    child.stdin.end(opts.stdin);

    const onAbort = () => {
      if (aborted) return;
      aborted = true;
      child.kill('SIGINT');
      killTimer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 5000);
      killTimer.unref();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (code, signal) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      if (spawnError) {
        const c = (spawnError as NodeJS.ErrnoException).code;
        reject(
          c === 'ENOENT' || c === 'EACCES'
            ? new QshareError('SEVENZIP_MISSING', `7-Zip at ${sz.path} cannot be run (${c})`, {
                hint: 'install 7-Zip (`sudo apt install 7zip`) or fix the "sevenZip" path in the config',
                cause: spawnError,
              })
            : spawnError,
        );
        return;
      }
      if (code === 0 && !aborted) {
        resolve({ stdout, stderr });
        return;
      }
      if (plan.command !== sz.path && code === 127 && /^setpriv: /m.test(stderr)) {
        // setpriv could not exec 7-Zip (it vanished since it was found)
        reject(
          new QshareError('SEVENZIP_MISSING', `7-Zip at ${sz.path} cannot be run (${stderr.trim().split('\n')[0]})`, {
            hint: 'install 7-Zip (`sudo apt install 7zip`) or fix the "sevenZip" path in the config',
          }),
        );
        return;
      }
      reject(sevenZipError({ op, code, signal, stderr, aborted, password: opts.password }));
    });
  });
}
