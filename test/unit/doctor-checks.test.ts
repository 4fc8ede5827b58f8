import { describe, expect, it } from 'vitest';
import {
  connectionCheck,
  diskCheck,
  doctorExitCode,
  keychainCheck,
  pathProbeCheck,
  preferenceChecks,
  proxyKind,
  sevenZipCheck,
} from '../../src/doctor/checks.js';

const healthy = {
  dht: true,
  pex: true,
  encryption: 0,
  anonymous_mode: false,
  proxy_type: 0,
  listen_port: 6881,
  upnp: false,
};
const status = (prefs: Record<string, unknown>, trackers = ['udp://t:1/announce']) =>
  Object.fromEntries(preferenceChecks(prefs, trackers).map((c) => [c.id, c.status]));

describe('preferenceChecks', () => {
  it('all fine', () => {
    expect(status(healthy)).toEqual({ dht: 'ok', pex: 'ok', encryption: 'ok', anonymous: 'ok', proxy: 'ok' });
  });
  it.each([
    [{ dht: false }, 'dht', 'warn', { dht: true }],
    [{ pex: false }, 'pex', 'warn', { pex: true }],
    [{ encryption: 2 }, 'encryption', 'warn', { encryption: 0 }],
    [{ encryption: 1 }, 'encryption', 'info', { encryption: 0 }],
    [{ anonymous_mode: true }, 'anonymous', 'warn', { anonymous_mode: false }],
  ])('%j → %s %s, fixable with %j', (change, id, st, fix) => {
    const c = preferenceChecks({ ...healthy, ...change }, ['udp://t:1/announce']).find((x) => x.id === id)!;
    expect(c.status).toBe(st);
    expect(c.prefFix?.prefs).toEqual(fix);
    expect(c.fix).toMatch(/qshare doctor --fix/);
  });
  it('DHT off with no trackers blocks public shares', () => {
    expect(status({ ...healthy, dht: false }, []).dht).toBe('fail');
  });
  it('a proxy is reported, never "fixed"', () => {
    const c = preferenceChecks({ ...healthy, proxy_type: 'SOCKS5', proxy_ip: '10.0.0.9' }, []).find(
      (x) => x.id === 'proxy',
    )!;
    expect(c).toMatchObject({ status: 'info', detail: expect.stringContaining('SOCKS5 proxy (10.0.0.9)') });
    expect(c.prefFix).toBeUndefined();
  });
  it.each([
    [0, undefined],
    [-1, undefined],
    ['None', undefined],
    [undefined, undefined],
    [1, 'HTTP'],
    [2, 'SOCKS5'],
    [4, 'SOCKS5'],
    [5, 'SOCKS4'],
    ['HTTP', 'HTTP'],
  ])('proxyKind(%j) = %j', (v, want) => {
    expect(proxyKind(v)).toBe(want);
  });
});

describe('connectionCheck', () => {
  it.each([
    ['connected', 'ok'],
    ['firewalled', 'warn'],
    ['disconnected', 'fail'],
    [undefined, 'skip'],
  ])('%s → %s', (s, want) => expect(connectionCheck(s, healthy).status).toBe(want));
  it('firewalled names the port and UPnP, but --fix never opens router ports', () => {
    const c = connectionCheck('firewalled', healthy);
    expect(c.fix).toMatch(/forward TCP and UDP port 6881/);
    expect(c.fix).toMatch(/UPnP/);
    expect(c.prefFix).toBeUndefined();
  });
});

describe('disk, 7-Zip, keychain, paths, exit code', () => {
  it.each([
    [undefined, 'skip'],
    [50 * 1024 ** 2, 'fail'],
    [1024 ** 3, 'warn'],
    [10 * 1024 ** 3, 'ok'],
  ])('%s bytes free → %s', (b, want) => expect(diskCheck('/d', b).status).toBe(want));

  it('7-Zip', () => {
    const base = { path: '/usr/bin/7zz', version: '26.02', flavour: '7zz', legacy: false };
    expect(sevenZipCheck({ ...base, aesWorks: true }).status).toBe('ok');
    expect(sevenZipCheck({ ...base, flavour: '7za', version: '16.02', legacy: true, aesWorks: true })).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/old p7zip 16\.02/),
    });
    expect(sevenZipCheck({ ...base, aesWorks: false, aesError: 'boom' })).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('boom'),
    });
    expect(sevenZipCheck({ missing: 'no 7-Zip found' }).status).toBe('fail');
  });

  it('keychain', () => {
    expect(keychainCheck('keychain', 'the OS keychain').status).toBe('ok');
    expect(keychainCheck('file', 'f').detail).toMatch(/plain text/);
    // the headless fallback is info, with the reason and how to choose otherwise
    const fallback = keychainCheck(
      'file',
      'the owner-only file /d/secrets.json (mode 600)',
      'no keychain: there is no D-Bus session bus',
    );
    expect(fallback).toMatchObject({
      status: 'info',
      detail:
        'the owner-only file /d/secrets.json (mode 600), because no keychain: there is no D-Bus session bus: plain text that only your user (and root) can read',
    });
    expect(fallback.fix).toMatch(/"none".*"keychain"/);
    expect(keychainCheck('none', 'no keychain: …').status).toBe('info');
  });

  it('paths', () => {
    expect(pathProbeCheck({ ok: true, savePath: '/x' }).status).toBe('ok');
    expect(pathProbeCheck({ ok: false, savePath: '/x', state: 'missingFiles', mapped: false }).fix).toMatch(
      /set qbittorrent\.pathMap/,
    );
    expect(pathProbeCheck({ ok: false, savePath: '/x', state: 'missingFiles', mapped: true }).fix).toMatch(
      /check qbittorrent\.pathMap/,
    );
    expect(pathProbeCheck({ skipped: 'why' }).status).toBe('skip');
  });

  it('exit 1 only when something fails', () => {
    expect(doctorExitCode([connectionCheck('firewalled', healthy), diskCheck('/d', 1024 ** 3)])).toBe(0);
    expect(doctorExitCode([connectionCheck('disconnected', healthy)])).toBe(1);
  });
});
