import { DEFAULT_CONFIG } from '../config/schema.js';
import { isQshareError, QshareError } from '../errors.js';
import { ensureManaged, findNox, type ManagedDeps } from '../managed/daemon.js';
import { connectQbit, type QbitOptions } from '../qbit/connect.js';
import type { QbitSession } from '../qbit/session.js';
import { parseQbitUrl } from '../qbit/url.js';
import { qbitSecretKey, type SecretStore } from '../secrets/store.js';
import type { CommandContext } from './context.js';
import { promptHidden } from './prompt.js';

/** The secret store key of the configured Web UI: the URL as shown (no credentials, no trailing slash) + user. */
export function qbitKeyFor(url: string, username: string): string {
  return qbitSecretKey(parseQbitUrl(url).display, username);
}

/** Connection options from the config, without a password. */
export function qbitBaseOptions(ctx: CommandContext): QbitOptions {
  const q = ctx.config.qbittorrent;
  return {
    url: q.url,
    username: q.username,
    timeoutMs: q.timeoutSeconds * 1000,
    log: ctx.log.child('qbit'),
    tls: { caFile: q.caFile, insecure: q.insecureTls },
  };
}

/** The ways to give qshare the Web UI password, for messages. */
export const PASSWORD_WAYS =
  "run `qshare login` once (keeps it in the keychain, or in qshare's owner-only secrets file), or set QSHARE_QBIT_PASSWORD, or run qshare in a terminal to be asked";

/**
 * Connects to qBittorrent. The password (or 5.2 API key) comes from, in order: QSHARE_QBIT_PASSWORD → the secret
 * store (what `qshare login` kept) → none at all, which works when the Web UI bypasses authentication for this
 * address → a hidden prompt on a TTY → an error naming those ways.
 * One login per run: a refused login is never retried, not even with another source (five failures ban the address
 * for an hour). The result (session or error) is memoised, except "nothing listening", which a later call may retry.
 */
