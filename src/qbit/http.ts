/**
 * The one place requests to qBittorrent are made: rawRequest (a fetch that never follows a redirect and turns
 * network failures into words a person can act on), and Api, the requests of one session (its cookie or API key,
 * a timeout; a 401/403 means the session is gone and is never answered with a second login).
 */
import type { Dispatcher } from './tls.js';
import { apiError, networkError, sessionLost } from './messages.js';
import { apiUrl, type QbitTarget } from './url.js';

export interface SessionCookie {
  name: string;
  value: string;
}

/** How requests after the probe prove who we are: a session cookie, an API key, or nothing (bypass). */
export type Auth = { cookie: SessionCookie } | { bearer: string } | undefined;

/**
 * The requests of one session: the cookie (or API key) it got, a timeout, no redirects. A 401/403 means the session
 * is gone (sessionLost: never a second login); any other status but 200 is the caller's to judge (`answer`) or an
 * error in words (`json`, `text`, `send`).
 */
export class Api {
  constructor(
    private readonly target: QbitTarget,
    private readonly timeoutMs: number,
    private readonly auth: Auth,
    private readonly dispatcher: Dispatcher | undefined,
  ) {}

  private headers(): Record<string, string> {
    if (!this.auth) return {};
    return 'bearer' in this.auth
      ? { Authorization: `Bearer ${this.auth.bearer}` }
      : { Cookie: `${this.auth.cookie.name}=${this.auth.cookie.value}` };
  }

  /** The status and body; only a lost session is thrown. `what` names the request in messages (`GET torrents/info`). */
  async answer(
    what: string,
    path: string,
    opts: { query?: Record<string, string | number>; form?: URLSearchParams | FormData } = {},
  ): Promise<RawAnswer> {
    const query = opts.query
      ? `?${new URLSearchParams(Object.entries(opts.query).map(([k, v]): [string, string] => [k, String(v)])).toString()}`
      : '';
    const a = await rawRequest(this.target, opts.form ? 'POST' : 'GET', `${path}${query}`, this.timeoutMs, opts.form, {
      headers: this.headers(),
      dispatcher: this.dispatcher,
      answered: true,
    });
    if (a.status === 401 || a.status === 403) throw sessionLost(this.target.display, a.status, what);
    return a;
  }

  async text(
    what: string,
    path: string,
    opts: { query?: Record<string, string | number>; form?: URLSearchParams } = {},
  ): Promise<string> {
    const a = await this.answer(what, path, opts);
    if (a.status !== 200) throw apiError(this.target.display, a.status, a.body, what);
    return a.body;
  }

  async json<T>(what: string, path: string, opts: { query?: Record<string, string | number> } = {}): Promise<T> {
    const body = await this.text(what, path, opts);
    try {
      return JSON.parse(body) as T;
    } catch {
      throw apiError(this.target.display, 200, body, what);
    }
  }

  /** A POST whose answer says nothing but its status. */
  async send(what: string, path: string, form: Record<string, string>): Promise<void> {
    await this.text(what, path, { form: new URLSearchParams(form) });
  }
}

export interface RawAnswer {
  status: number;
  body: string;
  setCookie: string[];
  location: string | undefined;
}

/** One request, with or without a session (the probe and the login have none). Never follows redirects. */
export async function rawRequest(
  target: QbitTarget,
  method: 'GET' | 'POST',
  path: string,
  timeoutMs: number,
  form?: URLSearchParams | FormData,
  extra: { headers?: Record<string, string>; dispatcher?: Dispatcher | undefined; answered?: boolean } = {},
): Promise<RawAnswer> {
  try {
    const init: RequestInit & { dispatcher?: Dispatcher } = {
      method,
      ...(form ? { body: form } : {}),
      ...(extra.headers ? { headers: extra.headers } : {}),
      ...(extra.dispatcher ? { dispatcher: extra.dispatcher } : {}),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    };
    const res = await fetch(apiUrl(target.base, path), init);
    const body = await res.text();
    return {
      status: res.status,
      body,
      setCookie: res.headers.getSetCookie(),
      location: res.headers.get('location') ?? undefined,
    };
  } catch (e) {
    throw networkError(e, target.display, timeoutMs, extra.answered);
  }
}
