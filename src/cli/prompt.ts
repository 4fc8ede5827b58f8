import type { Readable, Writable } from 'node:stream';
import { QshareError } from '../errors.js';

/**
 * Asks for a secret on a TTY without echoing it. Ctrl-C aborts with INTERRUPTED. The caller checks isTTY first.
 */
export function promptHidden(question: string, input: NodeJS.ReadStream, output: Writable): Promise<string> {
  return new Promise((resolve, reject) => {
    output.write(question);
    const wasRaw = input.isRaw;
    input.setRawMode?.(true);
    input.resume();
    input.setEncoding('utf8');
    let value = '';
    const finish = (err?: Error) => {
      input.setRawMode?.(wasRaw);
      input.pause();
      input.off('data', onData);
      output.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(new QshareError('INTERRUPTED', 'cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    input.on('data', onData);
  });
}

/** Asks for a visible line on a TTY; an empty answer takes `fallback`. */
export async function promptLine(
  question: string,
  fallback: string,
  input: NodeJS.ReadStream,
  output: Writable,
): Promise<string> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input, output, terminal: true });
  try {
    const answer = (await rl.question(`${question} [${fallback}]: `)).trim();
    return answer === '' ? fallback : answer;
  } finally {
    rl.close();
  }
}

/** --password-stdin: the first line of standard input (a trailing \r\n or \n is removed). */
export async function readSecretFromStdin(input: Readable, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of input) {
    chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
    if (Buffer.concat(chunks).includes(0x0a)) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const line = text.split('\n')[0]!.replace(/\r$/, '');
  if (line === '')
    throw new QshareError(
      'USAGE',
      `${what}: standard input was empty; pipe the password in, e.g. from a password manager`,
    );
  return line;
}