export function qbitConnector(ctx: CommandContext): () => Promise<QbitSession> {
  let result: Promise<QbitSession> | undefined;
  const secrets = ctx.deps.secrets;
  const attempt = async (): Promise<QbitSession> => {
    try {
      return await configured();
    } catch (e) {
      // nothing listens at the configured address: qshare's own qBittorrent, if the config allows and it is installed
      if (!isQshareError(e) || e.code !== 'QBIT_UNREACHABLE' || !/^nothing is listening at /.test(e.message)) throw e;
      // only while qshare is not pointed at a qBittorrent of the user's (qshare login, qbittorrent.url, QSHARE_QBIT_URL):
      // seeding into another client than the one they chose would be a surprise
      if (
        !ctx.config.managed.autoStart ||
        ctx.config.qbittorrent.url !== DEFAULT_CONFIG.qbittorrent.url ||
        !findNox(ctx.env)
      )
        throw e;
      const m = await ensureManaged(managedDeps(ctx));
      if (m.started)
        ctx.log.info(
          `nothing is listening at ${parseQbitUrl(ctx.config.qbittorrent.url).display}: started qshare's own qBittorrent at ${m.url} (it keeps seeding after qshare exits; \`qshare daemon stop\` stops it)`,
        );
      return connectQbit({ ...qbitBaseOptions(ctx), url: m.url, username: m.username, password: m.password });
    }
  };
  const configured = async (): Promise<QbitSession> => {
    const base = qbitBaseOptions(ctx);
    const q = ctx.config.qbittorrent;
    const fromEnv = ctx.env.QSHARE_QBIT_PASSWORD;
    if (fromEnv !== undefined && fromEnv !== '') return connectQbit({ ...base, password: fromEnv });

    const stored = await storedPassword(ctx, secrets, q.url, q.username);
    if (stored) {
      ctx.log.debug(`using the Web UI password kept in ${stored.where}`);
      try {
        return await connectQbit({ ...base, password: stored.secret });
      } catch (e) {
        if (isQshareError(e) && e.code === 'QBIT_AUTH') {
          throw new QshareError(
            'QBIT_AUTH',
            e.message.replace(/ \(QSHARE_QBIT_PASSWORD, qbittorrent\.username;/, ' (qbittorrent.username;'),
            {
              hint: `that password was kept in ${stored.where} by \`qshare login\`; if it changed, run \`qshare login\` again`,
              cause: e,
            },
          );
        }
        throw e;
      }
    }

    try {
      return await connectQbit({ ...base, password: undefined });
    } catch (e) {
      if (!isQshareError(e) || e.code !== 'QBIT_AUTH') throw e;
      if (!ctx.interactive || ctx.opts.json) {
        throw new QshareError(
          'QBIT_AUTH',
          `qBittorrent at ${parseQbitUrl(q.url).display} needs the Web UI password for ${q.username}`,
          { hint: PASSWORD_WAYS },
        );
      }
      const password = await promptHidden(
        `qBittorrent Web UI password (or API key) for ${q.username} at ${parseQbitUrl(q.url).display}: `,
        ctx.stdin,
        ctx.stderr,
      );
      const session = await connectQbit({ ...base, password });
      ctx.log.info(
        "tip: `qshare login` keeps the password (in the keychain, or qshare's owner-only secrets file) so you are not asked again",
      );
      return session;
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

/**
 * Connects to a relay (`relays.NAME` in the config): its password or API key comes from the secret store, where
 * `qshare login --relay NAME` kept it, or none (a relay that needs no login from here). One login per relay per run,
 * never retried, as for the local qBittorrent.
 */
export async function connectRelay(ctx: CommandContext, name: string): Promise<QbitSession> {
  const r = ctx.config.relays[name];
  if (!r)
    throw new QshareError('USAGE', `no relay named "${name}"`, {
      hint: 'pair one with `qshare login --relay NAME --url URL`',
    });
  const base: QbitOptions = {
    url: r.url,
    username: r.username,
    timeoutMs: ctx.config.qbittorrent.timeoutSeconds * 1000,
    log: ctx.log.child(`relay ${name}`),
    tls: { caFile: r.caFile, insecure: r.insecureTls },
  };
  const stored = await storedPassword(ctx, ctx.deps.secrets, r.url, r.username);
  try {
    return await connectQbit({ ...base, password: stored?.secret });
  } catch (e) {
    if (isQshareError(e) && e.code === 'QBIT_AUTH') {
      const at = `relay "${name}" at ${parseQbitUrl(r.url).display}`;
      throw stored
        ? new QshareError('QBIT_AUTH', `${at} refused the login for ${r.username}`, {
            hint: `its password was kept in ${stored.where}; if it changed, run \`qshare login --relay ${name}\` again`,
            cause: e,
          })
        : new QshareError('QBIT_AUTH', `${at} needs the Web UI password for ${r.username}, and none is kept`, {
            hint: `run \`qshare login --relay ${name}\` to keep it`,
            cause: e,
          });
    }
    throw e;
  }
}

export function managedDeps(ctx: CommandContext): ManagedDeps {
  return {
    dataDir: ctx.paths.dataDir,
    loopbackOnly: ctx.config.managed.loopbackOnly,
    log: ctx.log.child('managed'),
    secrets: ctx.deps.secrets,
    env: ctx.env,
  };
}

async function storedPassword(
  ctx: CommandContext,
  secrets: () => Promise<SecretStore>,
  url: string,
  username: string,
): Promise<{ secret: string; where: string } | undefined> {
  try {
    const found = await (await secrets()).find(qbitKeyFor(url, username));
    return found ? { secret: found.secret, where: found.description } : undefined;
  } catch (e) {
    // a keychain that fails to read is reported, and qshare goes on as if nothing was kept
    ctx.log.warn(isQshareError(e) ? e.message : String(e));
    return undefined;
  }
}
