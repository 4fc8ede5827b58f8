import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import type { Dispatcher } from 'undici';
import { QshareError } from '../errors.js';
import type { Logger } from '../log.js';
import type { QbitTarget } from './url.js';

export type { Dispatcher } from 'undici';

export interface TlsOptions {
  /** a PEM file with the Web UI's (self-signed) certificate or the CA that signed it; trusted on top of the usual CAs */
  caFile?: string | null | undefined;
  /** do not check the certificate at all (warns every time) */
  insecure?: boolean | undefined;
}

/**
 * The HTTP dispatcher for an https:// Web UI with its own certificate: undefined (Node's defaults) unless a CA file
 * or the insecure switch is given. The same dispatcher serves the probe, the login and every library request.
 */
export async function tlsDispatcher(
  target: QbitTarget,
  tls: TlsOptions | undefined,
  log: Logger,
): Promise<Dispatcher | undefined> {
  if (!tls || (!tls.caFile && !tls.insecure)) return undefined;
  if (!target.base.startsWith('https:')) {
    log.debug('qbittorrent.caFile / insecureTls ignored: the Web UI address is http://');
    return undefined;
  }
  let ca: string | undefined;
  if (tls.caFile) {
    try {
      ca = await readFile(tls.caFile, 'utf8');
    } catch (e) {
      throw new QshareError(
        'CONFIG',
        `cannot read the certificate file ${tls.caFile} (qbittorrent.caFile / --ca-file): ${(e as Error).message}`,
      );
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new QshareError(
        'CONFIG',
        `${tls.caFile} (qbittorrent.caFile / --ca-file) holds no PEM certificate: give the Web UI's certificate file (the one set in Tools → Options → Web UI → Certificate)`,
      );
    }
  }
  if (tls.insecure) {
    log.warn(
      `not checking the HTTPS certificate of ${target.display} (qbittorrent.insecureTls / --insecure): a machine in between could pose as qBittorrent and read the password. ` +
        'Prefer qbittorrent.caFile with the Web UI certificate',
    );
  }
  // undici takes ~100 ms to load: only when a Web UI needs its own certificate handling (keeps start-up fast)
  const { Agent } = await import('undici');
  return new Agent({
    connect: { ...(ca ? { ca: [...rootCertificates, ca] } : {}), rejectUnauthorized: tls.insecure !== true },
  });
}
