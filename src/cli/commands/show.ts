import { basename } from 'node:path';
import qrcode from 'qrcode-terminal';
import { EXIT, isQshareError, QshareError } from '../../errors.js';
import { shareSecretKey } from '../../secrets/store.js';
import { formatBytes } from '../../share/inspect.js';
import { recipientMessage } from '../../share/message.js';
import type { ShareRecord } from '../../state/types.js';
import type { CommandContext } from '../context.js';
import { lookAtRelays, relayLine, relaysJson } from '../relays.js';

/** `qshare show <name|id> [--qr]`: everything needed to send a share again, from the records and the secret store. */
export async function runShow(ctx: CommandContext, ref: string, qr: boolean): Promise<number> {
  const share = await ctx.deps.state.find(ref);
  if (!share) throw new QshareError('NOT_FOUND', `no share called "${ref}"`, { hint: 'see them with qshare ls' });
  if (qr && ctx.opts.json) throw new QshareError('USAGE', '--qr draws on the terminal; leave out --json');
  const pw = share.encrypted
    ? await password(ctx, share)
    : { value: null, note: 'not encrypted (--no-encrypt): there is no password' };
  const message = messageFor(share);
  const relays = (await lookAtRelays(ctx, [share])).get(share.id) ?? [];
  if (ctx.opts.json) {
    ctx.printJson({
      id: share.id,
      name: share.name,
      infoHash: share.infoHash,
      magnet: share.magnet,
      torrentFile: share.torrentFile,
      archive: share.archive,
      source: share.source,
      size: share.size,
      encrypted: share.encrypted,
      password: pw.value,
      // where it was found, or why there is none
      ...(pw.value === null ? { passwordNote: pw.note } : { passwordStore: pw.note }),
      recipients: share.recipients ?? null,
      expireMinutes: share.expireMinutes ?? null,
      state: share.state,
      ...(relays.length > 0 ? { relays: relaysJson(relays), handedOffAt: share.handedOffAt ?? null } : {}),
      message,
    });
    return EXIT.ok;
  }
  const lines = [
    `"${share.name}" (${formatBytes(share.size)}), made ${share.createdAt.slice(0, 16).replace('T', ' ')} from ${share.source}`,
    '',
    `  Torrent file: ${share.torrentFile}`,
    ...(share.archive ? [`  Archive:      ${share.archive}`] : []),
    `  Magnet link:  ${share.magnet}`,
    ...(pw.value === null
      ? [`  Password:     (${pw.note})`]
      : [`  Password:     ${pw.value}`, `                kept in ${pw.note}`]),
  ];
  if (share.recipients !== undefined)
    lines.push(
      `  Seeds until:  ${share.recipients} ${share.recipients === 1 ? 'peer has' : 'peers have'} the whole file`,
    );
  if (share.expireMinutes !== undefined) lines.push(`  Expires:      after ${share.expireMinutes / 60} h of seeding`);
  for (const r of relays)
    lines.push(`  ${relayLine(r)}${r.error ? ` (${r.error.replace(/^relay "[^"]+": /, '')})` : ''}`);
  if (share.handedOffAt)
    lines.push(
      `  Handed off:   ${share.handedOffAt.slice(0, 16).replace('T', ' ')}: the relays seed it, this computer does not (qshare seed ${share.name} starts it again)`,
    );
  const rule = '─'.repeat(72);
  lines.push('', `Message for your recipients ${rule.slice(28)}`, message, rule);
  ctx.print(lines.join('\n'));
  if (qr) {
    ctx.print('\nThe magnet link as a QR code (scan it with the phone that will download):');
    ctx.print(await qrText(share.magnet));
  }
  return EXIT.ok;
}

async function password(ctx: CommandContext, share: ShareRecord): Promise<{ value: string | null; note: string }> {
  try {
    const s = await ctx.deps.secrets();
    const found = await s.find(shareSecretKey(share.id), share.passwordStore);
    if (found) return { value: found.secret, note: found.description };
    return { value: null, note: s.kind === 'none' ? `not kept: ${s.description}` : `not found in ${s.description}` };
  } catch (e) {
    if (!isQshareError(e)) throw e;
    return { value: null, note: `could not read it: ${e.message}` };
  }
}

function messageFor(share: ShareRecord): string {
  return recipientMessage({
    name: share.name,
    encrypted: share.encrypted,
    contentName: share.encrypted && share.archive ? basename(share.archive) : basename(share.source),
    size: share.size,
    magnet: share.magnet,
    torrentFileName: basename(share.torrentFile),
  });
}

function qrText(text: string): Promise<string> {
  return new Promise((resolve) => qrcode.generate(text, { small: true }, (s: string) => resolve(s)));
}
