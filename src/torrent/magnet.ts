/** Magnet links: pure. */

/**
 * encodeURIComponent plus the five characters it leaves alone (`!'()*`), so a link survives being pasted into
 * Markdown, chat apps and shells. libtorrent/qBittorrent decode any percent-escape.
 */
export function strictEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * `magnet:?xt=urn:btih:<hash>&dn=<name>&tr=<tracker>…&x.pe=<host:port>…`; `dn` omitted when the name is empty, no
 * `tr` when there are no trackers. `x.pe` (BEP 9's peer address, which libtorrent and so qBittorrent follow) names
 * peers to connect to at once, before any tracker or DHT answer: a relay's BitTorrent address.
 */
export function magnetLink(
  infoHashHex: string,
  displayName: string,
  trackers: readonly string[],
  peers: readonly string[] = [],
): string {
  if (!/^[0-9a-fA-F]{40}$/.test(infoHashHex))
    throw new TypeError(`info hash must be 40 hex digits, got ${JSON.stringify(infoHashHex)}`);
  const parts = [`xt=urn:btih:${infoHashHex.toLowerCase()}`];
  if (displayName !== '') parts.push(`dn=${strictEncode(displayName)}`);
  for (const t of trackers) parts.push(`tr=${strictEncode(t)}`);
  for (const p of peers) parts.push(`x.pe=${strictEncode(p)}`);
  return `magnet:?${parts.join('&')}`;
}

export interface ParsedMagnet {
  /** v1 info hash, 40 lowercase hex digits */
  infoHash: string;
  /** `dn`, when present */
  name?: string;
  trackers: string[];
  /** `x.pe` peer addresses (host:port) */
  peers: string[];
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32ToHex(s: string): string | undefined {
  let bits = '';
  for (const ch of s.toUpperCase()) {
    const v = BASE32.indexOf(ch);
    if (v < 0) return undefined;
    bits += v.toString(2).padStart(5, '0');
  }
  let hex = '';
  for (let i = 0; i + 4 <= bits.length; i += 4) hex += Number.parseInt(bits.slice(i, i + 4), 2).toString(16);
  return hex.slice(0, 40);
}

/**
 * Reads a magnet link's v1 info hash (`xt=urn:btih:` as 40 hex or 32 base32 characters), `dn` and `tr`.
 * Returns undefined for anything that is not such a magnet link (v2-only `btmh` links included).
 */
export function parseMagnet(uri: string): ParsedMagnet | undefined {
  const text = uri.trim();
  if (!/^magnet:\?/i.test(text)) return undefined;
  let infoHash: string | undefined;
  let name: string | undefined;
  const trackers: string[] = [];
  const peers: string[] = [];
  for (const part of text.slice(text.indexOf('?') + 1).split('&')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).toLowerCase();
    let value: string;
    try {
      value = decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '));
    } catch {
      continue;
    }
    if (key === 'xt' && infoHash === undefined) {
      const m = /^urn:btih:([0-9a-z]+)$/i.exec(value);
      if (m && /^[0-9a-f]{40}$/i.test(m[1]!)) infoHash = m[1]!.toLowerCase();
      else if (m && m[1]!.length === 32) infoHash = base32ToHex(m[1]!);
    } else if (key === 'dn') name = value;
    else if (key === 'tr') trackers.push(value);
    else if (key === 'x.pe') peers.push(value);
  }
  if (!infoHash) return undefined;
  return { infoHash, ...(name !== undefined ? { name } : {}), trackers, peers };
}
