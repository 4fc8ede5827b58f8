import { describe, expect, it } from 'vitest';
import { scrub, sevenZipError, summary, type SevenZipExit } from '../../src/archive/errors.js';
import { QshareError } from '../../src/errors.js';

// stderr texts as measured from 7zz 26.02 and p7zip 16.02
const WRONG_7ZZ = '\nERROR: a.7z\nCannot open encrypted archive. Wrong password?\n\n';
const WRONG_7ZA = '\nERROR: a.7z\nCan not open encrypted archive. Wrong password?\n\n';
const CRC_ENC = 'ERROR: CRC Failed in encrypted file. Wrong password? : my folder/sub/deep/r.bin\n';
const TRUNC =
  'ERROR: trunc.7z\ntrunc.7z\nOpen ERROR: Cannot open the file as [7z] archive\n\n\nERRORS:\nUnexpected end of archive\n';
const JUNK_7ZA =
  'ERROR: junk.7z\njunk.7z\nOpen ERROR: Can not open the file as [7z] archive\n\n\nERRORS:\nIs not archive\n';
const HEADERS = 'ERROR: x.7z\nHeaders Error\n';
const ENOSPC_7ZZ = '\n\nSystem ERROR:\nerrno=28 : No space left on device\n';
const EFAIL_7ZA = '\n\nSystem ERROR:\nE_FAIL\n';
const MISSING_7ZZ =
  '\nERROR: errno=2 : No such file or directory\nnonexist.7z\n\n\n\nSystem ERROR:\nerrno=2 : No such file or directory\n';
const MISSING_7ZA = '\nERROR: No more files\nnonexist.7z\n\n\n\nSystem ERROR:\nUnknown error -2147024872\n';
const UNREADABLE =
  '\nWARNING: errno=13 : Permission denied\n/src/sub/\n\n\nWARNING: errno=13 : Permission denied\n/src/c\n\n\nScan WARNINGS for files and folders:\n\n' +
  '/src/sub/ : errno=13 : Permission denied\n----------------\nScan WARNINGS: 1\n\nWARNINGS for files:\n\n/src/c : errno=13 : Permission denied\n----------------\nWARNING: Cannot open 1 file\n';
const BAD_SWITCH = '\n\nCommand Line Error:\nUnknown switch:\n-sse\n';
const DANGEROUS = 'ERROR: Dangerous link path was ignored : my folder/link : ../outside.txt\n';

const e = (over: Partial<SevenZipExit>): SevenZipExit => ({
  op: 'test',
  code: 2,
  signal: null,
  stderr: '',
  aborted: false,
  ...over,
});

describe('sevenZipError', () => {
  it.each([
    ['wrong password (7zz)', e({ stderr: WRONG_7ZZ }), 'WRONG_PASSWORD'],
    ['wrong password (p7zip)', e({ stderr: WRONG_7ZA, op: 'extract' }), 'WRONG_PASSWORD'],
    ['damaged data says Wrong password? too', e({ stderr: CRC_ENC }), 'WRONG_PASSWORD'],
    ['truncated', e({ stderr: TRUNC }), 'ARCHIVE_CORRUPT'],
    ['not an archive', e({ stderr: JUNK_7ZA }), 'ARCHIVE_CORRUPT'],
    ['headers error', e({ stderr: HEADERS, op: 'list' }), 'ARCHIVE_CORRUPT'],
    ['disk full (7zz)', e({ op: 'create', stderr: ENOSPC_7ZZ }), 'DISK_FULL'],
    ['disk full while extracting', e({ op: 'extract', stderr: 'ERROR: No space left on device : a/b\n' }), 'DISK_FULL'],
    ['p7zip E_FAIL', e({ op: 'create', stderr: EFAIL_7ZA }), 'SEVENZIP_FAILED'],
    ['missing archive (7zz)', e({ stderr: MISSING_7ZZ }), 'NOT_FOUND'],
    ['missing archive (p7zip)', e({ stderr: MISSING_7ZA }), 'NOT_FOUND'],
    ['unreadable source, exit 1', e({ op: 'create', code: 1, stderr: UNREADABLE }), 'SEVENZIP_FAILED'],
    [
      'unreadable source with -sse, exit 2',
      e({ op: 'create', code: 2, stderr: '\nSystem ERROR:\nerrno=13 : Permission denied\n' }),
      'SEVENZIP_FAILED',
    ],
    [
      'exit 255 (Ctrl-C reached 7-Zip directly)',
      e({ op: 'create', code: 255, stderr: '\nBreak signaled\n' }),
      'INTERRUPTED',
    ],
    ['we aborted', e({ op: 'create', code: 0, aborted: true }), 'INTERRUPTED'],
    ['SIGTERM', e({ code: null, signal: 'SIGTERM' }), 'INTERRUPTED'],
    ['SIGKILL (OOM killer?)', e({ code: null, signal: 'SIGKILL' }), 'SEVENZIP_FAILED'],
    ['exit 8: out of memory', e({ op: 'create', code: 8 }), 'SEVENZIP_FAILED'],
    ['dangerous link on extract', e({ op: 'extract', stderr: DANGEROUS }), 'SEVENZIP_FAILED'],
    ['unknown', e({ code: 3, stderr: 'something odd' }), 'SEVENZIP_FAILED'],
  ])('%s → %s', (_n, input, code) => {
    const err = sevenZipError(input);
    expect(err).toBeInstanceOf(QshareError);
    expect((err as QshareError).code).toBe(code);
  });

  it('exit 7 (bad command line) is a bug: a plain Error', () => {
    const err = sevenZipError(e({ code: 7, stderr: BAD_SWITCH }));
    expect(err).not.toBeInstanceOf(QshareError);
    expect(err.message).toContain('Unknown switch');
  });

  it('wrong password message says it may be damaged too', () => {
    expect(sevenZipError(e({ stderr: WRONG_7ZZ })).message).toBe('wrong password, or the archive is damaged');
  });

  it('unreadable files are named in the message', () => {
    const m = sevenZipError(e({ op: 'create', code: 1, stderr: UNREADABLE })).message;
    expect(m).toContain('/src/c : errno=13 : Permission denied');
    expect(m).not.toMatch(/; -+;/);
  });

  it('E_FAIL hints at disk space', () => {
    expect((sevenZipError(e({ op: 'create', stderr: EFAIL_7ZA })) as QshareError).hint).toMatch(/disk space/);
  });

  it('scrubs the password from echoed text', () => {
    const err = sevenZipError(e({ code: 3, stderr: 'odd: hunter22 in a file name', password: 'hunter22' }));
    expect(err.message).not.toContain('hunter22');
    expect(err.message).toContain('***');
  });
});

describe('summary/scrub', () => {
  it('drops blanks, separators, duplicates and caps the lines', () => {
    const text = ['a', '', '-----', 'a', ...Array.from({ length: 20 }, (_, i) => `line ${i}`)].join('\n');
    const s = summary(text);
    expect(s.startsWith('a; line 0; line 1')).toBe(true);
    expect(s).toContain('… and 9 more lines');
    expect(summary('')).toBe('no error text');
  });
  it.each([
    ['abc pw abc pw', 'pw', 'abc *** abc ***'],
    ['abc', undefined, 'abc'],
    ['abc', '', 'abc'],
  ])('scrub(%j, %j)', (text, pw, out) => expect(scrub(text, pw)).toBe(out));
});
