/** Magnet links: pure. */

/**
 * encodeURIComponent plus the five characters it leaves alone (`!'()*`), so a link survives being pasted into
 * Markdown, chat apps and shells. libtorrent/qBittorrent decode any percent-escape.
 */
export function strictEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `magnet:?xt=urn:btih:<hash>&dn=<name>&tr=<tracker>…`; `dn` omitted when the name is empty, no `tr` when there are no trackers. */
export function magnetLink(infoHashHex: string, displayName: string, trackers: string[]): string {
  if (!/^[0-9a-fA-F]{40}$/.test(infoHashHex)) throw new TypeError(`info hash must be 40 hex digits, got ${JSON.stringify(infoHashHex)}`);
  const parts = [`xt=urn:btih:${infoHashHex.toLowerCase()}`];
  if (displayName !== '') parts.push(`dn=${strictEncode(displayName)}`);
  for (const t of trackers) parts.push(`tr=${strictEncode(t)}`);
  return `magnet:?${parts.join('&')}`;
}
