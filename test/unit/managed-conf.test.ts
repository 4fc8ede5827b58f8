import { pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  hashWebUiPassword,
  iniString,
  managedConf,
  noxArgs,
  noxMajorVersion,
  renderConf,
} from '../../src/managed/conf.js';

describe('managed qBittorrent conf', () => {
  it('hashes the Web UI password as qBittorrent does (PBKDF2-SHA512, 100 000 rounds)', async () => {
    const salt = Buffer.alloc(16, 7);
    const h = await hashWebUiPassword('pw', salt);
    expect(h).toBe(
      `@ByteArray(${salt.toString('base64')}:${pbkdf2Sync('pw', salt, 100_000, 64, 'sha512').toString('base64')})`,
    );
  });
  it('keeps the Web UI on 127.0.0.1 and the rest open, or everything closed with loopbackOnly', () => {
    const p = {
      webUiPort: 1,
      torrentPort: 2,
      username: 'qshare',
      passwordPbkdf2: '@ByteArray(a:b)',
      downloadsDir: '/d',
      loopbackOnly: false,
    };
    const open = managedConf(p);
    expect(open.Preferences!['WebUI\\Address']).toBe('127.0.0.1');
    expect(open.LegalNotice).toEqual({ Accepted: 'true' });
    expect(open.BitTorrent).toMatchObject({
      'Session\\DHTEnabled': 'true',
      'Session\\PeXEnabled': 'true',
      'Session\\QueueingSystemEnabled': 'false',
    });
    expect(open.BitTorrent!['Session\\InterfaceAddress']).toBeUndefined();
    const closed = managedConf({ ...p, loopbackOnly: true });
    expect(closed.BitTorrent).toMatchObject({
      'Session\\InterfaceAddress': '127.0.0.1',
      'Session\\DHTEnabled': 'false',
      'Session\\LSDEnabled': 'false',
    });
    expect(closed.Network).toEqual({ PortForwardingEnabled: 'false' });
    expect(renderConf({ A: { 'x\\y': '1' }, B: {} })).toBe('[A]\nx\\y=1\n\n[B]\n');
    expect(iniString('@ByteArray(a=:b)')).toBe('"@ByteArray(a=:b)"');
  });
  it('passes --confirm-legal-notice only to 5.x', () => {
    expect(noxMajorVersion('qBittorrent v4.5.2\n')).toBe(4);
    expect(noxMajorVersion('qBittorrent v5.0.4')).toBe(5);
    expect(noxArgs('/p', 9, 4)).toEqual(['--profile=/p', '--webui-port=9']);
    expect(noxArgs('/p', 9, 5)).toEqual(['--profile=/p', '--webui-port=9', '--confirm-legal-notice']);
  });
});
