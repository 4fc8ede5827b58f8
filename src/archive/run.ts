/**
 * The one place that spawns 7-Zip. The password travels only on stdin, which is written and then closed (7-Zip
 * waits forever on an open stdin pipe). Locale is forced to C.UTF-8: p7zip mangles non-ASCII names otherwise.
 */
import { spawn } from 'node:child_process';
import { QshareError } from '../errors.js';
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
}

const OPS: Record<string, SevenZipOp> = { a: 'create', t: 'test', x: 'extract', l: 'list' };
const STDERR_CAP = 256 * 1024;

export function runSevenZip(sz: SevenZip, args: string[], opts: RunOptions): Promise<{ stdout: string; stderr: string }> {
  const op = opts.op ?? OPS[args[0] ?? ''] ?? 'create';
  if (opts.signal?.aborted) return Promise.reject(new QshareError('INTERRUPTED', 'interrupted'));
  return new Promise((resolve, reject) => {
    const child = spawn(sz.path, args, {
      cwd: opts.cwd,
      env: { ...(opts.env ?? process.env), LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
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
            ? new QshareError('SEVENZIP_MISSING', `7-Zip at ${sz.path} cannot be run (${c})`, { hint: 'install 7-Zip (`sudo apt install 7zip`) or fix the "sevenZip" path in the config', cause: spawnError })
            : spawnError,
        );
        return;
      }
      if (code === 0 && !aborted) {
        resolve({ stdout, stderr });
        return;
      }
      reject(sevenZipError({ op, code, signal, stderr, aborted, password: opts.password }));
    });
  });
}
