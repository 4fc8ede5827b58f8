/** Running one command under GNU time (`/usr/bin/time -v`): wall-clock seconds, CPU seconds and peak RSS. The one place that spawns. */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCpuSeconds, parseTimeV } from './report.js';

export interface Step {
  cmd: string;
  args: string[];
  /** written to stdin, then closed */
  stdin?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface Measured {
  seconds: number;
  peakRss: number;
  /** user + system, all threads */
  cpuSeconds: number;
  stdout: string;
  stderr: string;
}

export const GNU_TIME = '/usr/bin/time';

export async function measure(step: Step): Promise<Measured> {
  const timeFile = join(tmpdir(), `qshare-bench-time-${randomBytes(6).toString('hex')}`);
  const t0 = performance.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(GNU_TIME, ['-v', '-o', timeFile, step.cmd, ...step.args], {
        env: step.env ?? process.env,
        cwd: step.cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err.length < 1 << 20 ? (err += d) : undefined));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
      child.stdin.on('error', () => {});
      child.stdin.end(step.stdin ?? '');
    },
  );
  const seconds = (performance.now() - t0) / 1000;
  const report = await readFile(timeFile, 'utf8').catch(() => '');
  await rm(timeFile, { force: true });
  if (code !== 0)
    throw new Error(
      `${step.cmd} ${step.args.join(' ')} exited ${code}:\n${stderr.slice(-2000)}${report.slice(0, 200)}`,
    );
  const peakRss = parseTimeV(report);
  const cpuSeconds = parseCpuSeconds(report);
  if (peakRss === undefined || cpuSeconds === undefined)
    throw new Error(`no peak RSS or CPU times in GNU time's report:\n${report}`);
  return { seconds, peakRss, cpuSeconds, stdout, stderr };
}

/** Runs a command without measuring it (setup, cleanup); rejects on a non-zero exit. */
export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; stdin?: string } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (c) =>
      c === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${c}: ${err.slice(-1000)}`)),
    );
    child.stdin.on('error', () => {});
    child.stdin.end(opts.stdin ?? '');
  });
}
