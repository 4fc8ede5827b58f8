import { readFile } from 'node:fs/promises';
import { QshareError } from '../errors.js';
import { applyEnv, DEFAULT_CONFIG, validateConfig, type Config } from './schema.js';

/**
 * Reads the config file (a missing file means the defaults), validates it, applies env overrides.
 * Every problem is reported at once.
 */
export async function loadConfig(file: string, env: NodeJS.ProcessEnv): Promise<Config> {
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT')
      throw new QshareError('CONFIG', `cannot read the config file ${file}: ${(e as Error).message}`);
  }
  let raw: unknown = {};
  if (text !== undefined && text.trim() !== '') {
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new QshareError('CONFIG', `the config file ${file} is not valid JSON: ${(e as Error).message}`, {
        hint: 'compare it with config.example.json',
      });
    }
  }
  const fromFile = text === undefined ? { config: structuredClone(DEFAULT_CONFIG), problems: [] } : validateConfig(raw);
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
