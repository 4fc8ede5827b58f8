import type { AddResult } from '../share/add.js';
import { formatBytes } from '../share/inspect.js';

/** The one JSON object `add --json` prints. */
export function shareJson(r: AddResult): Record<string, unknown> {
  const s = r.share;
  return {
    id: s.id,
    name: s.name,
    infoHash: s.infoHash,
    magnet: s.magnet,
    torrentFile: s.torrentFile,
    archive: s.archive,
    password: r.password,
    state: s.state,
    size: s.size,
    encrypted: s.encrypted,
    private: s.private,
    trackers: s.trackers,
    // the 7-Zip level used; with --level auto also what the sample said (null with --no-encrypt)
    level: r.level,
    message: r.message,
    ...(r.seed?.error
      ? { error: { code: r.seed.error.code, message: r.seed.error.message, hint: r.seed.error.hint ?? null } }
      : {}),
  };
}

export function shareSummary(r: AddResult): string {
  const s = r.share;
  const kept = r.passwordKept;
  const rule = '─'.repeat(72);
  const status =
    s.state === 'seeding'
      ? 'seeding in qBittorrent'
      : s.state === 'created'
        ? 'made, not seeding (--no-seed)'
        : 'made, but NOT seeding (see below)';
  const lines = [
    `Shared "${s.name}" (${formatBytes(s.size)}): ${status}.`,
    '',
    `  Torrent file: ${s.torrentFile}`,
    ...(s.archive ? [`  Archive:      ${s.archive}`] : []),
    ...(r.level?.auto ? [`  Compression:  level ${r.level.chosen} (--level auto: ${r.level.reason})`] : []),
    `  Magnet link:  ${s.magnet}`,
  ];
  if (r.password !== null) {
    lines.push(
      '',
      `  Password:     ${r.password}`,
      '                Send it separately (another app, a call, in person), never with the link.',
      kept?.kept
        ? `                Kept in ${kept.where}.`
        : `                qshare could not keep it (${kept ? kept.where.split(/\. |, so /)[0] : 'no secret store'}): save it now.`,
    );
  } else {
    lines.push('', '  Not encrypted (--no-encrypt): anyone with the link can download it.');
  }
  lines.push('', `Message for your recipients ${rule.slice(28)}`, r.message, rule);
  return lines.join('\n');
}
