import { isQshareError, QshareError } from '../errors.js';
import { connectQbit, type QbitSession } from '../qbit/client.js';
import type { CommandContext } from './context.js';
import { promptHidden } from './prompt.js';

/**
 * Connects to qBittorrent with the password from QSHARE_QBIT_PASSWORD; without one it first tries no login at all
 * (the Web UI's "bypass authentication for clients on localhost"), and only if that is refused asks once on a TTY.
 * One login per run: a refused login is never retried (five failures ban the address for an hour).
 * The result (session or error) is memoised, except "nothing listening", which a later call may try again.
 */
export function qbitConnector(ctx: CommandContext): () => Promise<QbitSession> {
  let result: Promise<QbitSession> | undefined;
  const attempt = async (): Promise<QbitSession> => {
    const q = ctx.config.qbittorrent;
    const base = { url: q.url, username: q.username, timeoutMs: q.timeoutSeconds * 1000, log: ctx.log.child('qbit') };
    const fromEnv = ctx.env.QSHARE_QBIT_PASSWORD;
    if (fromEnv !== undefined && fromEnv !== '') return connectQbit({ ...base, password: fromEnv });
    try {
      return await connectQbit({ ...base, password: undefined });
    } catch (e) {
      if (!isQshareError(e) || e.code !== 'QBIT_AUTH') throw e;
      if (!ctx.interactive || ctx.opts.json) {
        throw new QshareError('QBIT_AUTH', `qBittorrent at ${q.url} needs the Web UI password`, {
          hint: 'set QSHARE_QBIT_PASSWORD in the environment, or run qshare in a terminal to be asked for it',
        });
      }
      const password = await promptHidden(`qBittorrent Web UI password for ${q.username} at ${q.url}: `, ctx.stdin, ctx.stderr);
      return connectQbit({ ...base, password });
    }
  };
  return () => {
    if (!result) {
      result = attempt();
      result.catch((e) => {
        if (isQshareError(e) && e.code === 'QBIT_UNREACHABLE') result = undefined;
      });
    }
    return result;
  };
}
