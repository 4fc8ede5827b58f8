import { describe, expect, it } from 'vitest';
import { magnetLink } from '../../src/torrent/magnet.js';

const H = '0123456789abcdef0123456789abcdef01234567';

describe('magnetLink', () => {
  it.each([
    [
      'plain name, one tracker',
      H,
      'photos.7z',
      ['http://127.0.0.1:6969/announce'],
      `magnet:?xt=urn:btih:${H}&dn=photos.7z&tr=http%3A%2F%2F127.0.0.1%3A6969%2Fannounce`,
    ],
    ['upper-case hash is lowered', H.toUpperCase(), 'a', [], `magnet:?xt=urn:btih:${H}&dn=a`],
    ['spaces', H, 'my photos 2024.7z', [], `magnet:?xt=urn:btih:${H}&dn=my%20photos%202024.7z`],
    ['& = ? # + %', H, 'a&b=c?d#e+f%g', [], `magnet:?xt=urn:btih:${H}&dn=a%26b%3Dc%3Fd%23e%2Bf%25g`],
    ['non-ASCII', H, 'café 日本.7z', [], `magnet:?xt=urn:btih:${H}&dn=caf%C3%A9%20%E6%97%A5%E6%9C%AC.7z`],
    ["!'()* are escaped too", H, "it's (1)!*", [], `magnet:?xt=urn:btih:${H}&dn=it%27s%20%281%29%21%2A`],
    ['zero trackers', H, 'x', [], `magnet:?xt=urn:btih:${H}&dn=x`],
    ['empty name is left out', H, '', ['udp://127.0.0.1:1'], `magnet:?xt=urn:btih:${H}&tr=udp%3A%2F%2F127.0.0.1%3A1`],
    [
      'several trackers keep their order, query strings encoded',
      H,
      'x',
      ['udp://127.0.0.1:1', 'http://127.0.0.1:2/a?passkey=1&b=2'],
      `magnet:?xt=urn:btih:${H}&dn=x&tr=udp%3A%2F%2F127.0.0.1%3A1&tr=http%3A%2F%2F127.0.0.1%3A2%2Fa%3Fpasskey%3D1%26b%3D2`,
    ],
  ])('%s', (_label, hash, name, trackers, expected) => {
    expect(magnetLink(hash, name, trackers)).toBe(expected);
  });

  it('round-trips through URLSearchParams', () => {
    const name = 'a & b + c/ d=é?#%';
    const trackers = ['http://127.0.0.1:1/announce?x=1&y=2', 'udp://127.0.0.1:2'];
    const q = new URLSearchParams(magnetLink(H, name, trackers).slice('magnet:?'.length));
    expect(q.get('xt')).toBe(`urn:btih:${H}`);
    expect(q.get('dn')).toBe(name);
    expect(q.getAll('tr')).toEqual(trackers);
  });

  it.each(['', 'abc', H + '0', H.slice(0, 39) + 'g'])('rejects info hash %j', (h) => {
    expect(() => magnetLink(h, 'x', [])).toThrow(TypeError);
  });
});
