import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built qshare binary (black box) with the given environment and optional stdin. */
export function runCli(
  args: string[],
  opts: {
    env: NodeJS.ProcessEnv;
    input?: string;
    onSpawn?: (child: ChildProcess) => void;
    timeoutMs?: number;
    cwd?: string;
  },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: opts.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
    opts.onSpawn?.(child);
  });
}

/**
 * A clean environment for a qshare run: no inherited QSHARE_* or proxy variables, and no session bus, so a test never
 * writes into the keychain of whoever runs it (pass DBUS_SESSION_BUS_ADDRESS of a test bus in `extra` to use one).
 */
export function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('QSHARE_') && !/_proxy$/i.test(k) && k !== 'DBUS_SESSION_BUS_ADDRESS') env[k] = v;
  return { ...env, NO_COLOR: '1', ...extra };
}

/**
 * Samples every process's command line (/proc/<pid>/cmdline) until stopped, so a test can prove a secret never
 * appeared in any of them. Returns the distinct command lines seen.
 */
export function watchCmdlines(
  intervalMs = 2,
  environOf?: (cmdline: string) => boolean,
): { stop(): Promise<string[]>; environs(): string[] } {
  const seen = new Set<string>();
  const environs = new Set<string>();
  let running = true;
  const loop = (async () => {
    while (running) {
      let pids: string[] = [];
      try {
        pids = (await readdir('/proc')).filter((p) => /^\d+$/.test(p));
      } catch {
        /* not Linux */
      }
      await Promise.all(
        pids.map((pid) =>
          readFile(`/proc/${pid}/cmdline`).then(
            async (b) => {
              if (!b.length) return;
              const cmd = b.toString('utf8').replace(/\0/g, ' ').trim();
              seen.add(cmd);
              // the environments of the processes asked about (e.g. 7-Zip), to prove no secret was handed on
              if (environOf?.(cmd)) environs.add(await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => ''));
            },
            () => {},
          ),
        ),
      );
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return [...seen];
    },
    environs: () => [...environs].filter((e) => e !== ''),
  };
}
