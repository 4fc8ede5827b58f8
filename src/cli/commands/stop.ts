import { EXIT, QshareError } from '../../errors.js';
import { stopShare } from '../../share/stop.js';
import type { CommandContext } from '../context.js';

/** `qshare stop <name|id> [--delete]` */
export async function runStop(ctx: CommandContext, ref: string, deleteFiles: boolean): Promise<number> {
  const store = ctx.deps.state;
  const share = await store.find(ref);
  if (!share) throw new QshareError('NOT_FOUND', `no share called "${ref}"`, { hint: 'see them with qshare ls' });
  const r = await stopShare(
    {
      paths: ctx.paths,
      log: ctx.log,
      store,
      qbit: ctx.deps.qbit,
      secrets: ctx.deps.secrets,
      relay: ctx.deps.relay,
      now: () => new Date(),
    },
    share,
    deleteFiles,
  );
  if (ctx.opts.json) {
    ctx.printJson({
      id: share.id,
      name: share.name,
      removedFromQbittorrent: r.removedFromQbit,
      deleted: r.deleted,
      forgotten: r.forgotten,
      source: share.source,
      relays: r.relays.map((x) => ({ name: x.name, removed: x.removed, error: x.error ?? null })),
    });
    return r.relays.some((x) => x.error) ? EXIT.relayFailed : EXIT.ok;
  }
  const lines = [
    r.removedFromQbit
      ? `"${share.name}" is no longer in qBittorrent.`
      : `qBittorrent did not have "${share.name}" any more.`,
  ];
  if (deleteFiles) {
    for (const f of r.deleted) lines.push(`Deleted ${f}`);
    lines.push(`qshare forgot the share. Your folder ${share.source} was not touched.`);
  } else {
    lines.push(
      `Its files are kept; seed it again with: qshare seed ${share.name}   (or delete them with: qshare stop ${share.name} --delete)`,
    );
  }
  for (const x of r.relays)
    lines.push(
      x.error
        ? `Relay ${x.name}: NOT stopped (${x.error}).`
        : `Relay ${x.name}: ${x.removed ? (deleteFiles ? 'removed, with its copy of the files' : 'removed (its copy of the files is kept there)') : 'did not have it any more'}.`,
    );
  ctx.print(lines.join('\n'));
  return r.relays.some((x) => x.error) ? EXIT.relayFailed : EXIT.ok;
}
