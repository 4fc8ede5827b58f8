/**
 * Connecting to qBittorrent: probe `app/version` without a session, log in once if it asks for one, read the app and
 * Web API versions, and hand back the session (session.ts).
 *
 * Login safety: qBittorrent bans an IP for an hour after 5 failed logins, so qshare logs in at most once per
 * connectQbit() and never again: a session qBittorrent stops accepting (401/403) becomes a QBIT_AUTH error telling
 * the person to run the command again.
 */
import type { Logger } from '../log.js';
import { Api, rawRequest, type Auth } from './http.js';
import {
  apiKeyRefused,
  badCredentials,
  banned,
  forbiddenHost,
  needsPassword,
  notQbittorrent,
  redirected,
  unexpectedAnswer,
} from './messages.js';
import {
  classifyLogin,
  classifyPreflight,
  findSessionCookie,
  formatApiVersion,
  isApiKey,
  parseApiVersion,
  type ApiVersion,
} from './payload.js';
import { Session, type QbitSession } from './session.js';
import { tlsDispatcher, type TlsOptions } from './tls.js';
import { parseQbitUrl, sendsSecretInClear } from './url.js';

export interface QbitOptions {
  /** Web UI address; may include a base path like https://host/qbt/ */
  url: string;
  /** default `admin` */
  username?: string;
  /**
   * undefined (or empty) → no login: works when qBittorrent skips authentication for this address.
   * A qBittorrent 5.2 API key (`qbt_…`, see isApiKey) is sent as `Authorization: Bearer` instead of logging in.
   */
  password?: string;
  /** HTTPS: trust this CA/self-signed certificate (PEM), or do not check the certificate at all (warns) */
  tls?: TlsOptions;
  /** per request, default 10000 */
  timeoutMs?: number;
  log: Logger;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Connects: probes `app/version` without a session, logs in once if needed, then reads the app and Web API
 * versions. Throws QshareError (QBIT_UNREACHABLE, QBIT_AUTH, QBIT_BANNED, QBIT_FORBIDDEN, QBIT_API, CONFIG).
 */
export async function connectQbit(opts: QbitOptions): Promise<QbitSession> {
  const target = parseQbitUrl(opts.url);
  const url = target.display;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const log = opts.log;
  const dispatcher = await tlsDispatcher(target, opts.tls, log);
  const apiKey = opts.password && isApiKey(opts.password) ? opts.password : undefined;
  const warnPlain = () => {
    if (sendsSecretInClear(target.base))
      log.warn(
        `sending the Web UI ${apiKey ? 'API key' : 'password'} to ${url} over plain http: anyone on the network between here and there can read it. Use https:// (Tools → Options → Web UI → Use HTTPS), or run qshare on the machine qBittorrent runs on`,
      );
  };
  if (apiKey) warnPlain();

  const probe = await rawRequest(target, 'GET', '/app/version', timeoutMs, undefined, {
    dispatcher,
    ...(apiKey ? { headers: { Authorization: `Bearer ${apiKey}` } } : {}),
  });
  let auth: Auth;
  switch (classifyPreflight(probe.status, probe.body)) {
    case 'open':
      log.debug(apiKey ? 'qBittorrent accepted the API key' : 'qBittorrent needs no login from this address', { url });
      if (apiKey) auth = { bearer: apiKey };
      else {
        const c = findSessionCookie(probe.setCookie);
        if (c) auth = { cookie: c };
      }
      break;
    case 'needs-login': {
      if (apiKey) throw apiKeyRefused(url);
      if (!opts.password) throw needsPassword(url);
      warnPlain();
      const form = new URLSearchParams({ username: opts.username ?? 'admin', password: opts.password });
      log.debug('logging in to qBittorrent (once)', { url });
      const answer = await rawRequest(target, 'POST', '/auth/login', timeoutMs, form, { dispatcher, answered: true });
      switch (classifyLogin(answer.status, answer.body, answer.setCookie, true)) {
        case 'ok':
          auth = { cookie: findSessionCookie(answer.setCookie)! };
          break;
        case 'bad-credentials':
          throw badCredentials(url);
        case 'banned':
          throw banned(url);
        case 'forbidden-host':
          throw forbiddenHost(url);
        case 'unexpected':
          if (answer.status === 404) throw notQbittorrent(url, answer.status, 'the login');
          throw unexpectedAnswer(url, answer.status, answer.body, 'the login');
      }
      break;
    }
    case 'forbidden-host':
      throw forbiddenHost(url);
    case 'redirect':
      throw redirected(url, probe.status, probe.location);
    case 'not-qbittorrent':
      throw notQbittorrent(url, probe.status, 'GET /api/v2/app/version');
    case 'unexpected':
      throw unexpectedAnswer(url, probe.status, probe.body, 'GET /api/v2/app/version');
  }

  const api = new Api(target, timeoutMs, auth, dispatcher);
  const appVersion = (await api.text('GET app/version', '/app/version')).trim();
  const apiText = (await api.text('GET app/webapiVersion', '/app/webapiVersion')).trim();
  let apiVersion: ApiVersion;
  try {
    apiVersion = parseApiVersion(apiText);
  } catch {
    throw notQbittorrent(url, 200, 'GET /api/v2/app/webapiVersion');
  }
  if (apiVersion.major < 2) throw notQbittorrent(url, 200, 'GET /api/v2/app/webapiVersion');
  log.debug('connected to qBittorrent', { url, version: appVersion, api: formatApiVersion(apiVersion) });
  const session = new Session(api, url, appVersion, apiVersion, log);
  session.authMode = apiKey ? 'api-key' : auth && 'cookie' in auth && probe.status !== 200 ? 'password' : 'none';
  return session;
}
