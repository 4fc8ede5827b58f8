#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { EXIT } from '../errors.js';
import { fastOutput } from './help-cache.js';

// The thin shell: wire the process to run(). Signals abort the current work; the pipeline removes partial files.
const controller = new AbortController();
let interrupts = 0;
const onSignal = (sig: NodeJS.Signals) => {
  interrupts++;
  if (interrupts > 1) process.exit(EXIT.interrupted);
  process.stderr.write(`\nqshare: ${sig === 'SIGINT' ? 'interrupted' : sig}; cleaning up…\n`);
  controller.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const argv = process.argv.slice(2);
// `--help` / `--version`: printed from the text the build cached, without loading the dispatcher (help-cache.ts)
const fast = fastOutput(argv, process.stdout.isTTY ? process.stdout.columns : undefined);
if (fast !== undefined) {
  process.stdout.write(fast);
  process.exitCode = EXIT.ok;
} else {
  const { run } = await import('./run.js');
  process.exitCode = await run(argv, {
    env: process.env,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    signal: controller.signal,
    entry: fileURLToPath(import.meta.url),
  });
  // After Ctrl-C a request that cannot be cancelled (one to qBittorrent) may still be open; it must not hold the exit
  // back until its timeout. Everything to clean up was cleaned up before run() returned.
  if (process.exitCode === EXIT.interrupted) setTimeout(() => process.exit(), 1000).unref();
}
