/**
 * Pure: turns how 7-Zip ended (exit code, signal, stderr) into an error a person can act on.
 * 7-Zip exit codes: 0 ok, 1 warning (e.g. a file could not be read), 2 fatal error, 7 command-line error,
 * 8 not enough memory, 255 stopped by the user (SIGINT/SIGTERM). Texts were taken from 7zz 26.02 and p7zip 16.02
 * (p7zip writes "Can not" where 7zz writes "Cannot").
 */
import { QshareError } from '../errors.js';

export type SevenZipOp = 'create' | 'test' | 'extract' | 'list';

export interface SevenZipExit {
  op: SevenZipOp;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** we aborted it (AbortSignal) */
  aborted: boolean;
  /** scrubbed from any text we echo, as a last line of defence */
  password?: string;
}

const OP_TEXT: Record<SevenZipOp, string> = {
  create: 'creating the archive',
  test: 'testing the archive',
  extract: 'extracting the archive',
  list: 'listing the archive',
};

const MAX_LINES = 12;

export function sevenZipError(e: SevenZipExit): Error {
  const what = OP_TEXT[e.op];
  const text = e.stderr;
  if (e.aborted || e.code === 255 || e.signal === 'SIGINT' || e.signal === 'SIGTERM') {
    return new QshareError('INTERRUPTED', `interrupted while ${what}`);
  }
  if (/No space left on device|errno=28\b|ENOSPC|not enough space on the disk/i.test(text)) {
    return new QshareError('DISK_FULL', `the disk is full (while ${what})`, {
      hint: 'free some space, or choose another folder for the archives, then try again',
    });
  }
  if (/Wrong password\?/i.test(text)) {
    return new QshareError('WRONG_PASSWORD', 'wrong password, or the archive is damaged', {
      hint: 'check the password (it is case-sensitive); if it is right, download the archive again',
    });
  }
  if (
    /Headers Error|Unexpected end of archive|Can ?not open the file as|Is not archive|Data Error|CRC Failed|Unsupported Method|There are data after the end/i.test(
      text,
    )
  ) {
    return new QshareError(
      'ARCHIVE_CORRUPT',
      `the archive is damaged or incomplete, or is not a 7z archive (${firstError(text, e.password)})`,
      {
        hint: 'if it was downloaded, let the download finish or download it again',
      },
    );
  }
  if (e.signal !== null) {
    return new QshareError(
      'SEVENZIP_FAILED',
      `7-Zip was killed by ${e.signal} while ${what}${e.signal === 'SIGKILL' ? ' (out of memory?)' : ''}`,
      {
        hint: e.signal === 'SIGKILL' ? 'try a lower compression level (0 or 1 use little memory)' : undefined,
      },
    );
  }
  if (e.code === 7) {
    // our argv is wrong: a bug, not something the user can fix
    return new Error(`7-Zip rejected the command line while ${what}: ${summary(text, e.password)}`);
  }
  if (e.code === 8) {
    return new QshareError('SEVENZIP_FAILED', `7-Zip ran out of memory while ${what}`, {
      hint: 'try a lower compression level (0 or 1 use little memory), or close other programs',
    });
  }
  if (e.op !== 'create' && /errno=2\b|No such file or directory|No more files/.test(text)) {
    return new QshareError('NOT_FOUND', `the archive was not found (while ${what})`);
  }
  if (e.op === 'create' && /errno=13\b|Permission denied|Cannot open \d+ file|WARNING/i.test(text)) {
    return new QshareError(
      'SEVENZIP_FAILED',
      `7-Zip could not read some of the files to share: ${summary(text, e.password)}`,
      {
        hint: 'make those files readable (or move them out of the folder), then try again',
      },
    );
  }
  if (/Dangerous link path/i.test(text)) {
    return new QshareError(
      'SEVENZIP_FAILED',
      `the archive contains links pointing outside the folder; 7-Zip refused them: ${summary(text, e.password)}`,
    );
  }
  const hint = /E_FAIL/.test(text) ? 'check that there is enough free disk space' : undefined;
  return new QshareError(
    'SEVENZIP_FAILED',
    `7-Zip failed (exit code ${e.code ?? '?'}) while ${what}: ${summary(text, e.password)}`,
    { hint },
  );
}

/** The meaningful stderr lines: no blanks, separators or duplicates; at most MAX_LINES; password scrubbed. */
export function summary(stderr: string, password?: string): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const raw of stderr.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || /^-+$/.test(line) || seen.has(line)) continue;
    seen.add(line);
    lines.push(line);
  }
  const shown = lines.slice(0, MAX_LINES);
  if (lines.length > MAX_LINES) shown.push(`… and ${lines.length - MAX_LINES} more lines`);
  const out = shown.join('; ') || 'no error text';
  return scrub(out, password);
}

function firstError(stderr: string, password?: string): string {
  const line = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) =>
      /Headers Error|Unexpected end|Is not archive|Data Error|CRC Failed|Unsupported|data after the end|Can ?not open/i.test(
        l,
      ),
    );
  return scrub(line ?? 'unreadable', password);
}

export function scrub(text: string, password?: string): string {
  return password ? text.split(password).join('***') : text;
}
