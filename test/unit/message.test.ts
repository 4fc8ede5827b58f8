import { describe, expect, it } from 'vitest';
import { recipientMessage } from '../../src/share/message.js';
import { formatBytes } from '../../src/share/inspect.js';

const base = {
  name: 'burly-duckbill-aviation',
  contentName: 'burly-duckbill-aviation.7z',
  size: 5_300_000_000,
  magnet: 'magnet:?xt=urn:btih:' + 'a'.repeat(40),
  torrentFileName: 'burly-duckbill-aviation.torrent',
};

describe('recipientMessage', () => {
  it('says what to install, how to open the 7z, and that the password comes separately', () => {
    const m = recipientMessage({ ...base, encrypted: true });
    expect(m).toContain(base.magnet);
    expect(m).toContain('5.3 GB');
    expect(m).toContain('qBittorrent');
    expect(m).toContain('7-Zip');
    expect(m).toContain('Keka');
    expect(m).toContain('burly-duckbill-aviation.7z');
    expect(m).toMatch(/password.*separately/i);
    expect(m).toContain(`qshare get '${base.magnet}'`);
  });
  it('mentions no archive and no password when not encrypted', () => {
    const m = recipientMessage({ ...base, encrypted: false, contentName: 'Holiday' });
    expect(m).not.toMatch(/password/i);
    expect(m).not.toContain('7-Zip');
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.0 kB'],
    [1_500_000, '1.5 MB'],
    [123_456_789_000, '123 GB'],
  ])('%d → %s', (n, s) => expect(formatBytes(n)).toBe(s));
});
