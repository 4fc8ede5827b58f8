import { chmod, readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { QshareError } from '../errors.js';
import { ensurePrivateDir, writeFileAtomic } from '../fsx/atomic.js';
import { withFileLock } from '../fsx/lock.js';
import type { Logger } from '../log.js';
import type { SecretBackend } from './store.js';

interface SecretsFile {
  version: 1;
  /** a reminder for whoever opens the file */
  warning: string;
  secrets: Record<string, string>;
}

const WARNING =
  'Plain text, readable only by its owner (mode 600): anyone who can read this file can read these passwords.';

const lockOf = (file: string) => `${file}.lock`;
const lockTimeout = (file: string) => () =>
  new QshareError('SECRET', `another qshare process holds ${lockOf(file)}; try again in a moment`);

/** The temp files of writes that died (`.secrets.json.partial-<hex>`): each may hold every password of the file. */
async function deadWrites(file: string): Promise<string[]> {
  const prefix = `.${basename(file)}.partial-`;
  const names = await readdir(dirname(file)).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(prefix)).map((n) => join(dirname(file), n));
}

async function removeDeadWrites(file: string, log: Logger): Promise<void> {
  for (const p of await deadWrites(file)) {
    await rm(p, { force: true });
    log.debug(`removed ${p}, a copy of the secrets file left by a write that was killed`);
  }
}

/**
 * Removes what killed writes of the secrets file left behind. Only the lock holder writes, so a partial file seen
 * while holding the lock belongs to a writer that is gone. Cheap when there is none (one folder listing, no lock).
 */
export async function cleanDeadWrites(file: string, log: Logger): Promise<void> {
  if ((await deadWrites(file)).length === 0) return;
  await withFileLock(lockOf(file), () => removeDeadWrites(file, log), { onTimeout: lockTimeout(file) });
}

/**
 * The owner-only store: a JSON file, mode 0600, in the data folder (made 0700), replaced atomically under a lock;
 * each write first removes partial copies left by killed writes. A file that others can read is narrowed back to
 * 0600 with a warning. A damaged file is reported, never emptied.
 * `why` says, once, why secrets go to a file: when its first write creates it (empty: a store only read and cleaned).
 */
export function fileBackend(file: string, log: Logger, why: string): SecretBackend {
  async function read(): Promise<Record<string, string> | undefined> {
    let text: string;
    try {
      const st = await stat(file);
      if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
        log.warn(
          `${file} could be read by other users (mode ${(st.mode & 0o777).toString(8)}); qshare set it back to 600`,
        );
        await chmod(file, 0o600);
      }
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new QshareError('SECRET', `cannot read qshare's secrets file ${file}: ${(e as Error).message}`);
    }
    try {
      const parsed = JSON.parse(text) as SecretsFile;
      if (parsed?.version !== 1 || typeof parsed.secrets !== 'object' || parsed.secrets === null)
        throw new Error('unexpected shape');
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(parsed.secrets)) if (typeof v === 'string') out[k] = v;
      return out;
    } catch (e) {
      throw new QshareError(
        'SECRET',
        `qshare's secrets file ${file} is damaged (${(e as Error).message}); it was left untouched`,
        {
          hint: `move it aside (mv "${file}" "${file}.bad"); the passwords in it are then no longer known to qshare`,
        },
      );
    }
  }

  /** Runs `fn` on the secrets under the lock and writes them back when it says so; `created`: the file is new. */
  async function modify(fn: (s: Record<string, string>) => boolean): Promise<{ changed: boolean; created: boolean }> {
    await ensurePrivateDir(dirname(file));
    return withFileLock(
      lockOf(file),
      async () => {
        await removeDeadWrites(file, log);
        const before = await read();
        const secrets = before ?? {};
        if (!fn(secrets)) return { changed: false, created: false };
        const body: SecretsFile = { version: 1, warning: WARNING, secrets };
        await writeFileAtomic(file, JSON.stringify(body, null, 2) + '\n', { mode: 0o600 });
        return { changed: true, created: before === undefined };
      },
      { onTimeout: lockTimeout(file) },
    );
  }

  return {
    kind: 'file',
    description: `the owner-only file ${file} (mode 600)`,
    async get(key) {
      return (await read())?.[key];
    },
    async set(key, secret) {
      const r = await modify((s) => {
        s[key] = secret;
        return true;
      });
      if (r.created && why !== '') {
        log.info(
          `passwords are kept in ${file}, a plain-text file only you can read (mode 600), because ${why}. ` +
            'To keep none, set "secrets": {"store": "none"} in the config; to allow only the OS keychain, "keychain". ' +
            '(Said once: when the file is made.)',
        );
      }
    },
    async delete(key) {
      const r = await modify((s) => {
        if (!(key in s)) return false;
        delete s[key];
        return true;
      });
      return r.changed;
    },
  };
}
