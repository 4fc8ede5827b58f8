import { checkWebUiUrl } from '../../config/schema.js';
import { qbitSection, updateConfigFile } from '../../config/write.js';
import { isQshareError, QshareError } from '../../errors.js';
import { connectQbit } from '../../qbit/connect.js';
import type { QbitSession } from '../../qbit/session.js';
import { formatApiVersion, isApiKey } from '../../qbit/payload.js';
import { parseQbitUrl } from '../../qbit/url.js';
import type { CommandContext } from '../context.js';
import { promptHidden, promptLine, readSecretFromStdin } from '../prompt.js';
import { qbitKeyFor } from '../qbit-connect.js';

export interface LoginArgs {
  url?: string;
  username?: string;
  passwordStdin: boolean;
  caFile?: string;
  insecure?: boolean;
}

/**
 * `qshare login`: asks for (or takes) the Web UI address, user name and password or API key, tries them with ONE
 * login, then saves the address and user name in the config file and the password in the secret store. Nothing is
 * saved when the login fails.
 */
export async function runLogin(ctx: CommandContext, args: LoginArgs): Promise<number> {
  const q = ctx.config.qbittorrent;
  const ask = ctx.interactive && !ctx.opts.json;
  const url = (
    args.url ?? (ask ? await promptLine('qBittorrent Web UI address', q.url, ctx.stdin, ctx.stderr) : q.url)
  ).trim();
  const urlProblem = checkWebUiUrl(url);
  if (urlProblem) throw new QshareError('USAGE', `--url ${urlProblem}`);
  const username =
    args.username ?? (ask ? await promptLine('Web UI user name', q.username, ctx.stdin, ctx.stderr) : q.username);
  if (username.trim() === '') throw new QshareError('USAGE', 'the Web UI user name is empty');
  const display = parseQbitUrl(url).display;

  let password: string | undefined;
  let from: string;
  if (args.passwordStdin) {
    password = await readSecretFromStdin(ctx.stdin, '--password-stdin');
    from = 'standard input';
  } else if (ctx.env.QSHARE_QBIT_PASSWORD) {
    password = ctx.env.QSHARE_QBIT_PASSWORD;
    from = 'QSHARE_QBIT_PASSWORD';
  } else if (ask) {
    password = await promptHidden(
      `Password or API key for ${username} at ${display} (empty if this computer needs none): `,
      ctx.stdin,
      ctx.stderr,
    );
    if (password === '') password = undefined;
    from = 'the prompt';
  } else {
    from = 'nowhere';
  }

  const caFile = args.caFile ?? q.caFile;
  const insecure = args.insecure ?? q.insecureTls;
  let session: QbitSession;
  try {
    session = await connectQbit({
      url,
      username,
      password,
      timeoutMs: q.timeoutSeconds * 1000,
      log: ctx.log.child('qbit'),
      tls: { caFile, insecure },
    });
  } catch (e) {
    if (isQshareError(e) && e.code === 'QBIT_AUTH' && password === undefined) {
      throw new QshareError(
        'QBIT_AUTH',
        `qBittorrent at ${display} needs the Web UI password for ${username}; nothing was saved`,
        {
          hint: 'pipe it in with --password-stdin (e.g. from a password manager), set QSHARE_QBIT_PASSWORD, or run `qshare login` in a terminal to type it',
        },
      );
    }
    if (isQshareError(e))
      throw new QshareError(e.code, `${e.message}. Nothing was saved`, {
        hint: e.hint,
        cause: e,
        exitCode: e.exitCode,
      });
    throw e;
  }
  ctx.log.debug('login worked', { from, auth: session.authMode });

  await updateConfigFile(ctx.paths.configFile, (raw) => {
    const s = qbitSection(raw);
    s.url = url;
    s.username = username;
    if (args.caFile !== undefined) s.caFile = args.caFile;
    if (args.insecure !== undefined) s.insecureTls = args.insecure;
  });

  const kept = await keepWebUiPassword(ctx, session, url, username, password, 'give it with QSHARE_QBIT_PASSWORD');

  const what = session.authMode === 'api-key' ? 'API key' : 'password';
  if (ctx.opts.json) {
    ctx.printJson({
      url: display,
      username,
      version: session.appVersion,
      apiVersion: formatApiVersion(session.apiVersion),
      auth: session.authMode,
      configFile: ctx.paths.configFile,
      passwordKept: kept.kept,
      passwordStore: kept.where,
    });
  } else {
    ctx.print(
      [
        `Connected to qBittorrent ${session.appVersion} (Web API ${formatApiVersion(session.apiVersion)}) at ${display} as ${username}` +
          (session.authMode === 'api-key'
            ? ' with an API key.'
            : session.authMode === 'none'
              ? ' (no login needed from this computer).'
              : '.'),
        `Saved the address and user name in ${ctx.paths.configFile}.`,
        session.authMode === 'none'
          ? 'qBittorrent needs no password from this computer, so none was kept.'
          : kept.kept
            ? `The ${what} is kept in ${kept.where}.`
            : `The ${what} was NOT kept (see above).`,
      ].join('\n'),
    );
  }
  return 0;
}

/**
 * Keeps a Web UI password (or API key) that just logged in, in the secret store under its address and user; says
 * where, or why not (`until` says what to do meanwhile). Nothing to keep when qBittorrent needs no login.
 */
export async function keepWebUiPassword(
  ctx: CommandContext,
  session: QbitSession,
  url: string,
  username: string,
  password: string | undefined,
  until: string,
): Promise<{ kept: boolean; where: string }> {
  if (session.authMode === 'none' || password === undefined)
    return { kept: false, where: 'qBittorrent needs no password from this computer, so there is nothing to keep' };
  const store = await ctx.deps.secrets();
  if (store.kind === 'none') {
    ctx.log.warn(
      `the ${isApiKey(password) ? 'API key' : 'password'} was not kept: ${store.description}. Until then ${until}`,
    );
    return { kept: false, where: store.description };
  }
  try {
    await store.set(qbitKeyFor(url, username), password);
    return { kept: true, where: store.description };
  } catch (e) {
    const why = isQshareError(e) ? e.message : String(e);
    ctx.log.warn(`${why}. Until that is fixed ${until}`);
    return { kept: false, where: why };
  }
}
