/**
 * The qbittorrent-nox test harness itself: pure parts as tables, then real processes on 127.0.0.1.
 * At most one wrong login per instance (5 failures ban 127.0.0.1 on that instance for an hour).
 */
import { pbkdf2Sync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort, freePorts, freeTcpUdpPort } from '../helpers/ports.js';
import {
  baseConf,
  childEnv,
  hasQbitNox,
  hashWebuiPassword,
  iniString,
  mergeConf,
  noxArgv,
  renderConf,
  startQbitNox,
  type QbitNox,
} from '../helpers/qbit-nox.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function login(
  url: string,
  username: string,
  password: string,
): Promise<{ status: number; body: string; sid?: string }> {
  const res = await fetch(`${url}/api/v2/auth/login`, {
    method: 'POST',
    body: new URLSearchParams({ username, password }),
  });
  const body = await res.text();
  const sid = /(?:^|[;,]\s*)(SID=[^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
  return sid === undefined ? { status: res.status, body } : { status: res.status, body, sid };
}

async function getText(url: string, cookie?: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, cookie === undefined ? {} : { headers: { cookie } });
  return { status: res.status, body: await res.text() };
}

describe('iniString', () => {
  test.each([
    ['/tmp/qshare-qbit-abc/downloads', '/tmp/qshare-qbit-abc/downloads'],
    ['admin', 'admin'],
    ['a,b', '"a,b"'],
    ['a;b', '"a;b"'],
    ['@ByteArray(c2FsdA==:a2V5)', '"@ByteArray(c2FsdA==:a2V5)"'],
    [' lead', '" lead"'],
    ['trail ', '"trail "'],
    ['back\\slash', 'back\\\\slash'],
    ['say "hi"', 'say \\"hi\\"'],
  ])('%j -> %j', (input, expected) => {
    expect(iniString(input)).toBe(expected);
  });
});

describe('hashWebuiPassword', () => {
  test('PBKDF2-HMAC-SHA512, 100000 iterations, 64-byte key, salt:key in @ByteArray()', async () => {
    const salt = Buffer.alloc(16, 7);
    const value = await hashWebuiPassword('s3cret', salt);
    const key = pbkdf2Sync('s3cret', salt, 100_000, 64, 'sha512');
    expect(value).toBe(`@ByteArray(${salt.toString('base64')}:${key.toString('base64')})`);
  });
  test('random salt by default', async () => {
    const [a, b] = await Promise.all([hashWebuiPassword('x'), hashWebuiPassword('x')]);
    expect(a).toMatch(/^@ByteArray\([A-Za-z0-9+/]{22}==:[A-Za-z0-9+/]{86}==\)$/);
    expect(a).not.toBe(b);
  });
});

describe('conf building', () => {
  const params = {
    webuiPort: 40001,
    torrentPort: 40002,
    username: 'admin',
    passwordPbkdf2: '@ByteArray(AA==:BB==)',
    downloadsDir: '/tmp/p/downloads',
    bypassLocalAuth: false,
    dht: false,
    pex: false,
  };
  test.each([
    ['BitTorrent', 'Session\\InterfaceAddress', '127.0.0.1'],
    ['BitTorrent', 'Session\\Port', '40002'],
    ['BitTorrent', 'Session\\DHTEnabled', 'false'],
    ['BitTorrent', 'Session\\LSDEnabled', 'false'],
    ['BitTorrent', 'Session\\PeXEnabled', 'false'],
    ['BitTorrent', 'Session\\BTProtocol', 'TCP'],
    ['BitTorrent', 'Session\\DefaultSavePath', '/tmp/p/downloads'],
    ['Network', 'PortForwardingEnabled', 'false'],
    ['Preferences', 'WebUI\\Address', '127.0.0.1'],
    ['Preferences', 'WebUI\\Port', '40001'],
    ['Preferences', 'WebUI\\UseUPnP', 'false'],
    ['Preferences', 'WebUI\\LocalHostAuth', 'true'],
    ['Preferences', 'WebUI\\Password_PBKDF2', '"@ByteArray(AA==:BB==)"'],
    ['Preferences', 'Connection\\ResolvePeerCountries', 'false'],
    ['RSS', 'Session\\EnableProcessing', 'false'],
    ['LegalNotice', 'Accepted', 'true'],
  ])('[%s] %s=%s', (section, key, value) => {
    expect(baseConf(params)[section]?.[key]).toBe(value);
  });
  test('bypassLocalAuth, dht and pex switch their keys', () => {
    const conf = baseConf({ ...params, bypassLocalAuth: true, dht: true, pex: true });
    expect(conf.Preferences?.['WebUI\\LocalHostAuth']).toBe('false');
    expect(conf.BitTorrent?.['Session\\DHTEnabled']).toBe('true');
    expect(conf.BitTorrent?.['Session\\PeXEnabled']).toBe('true');
  });
  test('mergeConf: extra overrides key by key, adds sections, leaves inputs alone', () => {
    const base = { A: { x: '1', y: '2' } };
    const merged = mergeConf(base, { A: { y: '3' }, B: { z: '4' } });
    expect(merged).toEqual({ A: { x: '1', y: '3' }, B: { z: '4' } });
    expect(base).toEqual({ A: { x: '1', y: '2' } });
  });
  test('renderConf writes ini sections and rejects line breaks', () => {
    expect(renderConf({ A: { 'k\\1': 'v' }, B: { k: '"q,"' } })).toBe('[A]\nk\\1=v\n\n[B]\nk="q,"\n');
    expect(() => renderConf({ A: { k: 'v\n[Evil]' } })).toThrow(/bad conf entry/);
    expect(() => renderConf({ 'A]\n': { k: 'v' } })).toThrow(/bad conf section/);
  });
  test.each([
    [{}, ['/q', '--profile=/tmp/p', '--webui-port=4000']],
    [{ setpriv: '/sp' }, ['/sp', '--pdeathsig', 'KILL', '--', '/q', '--profile=/tmp/p', '--webui-port=4000']],
    [{ stdbuf: '/sb' }, ['/sb', '-oL', '-eL', '--', '/q', '--profile=/tmp/p', '--webui-port=4000']],
    [
      { setpriv: '/sp', stdbuf: '/sb' },
      ['/sp', '--pdeathsig', 'KILL', '--', '/sb', '-oL', '-eL', '--', '/q', '--profile=/tmp/p', '--webui-port=4000'],
    ],
  ])('noxArgv wrappers %j', (wrappers, expected) => {
    expect(noxArgv('/q', '/tmp/p', 4000, wrappers)).toEqual(expected);
  });
  test('childEnv drops QBT_* and keeps HOME/XDG inside the profile', () => {
    const env = childEnv({ PATH: '/bin', QBT_WEBUI_PORT: '8080', QBT_PROFILE: '/x', HOME: '/root' }, '/tmp/p');
    expect(env.PATH).toBe('/bin');
    expect(env.QBT_WEBUI_PORT).toBeUndefined();
    expect(env.QBT_PROFILE).toBeUndefined();
    expect(env.HOME).toBe('/tmp/p');
    expect(env.XDG_CONFIG_HOME).toBe('/tmp/p/xdg/config');
  });
});

describe('ports', () => {
  test('freePorts(n) gives n distinct ports that can then be bound on 127.0.0.1', async () => {
    const ports = await freePorts(5);
    expect(ports).toHaveLength(5);
    expect(new Set(ports).size).toBe(5);
    for (const port of ports) expect(port).toBeGreaterThan(0);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(ports[0], '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  test('freePort and freeTcpUdpPort avoid what they are told to', async () => {
    const a = await freePort();
    const b = await freeTcpUdpPort([a]);
    expect(b).not.toBe(a);
  });
});

describe('startQbitNox with a binary that exits at once', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'qshare-fakenox-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  test('throws an Error that includes the exit code and its output', async () => {
    const fake = path.join(dir, 'fake-nox');
    await writeFile(fake, '#!/bin/sh\necho "fake nox says no: $2"\nexit 3\n');
    await chmod(fake, 0o755);
    await expect(startQbitNox({ binary: fake, startTimeoutMs: 5000 })).rejects.toThrow(
      /exited during start \(exit code 3\)[\s\S]*fake nox says no: --webui-port=\d+/,
    );
  });
});

