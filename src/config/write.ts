import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { QshareError } from '../errors.js';
import { writeFileAtomic } from '../fsx/atomic.js';
import { readConfigJson } from './load.js';
import { validateConfig } from './schema.js';

type Raw = Record<string, unknown>;

/**
 * Changes some keys of the config file and keeps everything else (unknown `$schema`/`//` keys included): reads the
 * raw JSON (a missing file is `{}`), lets `mutate` change it, checks the result as loadConfig would, and replaces the
 * file atomically with its old mode (0600 for a new one). A file that is not valid JSON is refused, never replaced.
 */
export async function updateConfigFile(file: string, mutate: (raw: Raw) => void): Promise<void> {
  const json = await readConfigJson(file, { hint: 'fix it or move it aside, then try again', unchanged: true });
  // a new file is the owner's alone; an existing one keeps its mode
  const mode =
    json === undefined
      ? 0o600
      : await stat(file).then(
          (s) => s.mode & 0o777,
          () => 0o600,
        );
  const raw = json ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new QshareError('CONFIG', `the config file ${file} is not a JSON object; qshare did not change it`);
  const obj = raw as Raw;
  mutate(obj);
  const { problems } = validateConfig(obj);
  if (problems.length > 0)
    throw new QshareError(
      'CONFIG',
      `the config file ${file} would not be valid, so qshare did not change it:\n  - ${problems.join('\n  - ')}`,
    );
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, JSON.stringify(obj, null, 2) + '\n', { mode });
}

/** `raw.qbittorrent` as an object (created when missing). */
export function qbitSection(raw: Raw): Raw {
  const q = raw.qbittorrent;
  if (typeof q === 'object' && q !== null && !Array.isArray(q)) return q as Raw;
  const fresh: Raw = {};
  raw.qbittorrent = fresh;
  return fresh;
}
