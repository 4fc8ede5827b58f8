import { spawn } from 'node:child_process';

/** 7-Zip itself (`7zz`), password on stdin: the independent check of what qshare wrote. stdout and stderr together. */
export function sevenZip(args: string[], stdin: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn('7zz', args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C.UTF-8' } });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    // 7-Zip may exit without reading its input (an archive without a password)
    p.stdin.on('error', () => {});
    p.on('close', (code) => resolve({ code, out }));
    p.stdin.end(stdin);
  });
}
