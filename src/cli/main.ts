#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { EXIT } from '../errors.js';
import { run } from './run.js';

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

process.exitCode = await run(process.argv.slice(2), {
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
