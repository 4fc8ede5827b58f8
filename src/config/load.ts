import { readFile } from 'node:fs/promises';
import { QshareError } from '../errors.js';
import { applyEnv, DEFAULT_CONFIG, validateConfig, type Config } from './schema.js';

/**
 * Reads the config file (a missing file means the defaults), validates it, applies env overrides.
 * Every problem is reported at once.
 */
export async function loadConfig(file: string, env: NodeJS.ProcessEnv): Promise<Config> {
  const raw = await readConfigJson(file, { hint: 'compare it with config.example.json' });
  const fromFile = raw === undefined ? { config: structuredClone(DEFAULT_CONFIG), problems: [] } : validateConfig(raw);
  const withEnv = applyEnv(fromFile.config, env);
  const problems = [...fromFile.problems, ...withEnv.problems];
  if (problems.length > 0) {
    throw new QshareError(
      'CONFIG',
      `the configuration has ${problems.length === 1 ? 'a problem' : `${problems.length} problems`} (${file}):\n  - ${problems.join('\n  - ')}`,
    );
  }
  return withEnv.config;
}

/**
 * The config file's JSON: undefined when there is no file, `{}` when it is empty. A file that cannot be read or is
 * not JSON → CONFIG, with `unchanged` added to the message when the caller was about to change it.
 */
export async function readConfigJson(file: string, o: { hint: string; unchanged?: boolean }): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new QshareError('CONFIG', `cannot read the config file ${file}: ${(e as Error).message}`);
  }
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const what = `the config file ${file} is not valid JSON (${(e as Error).message})`;
    throw new QshareError('CONFIG', o.unchanged ? `${what}; qshare did not change it` : what, { hint: o.hint });
  }
}
