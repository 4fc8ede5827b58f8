import { run } from './run.js';
import type { Io } from './context.js';

/** What `qshare --help` prints on a terminal `columns` wide, rendered by yargs (which prints through console.log). */
export async function renderHelp(columns: number): Promise<string> {
  let out = '';
  const sink = { columns, isTTY: false, write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream;
  const io: Io = { env: {}, stdin: process.stdin, stdout: sink, stderr: sink, signal: new AbortController().signal, entry: '' };
  const log = console.log;
  console.log = (...args: unknown[]) => {
    out += `${args.map(String).join(' ')}\n`;
  };
  try {
    const code = await run(['--help'], io);
    if (code !== 0) throw new Error(`qshare --help exited ${code}`);
  } finally {
    console.log = log;
  }
  return out;
}
