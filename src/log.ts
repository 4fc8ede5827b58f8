/**
 * A small logger passed in as a dependency (no module-level singleton). Human lines on a TTY, JSON lines otherwise.
 * Callers must never hand it a secret; `redact` is a last line of defence for URLs with credentials.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(label: string): Logger;
}

export interface LoggerOptions {
  write: (line: string) => void;
  json: boolean;
  level: Level;
  label?: string;
  color?: boolean;
  now?: () => Date;
}

const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Strips user:password@ from URLs and any `password=`/`SID=` pairs. */
export function redact(text: string): string {
  return text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi, '$1***@')
    .replace(/\b(password|passwd|pass|SID|QBT_SID_\d+)=([^&\s;]+)/gi, '$1=***');
}

export function createLogger(opts: LoggerOptions): Logger {
  const now = opts.now ?? (() => new Date());
  const emit = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (order[level] < order[opts.level]) return;
    const text = redact(msg);
    if (opts.json) {
      const rec: Record<string, unknown> = {
        time: now().toISOString(),
        level,
        ...(opts.label ? { label: opts.label } : {}),
        msg: text,
      };
      if (fields) for (const [k, v] of Object.entries(fields)) rec[k] = typeof v === 'string' ? redact(v) : v;
      opts.write(JSON.stringify(rec) + '\n');
    } else {
      const prefix = level === 'info' ? '' : opts.color ? `${colorOf(level)}${level}:\x1b[0m ` : `${level}: `;
      const extra =
        fields && Object.keys(fields).length
          ? ' ' +
            Object.entries(fields)
              .map(([k, v]) => `${k}=${redact(String(v))}`)
              .join(' ')
          : '';
      opts.write(`${prefix}${opts.label && level === 'debug' ? `[${opts.label}] ` : ''}${text}${extra}\n`);
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (label) => createLogger({ ...opts, label: opts.label ? `${opts.label}:${label}` : label }),
  };
}

function colorOf(level: Level): string {
  return level === 'error' ? '\x1b[31m' : level === 'warn' ? '\x1b[33m' : '\x1b[2m';
}

export function silentLogger(): Logger {
  return createLogger({ write: () => {}, json: false, level: 'error' });
}