describe.skipIf(!hasQbitNox())('qbittorrent-nox harness (real process on 127.0.0.1)', () => {
  const password = 'pw, with=odd;chars "quoted"';
  let a: QbitNox;
  const others: QbitNox[] = [];

  beforeAll(async () => {
    const t0 = performance.now();
    a = await startQbitNox({ password });
    console.info(`[qbit-nox] start took ${Math.round(performance.now() - t0)} ms`);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), ...others.map((q) => q.stop())]);
  });

  test('logs in with raw fetch: Ok. and a SID cookie; API answers with it, 403 without', async () => {
    expect(a.url).toBe(`http://127.0.0.1:${a.webuiPort}`);
    expect(a.password).toBe(password);
    const res = await login(a.url, 'admin', password);
    expect(res).toMatchObject({ status: 200, body: 'Ok.' });
    expect(res.sid).toMatch(/^SID=\S+$/);
    const api = await getText(`${a.url}/api/v2/app/webapiVersion`, res.sid);
    expect(api.status).toBe(200);
    expect(api.body).toMatch(/^2\.\d+(\.\d+)?$/);
    expect((await getText(`${a.url}/api/v2/app/webapiVersion`)).status).toBe(403);
    // The helper's own login() works too.
    expect(await a.login()).toMatch(/^SID=/);
  });

  test('the configuration took effect (loopback only, quiet, our ports and paths)', async () => {
    const sid = await a.login();
    const prefs = (await (
      await fetch(`${a.url}/api/v2/app/preferences`, { headers: { cookie: sid } })
    ).json()) as Record<string, unknown>;
    expect(prefs).toMatchObject({
      listen_port: a.torrentPort,
      web_ui_port: a.webuiPort,
      web_ui_address: '127.0.0.1',
      current_interface_address: '127.0.0.1',
      web_ui_username: 'admin',
      save_path: a.downloadsDir,
      dht: false,
      pex: false,
      lsd: false,
      upnp: false,
      web_ui_upnp: false,
      resolve_peer_countries: false,
      rss_processing_enabled: false,
      rss_auto_downloading_enabled: false,
      dyndns_enabled: false,
      mail_notification_enabled: false,
      queueing_enabled: false,
      bittorrent_protocol: 1, // TCP
      enable_multi_connections_from_same_ip: true,
      bypass_local_auth: false,
      add_trackers_enabled: false,
    });
    expect(existsSync(a.downloadsDir)).toBe(true);
    expect(a.downloadsDir.startsWith(a.profileDir)).toBe(true);
    const appLog = await a.appLog();
    expect(appLog).toContain(`Successfully listening on IP. IP: "127.0.0.1". Port: "TCP/${a.torrentPort}"`);
    expect(appLog).not.toMatch(/UPnP\/NAT-PMP support: ON/);
  });

  test('a wrong password gives 200 Fails. and no cookie (the one wrong login on this instance)', async () => {
    const res = await login(a.url, 'admin', 'definitely-wrong');
    expect(res).toEqual({ status: 200, body: 'Fails.' });
  });

  test('bypassLocalAuth + extraConf, running next to another instance on different ports', async () => {
    const b = await startQbitNox({
      bypassLocalAuth: true,
      username: 'tester=1,x',
      extraConf: { Preferences: { 'WebUI\\MaxAuthenticationFailCount': '7' } },
    });
    others.push(b);
    expect(new Set([a.webuiPort, a.torrentPort, b.webuiPort, b.torrentPort]).size).toBe(4);
    expect(b.pid).not.toBe(a.pid);
    expect(b.profileDir).not.toBe(a.profileDir);
    expect(b.password).toMatch(/^[A-Za-z0-9]{16}$/);

    const version = await getText(`${b.url}/api/v2/app/version`);
    expect(version).toMatchObject({ status: 200 });
    expect(version.body).toMatch(/^v\d+\.\d+/);
    expect((await getText(`${a.url}/api/v2/app/version`)).status).toBe(403); // a still wants a login

    const prefs = JSON.parse((await getText(`${b.url}/api/v2/app/preferences`)).body) as Record<string, unknown>;
    expect(prefs).toMatchObject({
      bypass_local_auth: true,
      web_ui_max_auth_fail_count: 7,
      web_ui_username: 'tester=1,x',
    });
    expect(await login(b.url, 'tester=1,x', b.password)).toMatchObject({ status: 200, body: 'Ok.' });
  });

  test('two instances started at the same time', async () => {
    const [c, d] = await Promise.all([
      startQbitNox({ bypassLocalAuth: true }),
      startQbitNox({ bypassLocalAuth: true }),
    ]);
    others.push(c, d);
    expect(c.webuiPort).not.toBe(d.webuiPort);
    expect(c.torrentPort).not.toBe(d.torrentPort);
    for (const q of [c, d]) {
      const prefs = JSON.parse((await getText(`${q.url}/api/v2/app/preferences`)).body) as Record<string, unknown>;
      expect(prefs).toMatchObject({ listen_port: q.torrentPort, web_ui_port: q.webuiPort });
    }
  });

  test('does not mistake another server on its Web UI port for itself', async () => {
    const impostor = http.createServer((_req, res) => {
      res.statusCode = 403;
      res.end('Forbidden');
    });
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    const port = (impostor.address() as net.AddressInfo).port;
    try {
      await expect(startQbitNox({ webuiPort: port, startTimeoutMs: 10_000 })).rejects.toThrow(
        /could not bind its Web UI port/,
      );
    } finally {
      await new Promise<void>((resolve) => impostor.close(() => resolve()));
    }
  });

  test('kill() keeps the profile, restart() comes back on the same ports, stop() cleans up', async () => {
    const q = await startQbitNox();
    others.push(q);
    const { pid: firstPid, webuiPort, torrentPort, profileDir, confPath } = q;
    await q.kill();
    expect(isAlive(firstPid)).toBe(false);
    expect(existsSync(confPath)).toBe(true);
    expect((await fetch(`${q.url}/api/v2/app/version`).catch((err: unknown) => err)) instanceof Error).toBe(true);

    const tr = performance.now();
    await q.restart();
    console.info(`[qbit-nox] restart after kill took ${Math.round(performance.now() - tr)} ms`);
    expect(q.pid).not.toBe(firstPid);
    expect(isAlive(q.pid)).toBe(true);
    expect([q.webuiPort, q.torrentPort, q.profileDir]).toEqual([webuiPort, torrentPort, profileDir]);
    expect(await q.login()).toMatch(/^SID=/); // PBKDF2 password still accepted
    expect(await q.log()).toContain('WebUI will be started');

    const secondPid = q.pid;
    const ts = performance.now();
    await q.stop();
    console.info(`[qbit-nox] stop took ${Math.round(performance.now() - ts)} ms`);
    expect(isAlive(secondPid)).toBe(false);
    expect(existsSync(profileDir)).toBe(false);
    await q.stop(); // idempotent
    await expect(q.restart()).rejects.toThrow(/after stop/);
    expect(await q.appLog()).toContain(`Web UI: Now listening on IP: 127.0.0.1, port: ${webuiPort}`);
    expect(await readFile(confPath, 'utf8').catch(() => 'gone')).toBe('gone');
  });
});
