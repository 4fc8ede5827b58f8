/**
 * HTTPS with a self-signed certificate and a reverse-proxy base path, against a real TLS server on 127.0.0.1 that
 * answers like qBittorrent 4.5 under /qbt/ (certificate made with openssl for this run). Without the certificate
 * qshare refuses; with qbittorrent.caFile it trusts exactly that; --insecure works and warns.
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:https';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QshareError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { connectQbit } from '../../src/qbit/connect.js';
import { cliEnv, runCli } from '../helpers/cli.js';

const PASSWORD = 'tls-test-password';
let dir: string;
let server: Server;
let base: string;
const seen: string[] = [];

function capture() {
  const lines: string[] = [];
  return { lines, log: createLogger({ write: (l) => lines.push(l), json: false, level: 'info' }) };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qshare-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  await writeFile(join(dir, 'not-a-cert.pem'), 'hello\n');
  server = createServer(
    { key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) },
    (req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url}`);
        const authed = req.headers.cookie === 'SID=tlssid';
        const send = (status: number, text: string, headers: Record<string, string> = {}) => {
          res.writeHead(status, headers);
          res.end(text);
        };
        switch (`${req.method} ${req.url?.split('?')[0]}`) {
          case 'POST /qbt/api/v2/auth/login':
            return new URLSearchParams(body).get('password') === PASSWORD
              ? send(200, 'Ok.', { 'Set-Cookie': 'SID=tlssid; HttpOnly; path=/' })
              : send(200, 'Fails.');
          case 'GET /qbt/api/v2/app/version':
            return authed ? send(200, 'v4.5.2') : send(403, 'Forbidden');
          case 'GET /qbt/api/v2/app/webapiVersion':
            return authed ? send(200, '2.8.19') : send(403, 'Forbidden');
          case 'GET /qbt/api/v2/torrents/info':
            return authed ? send(200, '[]', { 'Content-Type': 'application/json' }) : send(403, 'Forbidden');
          default:
            return send(404, 'Not Found');
        }
      });
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}/qbt/`;
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await rm(dir, { recursive: true, force: true });
});

describe('a self-signed HTTPS Web UI behind a base path', () => {
  it('without the certificate: refused, saying how to give it', async () => {
    const e = await connectQbit({ url: base, password: PASSWORD, log: capture().log }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(QshareError);
    expect((e as QshareError).code).toBe('QBIT_UNREACHABLE');
    expect((e as QshareError).message).toMatch(
      /the HTTPS certificate of https:\/\/127\.0\.0\.1:\d+\/qbt is not trusted \(.*\): .*--ca-file FILE.*qbittorrent\.insecureTls/,
    );
  });

  it('with its certificate as caFile: every request (probe, login, library) goes through it under /qbt/', async () => {
    seen.length = 0;
    const { log, lines } = capture();
    const s = await connectQbit({ url: base, password: PASSWORD, log, tls: { caFile: join(dir, 'cert.pem') } });
    expect(s.url).toBe(base.replace(/\/$/, ''));
    expect(s.appVersion).toBe('v4.5.2');
    expect(await s.getTorrent('ab'.repeat(20))).toBeUndefined();
    expect(seen).toEqual([
      'GET /qbt/api/v2/app/version',
      'POST /qbt/api/v2/auth/login',
      'GET /qbt/api/v2/app/version',
      'GET /qbt/api/v2/app/webapiVersion',
      `GET /qbt/api/v2/torrents/info?hashes=${'ab'.repeat(20)}`,
    ]);
    expect(lines).toEqual([]);
  });

  it('insecure: connects without checking, and warns', async () => {
    const { log, lines } = capture();
    const s = await connectQbit({ url: base, password: PASSWORD, log, tls: { insecure: true } });
    expect(s.appVersion).toBe('v4.5.2');
    expect(lines.join('')).toMatch(
      /^warn: not checking the HTTPS certificate of https:\/\/127\.0\.0\.1:\d+\/qbt \(qbittorrent\.insecureTls \/ --insecure\)/,
    );
  });

  it('a caFile that is missing or not a certificate → CONFIG error', async () => {
    for (const f of [join(dir, 'nope.pem'), join(dir, 'not-a-cert.pem')]) {
      const e = await connectQbit({ url: base, password: PASSWORD, log: capture().log, tls: { caFile: f } }).catch(
        (x: unknown) => x,
      );
      expect((e as QshareError).code).toBe('CONFIG');
      expect((e as QshareError).message).toContain(f);
    }
  });

  it('qshare login --ca-file: logs in over HTTPS and saves the address and the certificate path', async () => {
    const configFile = join(dir, 'config.json');
    const env = cliEnv({ QSHARE_HOME: join(dir, 'home'), QSHARE_CONFIG: configFile, QSHARE_SECRET_STORE: 'none' });
    const r = await runCli(['login', '--url', base, '--password-stdin', '--ca-file', join(dir, 'cert.pem')], {
      env,
      input: `${PASSWORD}\n`,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /Connected to qBittorrent v4\.5\.2 \(Web API 2\.8\.19\) at https:\/\/127\.0\.0\.1:\d+\/qbt as admin\./,
    );
    expect(JSON.parse(await readFile(configFile, 'utf8'))).toEqual({
      qbittorrent: { url: base, username: 'admin', caFile: join(dir, 'cert.pem') },
    });
    expect(r.stderr).toMatch(/was not kept/); // secrets.store "none"
  });
});
