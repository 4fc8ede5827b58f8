import { describe, expect, it } from 'vitest';
import { QshareError } from '../../src/errors.js';
import { networkError, apiError, unexpectedAnswer } from '../../src/qbit/messages.js';
import { apiUrl, parseQbitUrl } from '../../src/qbit/url.js';

/** what fetch throws: TypeError('fetch failed') with the socket error as cause */
function fetchFailed(cause: object): Error {
  return new TypeError('fetch failed', { cause });
}
function sysErr(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

describe('parseQbitUrl', () => {
  it.each([
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080/', 'http://127.0.0.1:8080'],
    ['http://127.0.0.1:8080/', 'http://127.0.0.1:8080/', 'http://127.0.0.1:8080'],
    ['https://host.example/qbt', 'https://host.example/qbt/', 'https://host.example/qbt'],
    ['https://host.example/qbt/?x=1#y', 'https://host.example/qbt/', 'https://host.example/qbt'],
    ['http://admin:secret@nas:8080/', 'http://nas:8080/', 'http://nas:8080'],
  ])('%s', (input, base, display) => {
    expect(parseQbitUrl(input)).toEqual({ base, display });
  });

  it.each(['not a url', 'ftp://host/', '127.0.0.1:8080x'])('rejects %j with CONFIG', (input) => {
    expect(() => parseQbitUrl(input)).toThrow(expect.objectContaining({ code: 'CONFIG' }));
  });

  it('never echoes a password from a broken URL', () => {
    try {
      parseQbitUrl('http://admin:hunter22@[bad');
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter22');
    }
  });

  it.each([
    ['http://h:1/', '/auth/login', 'http://h:1/api/v2/auth/login'],
    ['https://h/qbt/', 'torrents/info', 'https://h/qbt/api/v2/torrents/info'],
  ])('apiUrl(%s, %s)', (base, path, want) => expect(apiUrl(base, path)).toBe(want));
});

describe('networkError', () => {
  const url = 'http://127.0.0.1:8080';
  it.each([
    [
      fetchFailed(sysErr('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:8080')),
      /^nothing is listening at http:\/\/127\.0\.0\.1:8080: start qBittorrent and enable its Web UI/,
    ],
    [
      fetchFailed(
        Object.assign(new AggregateError([sysErr('ECONNREFUSED'), sysErr('ECONNREFUSED')]), { code: 'ECONNREFUSED' }),
      ),
      /nothing is listening/,
    ],
    [fetchFailed(sysErr('ENOTFOUND', 'getaddrinfo ENOTFOUND nas.lan')), /cannot find the host 127\.0\.0\.1/],
    [
      Object.assign(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
      /did not answer within 2\.5 s/,
    ],
    [
      new Error('x', {
        cause: Object.assign(new Error('[TimeoutError]: The operation was aborted due to timeout'), {
          name: 'TimeoutError',
        }),
      }),
      /did not answer within/,
    ],
    [fetchFailed(sysErr('EHOSTUNREACH')), /no network route/],
    [
      fetchFailed(sysErr('DEPTH_ZERO_SELF_SIGNED_CERT')),
      /certificate .* not trusted .*--ca-file FILE.*qbittorrent\.caFile/,
    ],
    [fetchFailed(sysErr('ERR_SSL_WRONG_VERSION_NUMBER')), /use http:\/\/ instead of https:\/\//],
    [fetchFailed(sysErr('ECONNRESET')), /closed the connection/],
    [fetchFailed(new Error('bad port')), /refuses to connect to the port/],
    [
      fetchFailed(new Error('something odd')),
      /could not reach qBittorrent at http:\/\/127\.0\.0\.1:8080: something odd/,
    ],
  ])('%#', (err, re) => {
    const e = networkError(err, url, 2500);
    expect(e).toBeInstanceOf(QshareError);
    expect(e.code).toBe('QBIT_UNREACHABLE');
    expect(e.message).toMatch(re);
  });

  it.each([
    [
      'the first contact over http://: perhaps HTTPS',
      'http://127.0.0.1:8080',
      false,
      /closed the connection without answering: if the Web UI uses HTTPS/,
    ],
    [
      'the first contact over https://: not an HTTPS hint',
      'https://nas.lan/qbt',
      false,
      /closed the connection without answering: check that this address is qBittorrent's Web UI/,
    ],
    [
      'after it answered: it quit or restarted',
      'http://127.0.0.1:8080',
      true,
      /closed the connection in the middle of a request: it may have quit, crashed or restarted/,
    ],
  ])('a reset, %s', (_w, u, answered, re) => {
    for (const code of ['ECONNRESET', 'UND_ERR_SOCKET']) {
      const e = networkError(fetchFailed(sysErr(code)), u, 2500, answered);
      expect(e.message).toMatch(re);
      if (answered) expect(e.message).not.toMatch(/HTTPS/);
    }
  });

  it('redacts a password that shows up in an error message', () => {
    const e = networkError(fetchFailed(new Error('failed for http://u:pw123@h/?password=pw123')), url, 1000);
    expect(e.message).not.toContain('pw123');
  });
});

describe('answers', () => {
  it('keeps bodies to one short line and hints at a dead backend behind a proxy', () => {
    const e = unexpectedAnswer('https://h/qbt', 502, 'Bad\n\n Gateway ' + 'x'.repeat(500), 'GET /api/v2/app/version');
    expect(e.message).toMatch(/HTTP 502 "Bad Gateway x+"/);
    expect(e.message.length).toBeLessThan(400);
    expect(e.message).toMatch(/reverse proxy/);
  });
  it('apiError says what was asked and the status', () => {
    const e = apiError('http://h', 400, 'Bad Request', 'POST torrents/delete');
    expect(e.code).toBe('QBIT_API');
    expect(e.message).toBe('qBittorrent at http://h answered HTTP 400 to POST torrents/delete: "Bad Request"');
  });
});
