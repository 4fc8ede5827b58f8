import { EXIT, QshareError } from '../../errors.js';
import { getShare, type GetResult } from '../../share/get.js';
import { formatBytes } from '../../share/inspect.js';
import { fetchTorrentFile } from '../../torrent/fetch.js';
import { chooseRelays } from '../../share/relay.js';
import type { CommandContext } from '../context.js';
import { ttyDownloadProgress } from '../download-progress.js';
import { promptHidden, readSecretFromStdin } from '../prompt.js';

export interface GetArgs {
  source: string;
  to?: string;
  passwordStdin: boolean;
  force: boolean;
  seed: boolean;
  /** --relay NAME: fetch it through that relay */
  relay?: string;
}

/** How many passwords a person may type at the prompt before qshare gives up (the download is kept). */
const MAX_TRIES = 5;

export async function runGet(ctx: CommandContext, args: GetArgs): Promise<number> {
  const relayName = args.relay === undefined ? undefined : chooseRelays(ctx.config, [args.relay])[0]!;
  // read --password-stdin now: a missing pipe should fail before a long download, not after
  const fromStdin = args.passwordStdin ? await readSecretFromStdin(ctx.stdin, '--password-stdin') : undefined;
  const live = !ctx.opts.json && ctx.stderr.isTTY === true ? ttyDownloadProgress(ctx.stderr) : undefined;
  let archiveShown = '';
  const askPassword = async (attempt: number): Promise<string> => {
    live?.finish();
    const kept = 'the download is kept: run the same qshare get again to try another password';
    if (fromStdin !== undefined) {
      if (attempt === 0) return fromStdin;
      throw new QshareError('WRONG_PASSWORD', 'wrong password (from --password-stdin), or the archive is damaged', {
        hint: kept,
      });
    }
    if (!ctx.interactive) {
      throw new QshareError(
        'INPUT',
        `the download is complete${archiveShown}, but it is an encrypted archive and there is no terminal to ask its password`,
        {
          hint: 'run the same qshare get again with --password-stdin (the password on standard input), or in a terminal',
        },
      );
    }
    if (attempt > 0)
      ctx.stderr.write('Wrong password (it is case-sensitive). Try again, or press Enter on an empty line to stop.\n');
    if (attempt >= MAX_TRIES) throw new QshareError('WRONG_PASSWORD', `${MAX_TRIES} wrong passwords`, { hint: kept });
    const p = await promptHidden('Password for the archive (the sender sent it separately): ', ctx.stdin, ctx.stderr);
    if (p === '') throw new QshareError('WRONG_PASSWORD', 'no password given', { hint: kept });
    return p;
  };
  let lastLog = 0;
  const result = await getShare(
    {
      config: ctx.config,
      paths: ctx.paths,
      log: ctx.log,
      qbit: ctx.deps.qbit,
      sevenZip: ctx.deps.sevenZip,
      fetchTorrent: (url) =>
        fetchTorrentFile(url, { timeoutMs: ctx.config.qbittorrent.timeoutSeconds * 1000 * 3, signal: ctx.signal }),
      askPassword,
      progress: ctx.progress,
      onDownload: (s) => {
        archiveShown = ` (${s.name})`;
        if (live) return live.update(s);
        // no TTY: a debug line every 30 s is enough
        if (Date.now() - lastLog > 30_000) {
          lastLog = Date.now();
          ctx.log.debug('downloading', { name: s.name, state: s.state, progress: s.progress, peers: s.peers });
        }
      },
      signal: ctx.signal,
      cwd: process.cwd(),
      ...(relayName !== undefined
        ? {
            relay: {
              name: relayName,
              peer: ctx.config.relays[relayName]!.peer,
              connect: () => ctx.deps.relay(relayName),
            },
          }
        : {}),
    },
    { source: args.source, to: args.to, force: args.force, seed: args.seed },
  ).finally(() => live?.finish());
  if (ctx.opts.json) ctx.printJson(getJson(result));
  else ctx.print(getSummary(result));
  return EXIT.ok;
}

export function getJson(r: GetResult): Record<string, unknown> {
  return {
    infoHash: r.infoHash,
    name: r.name,
    size: r.size,
    resumed: r.resumed,
    downloaded: r.content,
    archive: r.archive,
    unpackedTo: r.unpacked?.target ?? null,
    files: r.unpacked?.files ?? null,
    topLevel: r.unpacked?.topLevel ?? null,
    leftOut: r.unpacked?.removed ?? [],
    seeding: r.seeding,
  };
}

export function getSummary(r: GetResult): string {
  const lines = [
    `Downloaded "${r.name}" (${formatBytes(r.size)})${r.resumed ? ', continuing an earlier qshare get' : ''}.`,
  ];
  if (r.unpacked) {
    const u = r.unpacked;
    lines.push(`Unpacked ${u.files} ${u.files === 1 ? 'file' : 'files'} (${formatBytes(u.bytes)}) into ${u.target}`);
    if (u.topLevel.length > 0) lines.push(`  ${u.topLevel.map((t) => `${t}`).join('\n  ')}`);
    if (u.removed.length > 0)
      lines.push(
        `Left out ${u.removed.length} ${u.removed.length === 1 ? 'link' : 'links'} pointing outside the folder (see the warnings above).`,
      );
    lines.push(`The encrypted archive stays at ${r.archive}.`);
  } else {
    lines.push(`It is not a qshare archive, so there is nothing to unpack: the files are in ${r.content}`);
  }
  lines.push(
    r.seeding
      ? 'qBittorrent keeps seeding it, so the others can get it from you too (remove it there when you like, or use --no-seed next time).'
      : 'Removed from qBittorrent (--no-seed); the files are kept.',
  );
  return lines.join('\n');
}
