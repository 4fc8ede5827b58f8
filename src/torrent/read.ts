import bencode from 'bencode';

/**
 * How many pieces a .torrent has: ceil(total length / piece length). Pure. Returns undefined when the bytes are not
 * a torrent with a usable `piece length` and length(s).
 */
export function pieceCountOfTorrent(torrent: Uint8Array): number | undefined {
  let top: unknown;
  try {
    top = bencode.decode(torrent);
  } catch {
    return undefined;
  }
  const info = (top as { info?: Record<string, unknown> } | null)?.info;
  if (!info || typeof info !== 'object') return undefined;
  const pieceLength = info['piece length'];
  if (typeof pieceLength !== 'number' || pieceLength <= 0) return undefined;
  let total = 0;
  if (typeof info.length === 'number') total = info.length;
  else if (Array.isArray(info.files))
    for (const f of info.files as Array<{ length?: unknown }>) total += typeof f.length === 'number' ? f.length : 0;
  if (total <= 0) return undefined;
  return Math.ceil(total / pieceLength);
}
