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
      now: () => new Date(),
    },
    share,
    deleteFiles,
  );
  if (ctx.opts.json) {
    ctx.printJson({ id: share.id, name: share.name, removedFromQbittorrent: r.removedFromQbit, deleted: r.deleted, forgotten: r.forgotten, source: share.source });
    return EXIT.ok;
  }
  const lines = [r.removedFromQbit ? `"${share.name}" is no longer in qBittorrent.` : `qBittorrent did not have "${share.name}" any more.`];
  if (deleteFiles) {
    for (const f of r.deleted) lines.push(`Deleted ${f}`);
    lines.push(`qshare forgot the share. Your folder ${share.source} was not touched.`);
  } else {
    lines.push(`Its files are kept; seed it again with: qshare seed ${share.name}   (or delete them with: qshare stop ${share.name} --delete)`);
  }
  ctx.print(lines.join('\n'));
  return EXIT.ok;
}
