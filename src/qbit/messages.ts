import { QshareError } from '../errors.js';
import { redact } from '../log.js';

/**
 * Words for every way talking to qBittorrent fails, as QshareErrors a person can act on. Pure. `url` is always the
 * display form from url.ts (no credentials); nothing here ever sees a password or cookie.
 */

const WEBUI_HOWTO =
  "start qBittorrent and enable its Web UI (Tools → Options → Web UI → 'Web User Interface (Remote control)'), or set qbittorrent.url / QSHARE_QBIT_URL";

interface Flat {
  codes: string[];
  names: string[];
  messages: string[];
}

/** Collects code/name/message along an error's cause chain (fetch wraps the socket error in `cause`). */
function flatten(err: unknown, out: Flat = { codes: [], names: [], messages: [] }, depth = 0): Flat {
  if (depth > 6 || typeof err !== 'object' || err === null) return out;
  const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string') out.codes.push(e.code);
  if (typeof e.name === 'string') out.names.push(e.name);
  if (typeof e.message === 'string') out.messages.push(e.message);
  if (Array.isArray(e.errors)) for (const x of e.errors) flatten(x, out, depth + 1);
  flatten(e.cause, out, depth + 1);
  return out;
}

const CERT_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT_ALTNAME_INVALID/;

/**
 * A request that got no HTTP answer: refused, DNS, timeout, TLS, … → QBIT_UNREACHABLE with words. `answered`: this
 * qBittorrent already answered this process (a reset then means it quit or restarted, not a wrong http/https).
 */
export function networkError(err: unknown, url: string, timeoutMs: number, answered = false): QshareError {
  const f = flatten(err);
  const has = (c: string) => f.codes.includes(c);
  const opts = { cause: err };
  const host = safeHost(url);
  if (
    f.names.includes('TimeoutError') ||
    has('UND_ERR_CONNECT_TIMEOUT') ||
    has('UND_ERR_HEADERS_TIMEOUT') ||
    has('ETIMEDOUT')
  ) {
    return new QshareError(
      'QBIT_UNREACHABLE',
      `qBittorrent at ${url} did not answer within ${Math.round(timeoutMs / 100) / 10} s: check the address, and that qBittorrent is not frozen or busy (raise qbittorrent.timeoutSeconds for a slow machine)`,
      opts,
    );
  }
  if (has('ECONNREFUSED'))
    return new QshareError('QBIT_UNREACHABLE', `nothing is listening at ${url}: ${WEBUI_HOWTO}`, opts);
  if (has('ENOTFOUND') || has('EAI_AGAIN') || has('EAI_NONAME')) {
    return new QshareError(
      'QBIT_UNREACHABLE',
      `cannot find the host ${host} of ${url} (DNS lookup failed): check qbittorrent.url / QSHARE_QBIT_URL`,
      opts,
    );
  }
  if (has('EHOSTUNREACH') || has('ENETUNREACH') || has('EHOSTDOWN') || has('ENETDOWN')) {
    return new QshareError(
      'QBIT_UNREACHABLE',
      `no network route to ${url}: check the address and that the machine running qBittorrent is on and reachable`,
      opts,
    );
  }
  if (f.codes.some((c) => CERT_CODES.test(c))) {
    return new QshareError(
      'QBIT_UNREACHABLE',
      `the HTTPS certificate of ${url} is not trusted (${f.codes.find((c) => CERT_CODES.test(c))}): if the Web UI uses its own (self-signed) certificate, give qshare that certificate file with \`qshare login --ca-file FILE\` (qbittorrent.caFile); or, only on a network you trust, qbittorrent.insecureTls / --insecure`,
      opts,
    );
  }
  if (
    has('EPROTO') ||
    has('ERR_SSL_WRONG_VERSION_NUMBER') ||
    f.messages.some((m) => /wrong version number|packet length too long/i.test(m))
  ) {
    return new QshareError(
      'QBIT_UNREACHABLE',
      `TLS handshake with ${url} failed: the Web UI probably speaks plain HTTP there, so use http:// instead of https://`,
      opts,
    );
  }
  if (has('ECONNRESET') || has('EPIPE') || has('UND_ERR_SOCKET') || has('UND_ERR_CLOSED')) {
    if (answered) {
      return new QshareError(
        'QBIT_UNREACHABLE',
        `qBittorrent at ${url} closed the connection in the middle of a request: it may have quit, crashed or restarted; check that it is running (qshare doctor), then try again`,
        opts,
      );
    }
    const https = /^http:/i.test(url)
      ? `: if the Web UI uses HTTPS (Tools → Options → Web UI → 'Use HTTPS instead of HTTP'), use https:// in qbittorrent.url`
      : ": check that this address is qBittorrent's Web UI and that nothing between (a proxy, a firewall) cuts the connection";
    return new QshareError('QBIT_UNREACHABLE', `${url} closed the connection without answering${https}`, opts);
  }
  if (f.messages.includes('bad port')) {
    return new QshareError(
      'QBIT_UNREACHABLE',
      `Node.js refuses to connect to the port of ${url} (the Fetch standard blocks it as unsafe): move the Web UI to another port, e.g. 8080 (Tools → Options → Web UI → Port)`,
      opts,
    );
  }
  const detail = f.messages.filter((m) => m && m !== 'fetch failed').pop() ?? 'unknown network error';
  return new QshareError(
    'QBIT_UNREACHABLE',
    `could not reach qBittorrent at ${url}: ${redact(detail).slice(0, 200)}`,
    opts,
  );
}

