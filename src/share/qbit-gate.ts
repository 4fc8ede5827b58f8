/**
 * One qBittorrent session shared by every item of a long-running `qshare watch`, and the rule that keeps it from
 * ever getting the address banned: a login that is refused (QBIT_AUTH), a ban (QBIT_BANNED) or a Host/CSRF
 * rejection (QBIT_FORBIDDEN) during connect blocks the gate for good: no more logins until qshare is restarted.
 * "Nothing listening" just fails this attempt; a session that stops working (qBittorrent restarted) is dropped
 * and the next caller connects again, with one login.
 */
import { isQshareError, type QshareError } from '../errors.js';
import type { Logger } from '../log.js';
import type { QbitSession } from '../qbit/session.js';

export interface QbitGate {
  /** the current session, connecting (once, shared by concurrent callers) if there is none */
  session(): Promise<QbitSession>;
  /** a request on the session failed as if it were gone: the next session() connects again */
  drop(): void;
  /** the refusal that stopped all logins, if any */
  readonly blocked: QshareError | undefined;
}

const BLOCKING = new Set(['QBIT_AUTH', 'QBIT_BANNED', 'QBIT_FORBIDDEN']);

export function createQbitGate(connect: () => Promise<QbitSession>, log: Logger): QbitGate {
  let current: QbitSession | undefined;
  let connecting: Promise<QbitSession> | undefined;
  let blocked: QshareError | undefined;
  return {
    get blocked() {
      return blocked;
    },
    session() {
      if (blocked) return Promise.reject(blocked);
      if (current) return Promise.resolve(current);
      connecting ??= connect().then(
        (s) => {
          current = s;
          connecting = undefined;
          log.info(`connected to qBittorrent ${s.appVersion} at ${s.url}`);
          return s;
        },
        (e: unknown) => {
          connecting = undefined;
          if (isQshareError(e) && BLOCKING.has(e.code)) {
            blocked = e;
            log.error(
              `${e.message}. qshare watch will not try to log in to qBittorrent again until it is restarted; items wait for that.`,
            );
          }
          throw e;
        },
      );
      return connecting;
    },
    drop() {
      current = undefined;
    },
  };
}
