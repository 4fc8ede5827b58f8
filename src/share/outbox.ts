/**
 * What `qshare watch` leaves for the person next to the drop folder, in `<drop folder>/.qshare/` (hidden, so the
 * watcher never takes its own outputs for new items):
 *   <name>.torrent        the torrent to send (same file as in qshare's data folder)
 *   <name>.txt            a card: what was shared, the magnet link, where the password is, the recipients' message
 *   <name>.password.txt   the archive password, only with watch.writePasswordFile (mode 600)
 * Every file is written atomically; none of them ever appears half-written.
 */
import { copyFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrivateDir, partialName, writeFileAtomic } from '../fsx/atomic.js';
import { formatBytes } from './inspect.js';

export const OUTBOX_DIRNAME = '.qshare';

export function outboxDir(dropDir: string): string {
  return join(dropDir, OUTBOX_DIRNAME);
}

export function outboxFiles(
  dropDir: string,
  name: string,
): { dir: string; torrent: string; card: string; password: string } {
  const dir = outboxDir(dropDir);
  return {
    dir,
    torrent: join(dir, `${name}.torrent`),
    card: join(dir, `${name}.txt`),
    password: join(dir, `${name}.password.txt`),
  };
}

export interface CardInput {
  name: string;
  /** the item's name in the drop folder */
  entry: string;
  dropDir: string;
  size: number;
  magnet: string;
  createdAt: string;
  /** where the password can be found: the secret store's description, and/or the password file */
  passwordInStore: string | null;
  passwordFile: boolean;
  /** the message for recipients (recipientMessage) */
  message: string;
}

/** The card's text. Pure. Never contains the password. */
export function shareCard(c: CardInput): string {
  const rule = '─'.repeat(72);
  const pw: string[] = [];
  if (c.passwordInStore !== null) pw.push(`Password:     run  qshare show ${c.name}   (${c.passwordInStore})`);
  if (c.passwordFile)
    pw.push(`${pw.length ? '              also in' : 'Password:     in'} ${c.name}.password.txt beside this card`);
  if (pw.length === 0) pw.push('Password:     not kept anywhere (no keychain, and watch.writePasswordFile is off)');
  return [
    `qshare share "${c.name}"`,
    '',
    `Shared from:  ${c.entry}   (dropped into ${c.dropDir})`,
    `Size:         ${formatBytes(c.size)}, as the encrypted 7-Zip archive ${c.name}.7z`,
    `Made:         ${c.createdAt}`,
    `Torrent file: ${c.name}.torrent   (beside this card)`,
    `Magnet link:  ${c.magnet}`,
    '',
    ...pw,
    '              Send it separately (another app, a call, in person), never with the link.',
    '',
    `Message for your recipients ${rule.slice(28)}`,
    c.message,
    rule,
    '',
  ].join('\n');
}

/** Writes the .torrent copy and the card (again, on a resumed step: same content). */
export async function writeOutputs(dropDir: string, name: string, torrentFile: string, card: string): Promise<void> {
  const f = outboxFiles(dropDir, name);
  await ensurePrivateDir(f.dir);
  const tmp = partialName(f.torrent);
  try {
    await copyFile(torrentFile, tmp);
    await rename(tmp, f.torrent);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await writeFileAtomic(f.card, card, { mode: 0o600 });
}

/** The opt-in password file, mode 600. */
export async function writePasswordFile(dropDir: string, name: string, password: string): Promise<void> {
  const f = outboxFiles(dropDir, name);
  await ensurePrivateDir(f.dir);
  await writeFileAtomic(f.password, `${password}\n`, { mode: 0o600 });
}

export async function removeOutputs(
  dropDir: string,
  name: string,
  which: { password?: boolean; rest?: boolean } = { password: true, rest: true },
): Promise<void> {
  const f = outboxFiles(dropDir, name);
  if (which.password) await rm(f.password, { force: true });
  if (which.rest) {
    await rm(f.torrent, { force: true });
    await rm(f.card, { force: true });
  }
}
