/**
 * Expected failures: something a person can act on. The CLI prints `message` (and `hint`) without a stack and
 * exits with `exitCode`. Anything that is not a QshareError is a bug and keeps its stack.
 *
 * Messages must never contain a secret (archive password, Web UI password, cookie).
 */
export type ErrorCode =
  | 'USAGE'
  | 'CONFIG'
  | 'INPUT'
  | 'DISK_SPACE'
  | 'DISK_FULL'
  | 'SEVENZIP_MISSING'
  | 'SEVENZIP_FAILED'
  | 'WRONG_PASSWORD'
  | 'ARCHIVE_CORRUPT'
  | 'TORRENT'
  | 'QBIT_UNREACHABLE'
  | 'QBIT_AUTH'
  | 'QBIT_BANNED'
  | 'QBIT_FORBIDDEN'
  | 'QBIT_REJECTED'
  | 'QBIT_MISSING_FILES'
  | 'QBIT_TIMEOUT'
  | 'QBIT_API'
  | 'STATE'
  | 'NOT_FOUND'
  | 'SECRET'
  | 'INTERRUPTED'
  | 'ARCHIVE_UNSAFE'
  | 'SOURCE_CHANGED'
  | 'RELAY';

/** Exit codes, documented in README.md. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** the archive and torrent were written but qBittorrent is not seeding them */
  notSeeding: 3,
  /** the share is made and seeds at home, but at least one relay did not take it (each says why) */
  relayFailed: 4,
  interrupted: 130,
} as const;

export class QshareError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'QshareError';
    this.code = code;
    this.hint = opts.hint;
    this.exitCode =
      opts.exitCode ?? (code === 'USAGE' ? EXIT.usage : code === 'INTERRUPTED' ? EXIT.interrupted : EXIT.failure);
  }
}

export function isQshareError(e: unknown): e is QshareError {
  return e instanceof QshareError;
}
