import { chmod, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { QshareError } from '../errors.js';
import { ensurePrivateDir, writeFileAtomic } from '../fsx/atomic.js';
import { withFileLock } from '../fsx/lock.js';
import type { Logger } from '../log.js';
import type { SecretStore } from './store.js';

interface SecretsFile {
  version: 1;
  /** a reminder for whoever opens the file */
  warning: string;
  secrets: Record<string, string>;
}

const WARNING = 'Plain text: anyone who can read this file can read these passwords. qshare wrote it because secrets.store is "file".';

/**
 * The opt-in plain-text store: a JSON file, mode 0600, in the 0700 data folder, replaced atomically under a lock.
 * A file that others can read is narrowed back to 0600 with a warning. A damaged file is reported, never emptied.
 */
export function fileSecretStore(file: string, log: Logger): SecretStore {
  async function read(): Promise<Record<string, string>> {
    let text: string;
    try {
      const st = await stat(file);
      if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
        log.warn(`${file} could be read by other users (mode ${(st.mode & 0o777).toString(8)}); qshare set it back to 600`);
        await chmod(file, 0o600);
      }
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new QshareError('SECRET', `cannot read qshare's secrets file ${file}: ${(e as Error).message}`);
    }
    try {
      const parsed = JSON.parse(text) as SecretsFile;
      if (parsed?.version !== 1 || typeof parsed.secrets !== 'object' || parsed.secrets === null) throw new Error('unexpected shape');
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(parsed.secrets)) if (typeof v === 'string') out[k] = v;
      return out;
    } catch (e) {
      throw new QshareError('SECRET', `qshare's secrets file ${file} is damaged (${(e as Error).message}); it was left untouched`, {
        hint: `move it aside (mv "${file}" "${file}.bad"); the passwords in it are then no longer known to qshare`,
      });
    }
  }

  async function modify(fn: (s: Record<string, string>) => boolean): Promise<void> {
    await ensurePrivateDir(dirname(file));
    await withFileLock(`${file}.lock`, async () => {
      const secrets = await read();
      if (!fn(secrets)) return;
      const body: SecretsFile = { version: 1, warning: WARNING, secrets };
      await writeFileAtomic(file, JSON.stringify(body, null, 2) + '\n', { mode: 0o600 });
    }, { onTimeout: () => new QshareError('SECRET', `another qshare process holds ${file}.lock; try again in a moment`) });
  }

  return {
    kind: 'file',
    description: `the plain-text file ${file} (mode 600; secrets.store is "file")`,
    async get(key) {
      return (await read())[key];
    },
    async set(key, secret) {
      log.warn(`kept in ${file}: a plain-text file (mode 600; secrets.store is "file"); anyone who can read it can read the password`);
      await modify((s) => {
        s[key] = secret;
        return true;
      });
    },
    async delete(key) {
      await modify((s) => {
        if (!(key in s)) return false;
        delete s[key];
        return true;
      });
    },
  };
}