function safeHost(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}

export function notQbittorrent(url: string, status: number, what: string): QshareError {
  return new QshareError(
    'QBIT_UNREACHABLE',
    `${url} is not a qBittorrent Web UI (it answered ${what} with HTTP ${status}): check qbittorrent.url, including the base path if qBittorrent is behind a reverse proxy (like https://host/qbt/); qshare needs qBittorrent 4.1 or newer`,
  );
}

export function redirected(url: string, status: number, location: string | undefined): QshareError {
  const to = location ? ` to ${redact(location).slice(0, 200)}` : '';
  return new QshareError(
    'QBIT_UNREACHABLE',
    `${url} redirects (HTTP ${status})${to} instead of answering as a qBittorrent Web UI: set qbittorrent.url to the address qBittorrent answers on (https://? a base path?)`,
  );
}

export function unexpectedAnswer(url: string, status: number, body: string, what: string): QshareError {
  const words = oneLine(body);
  const gateway =
    status === 502 || status === 503 || status === 504
      ? ': a reverse proxy answered, but qBittorrent behind it seems down'
      : '';
  return new QshareError(
    'QBIT_UNREACHABLE',
    `qBittorrent at ${url} answered ${what} unexpectedly with HTTP ${status}${words ? ` "${words}"` : ''}${gateway}`,
  );
}

export function forbiddenHost(url: string): QshareError {
  return new QshareError(
    'QBIT_FORBIDDEN',
    `qBittorrent at ${url} refused the request (401 Unauthorized) before any login: its Host header validation or CSRF protection does not accept this address. ` +
      'This happens when Docker publishes the Web UI on another port (e.g. -p 18080:8080) or behind a reverse proxy. ' +
      "Use the port qBittorrent itself listens on, or in the Web UI open Tools → Options → Web UI → Security and untick 'Enable Host header validation' (or add this host to 'Server domains'); behind a reverse proxy also tick 'Enable reverse proxy support'",
  );
}

export function needsPassword(url: string): QshareError {
  return new QshareError(
    'QBIT_AUTH',
    `qBittorrent at ${url} needs a password: set QSHARE_QBIT_PASSWORD (and qbittorrent.username if it is not admin) to the Web UI login (Tools → Options → Web UI → Authentication)`,
  );
}

export function apiKeyRefused(url: string): QshareError {
  return new QshareError(
    'QBIT_AUTH',
    `qBittorrent at ${url} refused the API key (qbt_…): check it in the Web UI (Tools → Options → Web UI → API key; it changes when rotated). API keys need qBittorrent 5.2 or newer; older versions need the username and password`,
  );
}

export function badCredentials(url: string): QshareError {
  return new QshareError(
    'QBIT_AUTH',
    `qBittorrent at ${url} refused the login: check the Web UI username and password (QSHARE_QBIT_PASSWORD, qbittorrent.username; Tools → Options → Web UI → Authentication). qshare tried once and will not retry: qBittorrent bans an IP address after 5 failed logins`,
  );
}

export function banned(url: string): QshareError {
  return new QshareError(
    'QBIT_BANNED',
    `qBittorrent at ${url} has banned this computer's IP address after too many failed logins. The ban lasts web_ui_ban_duration (1 hour by default) or until qBittorrent restarts; qshare tried once and did not retry. Fix the password (QSHARE_QBIT_PASSWORD) before trying again`,
  );
}

export function sessionLost(url: string, status: number, what: string): QshareError {
  return new QshareError(
    'QBIT_AUTH',
    `qBittorrent at ${url} no longer accepts qshare's session (HTTP ${status} to ${what}): it may have restarted, or the session timed out. qshare logs in only once per run so it can never get your IP address banned: run the command again`,
  );
}

export function apiError(url: string, status: number, body: unknown, what: string): QshareError {
  const words = oneLine(typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body));
  const hint =
    status === 404
      ? ' (this qBittorrent does not know that request: is it older than 4.1?)'
      : status === 405
        ? ' (wrong HTTP method for this qBittorrent version)'
        : '';
  return new QshareError(
    'QBIT_API',
    `qBittorrent at ${url} answered HTTP ${status} to ${what}${words ? `: "${words}"` : ''}${hint}`,
  );
}

function oneLine(s: string): string {
  return redact(s.replace(/\s+/g, ' ').trim()).slice(0, 200);
}
