/**
 * The managed qBittorrent's first configuration, written before its first start (qBittorrent rewrites the file
 * itself afterwards). Pure: the password hash and ports come in as arguments.
 */
import { pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/** `WebUI\Password_PBKDF2`: `@ByteArray(<b64 salt>:<b64 key>)`, PBKDF2-HMAC-SHA512, 100 000 rounds (qBittorrent ≥ 4.2). */
export async function hashWebUiPassword(password: string, salt: Buffer = randomBytes(16)): Promise<string> {
  const key = await pbkdf2Async(password, salt, 100_000, 64, 'sha512');
  return `@ByteArray(${salt.toString('base64')}:${key.toString('base64')})`;
}

/** A QSettings ini string: `\` and `"` escaped, quoted when it holds `,` `;` `=` or edge spaces. */
export function iniString(value: string): string {
  const escaped = value.replace(/[\\"]/g, (c) => `\\${c}`);
  return /[,;=]/.test(value) || value.startsWith(' ') || value.endsWith(' ') ? `"${escaped}"` : escaped;
}

export interface ManagedConfParams {
  webUiPort: number;
  torrentPort: number;
  username: string;
  passwordPbkdf2: string;
  downloadsDir: string;
  /** everything on 127.0.0.1, no DHT/PeX/LSD/UPnP: nothing is reachable from outside */
  loopbackOnly: boolean;
}

export type ConfSections = Record<string, Record<string, string>>;

export function managedConf(p: ManagedConfParams): ConfSections {
  const open = !p.loopbackOnly;
  const b = (v: boolean) => (v ? 'true' : 'false');
  return {
    LegalNotice: { Accepted: 'true' },
    BitTorrent: {
      ...(p.loopbackOnly ? { 'Session\\InterfaceAddress': '127.0.0.1' } : {}),
      'Session\\Port': String(p.torrentPort),
      'Session\\DHTEnabled': b(open),
      'Session\\PeXEnabled': b(open),
      'Session\\LSDEnabled': b(open),
      'Session\\QueueingSystemEnabled': 'false',
      'Session\\Encryption': '0',
      'Session\\DefaultSavePath': iniString(p.downloadsDir),
      'Session\\TempPathEnabled': 'false',
    },
    Network: { PortForwardingEnabled: b(open) },
    Preferences: {
      'WebUI\\Enabled': 'true',
      'WebUI\\Address': '127.0.0.1',
      'WebUI\\Port': String(p.webUiPort),
      'WebUI\\UseUPnP': 'false',
      'WebUI\\LocalHostAuth': 'true',
      'WebUI\\Username': iniString(p.username),
      'WebUI\\Password_PBKDF2': iniString(p.passwordPbkdf2),
      'Connection\\ResolvePeerCountries': 'false',
      'General\\Locale': 'en',
    },
  };
}

export function renderConf(sections: ConfSections): string {
  return (
    Object.entries(sections)
      .map(([name, keys]) => [`[${name}]`, ...Object.entries(keys).map(([k, v]) => `${k}=${v}`)].join('\n'))
      .join('\n\n') + '\n'
  );
}

/** argv for qbittorrent-nox: `--confirm-legal-notice` only where it exists (5.0+; 4.x exits 1 on it). */
export function noxArgs(profileDir: string, webUiPort: number, noxMajor: number): string[] {
  return [`--profile=${profileDir}`, `--webui-port=${webUiPort}`, ...(noxMajor >= 5 ? ['--confirm-legal-notice'] : [])];
}

/** `qBittorrent v4.5.2` → 4 */
export function noxMajorVersion(versionOutput: string): number | undefined {
  const m = /v?(\d+)\.\d+/.exec(versionOutput);
  return m ? Number(m[1]) : undefined;
}
