import { QshareError } from '../errors.js';
import { redact } from '../log.js';

export interface QbitTarget {
  /** origin + base path, always ending in '/', without credentials, query or fragment: `https://host/qbt/` */
  base: string;
  /** what messages show: the base without a trailing slash (never credentials) */
  display: string;
}

/**
 * Parses the Web UI address. A base path (reverse proxy, `https://host/qbt/`) is kept; credentials in the URL are
 * dropped (the config refuses them anyway, and fetch refuses URLs that carry them). Throws CONFIG on a non-URL.
 */
export function parseQbitUrl(url: string): QbitTarget {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new QshareError(
      'CONFIG',
      `qbittorrent.url ${JSON.stringify(redact(url))} is not a URL: use one like http://127.0.0.1:8080 (or set QSHARE_QBIT_URL)`,
    );
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new QshareError('CONFIG', `qbittorrent.url must start with http:// or https:// (got ${u.protocol}//…)`);
  }
  u.username = '';
  u.password = '';
  u.search = '';
  u.hash = '';
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  const base = u.toString();
  return { base, display: redact(base.replace(/\/$/, '')) };
}

/** True for localhost, 127.0.0.0/8 and ::1: traffic that never leaves this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    h === 'localhost' ||
    h.endsWith('.localhost') ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) ||
    h === '::1' ||
    h === '0:0:0:0:0:0:0:1'
  );
}

/** A password or API key sent to this address travels unencrypted over a network: http:// to another machine. */
export function sendsSecretInClear(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' && !isLoopbackHost(u.hostname);
  } catch {
    return false;
  }
}

/** `https://host/qbt/` + `/auth/login` → `https://host/qbt/api/v2/auth/login` */
export function apiUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + '/api/v2/' + path.replace(/^\/+/, '');
}
