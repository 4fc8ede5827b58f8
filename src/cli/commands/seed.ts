import { EXIT, QshareError } from '../../errors.js';
import { seedShare } from '../../share/seed.js';
import { createStateStore } from '../../state/store.js';
import type { CommandContext } from '../context.js';
import { qbitConnector } from '../qbit-connect.js';

/** `qshare seed <name|id>`: hand an already made share to qBittorrent again (after it was down, or removed). */
export async function runSeed(ctx: CommandContext, ref: string): Promise<number> {
  const store = createStateStore(ctx.paths.stateFile);
  const share = await store.find(ref);
  if (!share) throw new QshareError('NOT_FOUND', `no share called "${ref}"`, { hint: 'give the name or id that `qshare add` printed' });
  const outcome = await seedShare(
    { config: ctx.config, log: ctx.log, store, qbit: qbitConnector(ctx), signal: ctx.signal, now: () => new Date() },
    share,
  );
  if (ctx.opts.json) {
    ctx.printJson({
      id: share.id,
      name: share.name,
      infoHash: share.infoHash,
      state: outcome.state,
      ...(outcome.error ? { error: { code: outcome.error.code, message: outcome.error.message, hint: outcome.error.hint ?? null } } : {}),
    });
  }
  if (!outcome.seeding) {
    if (!ctx.opts.json) {
      ctx.log.error(outcome.error!.message);
      if (outcome.error!.hint) ctx.log.error(outcome.error!.hint);
    }
    return EXIT.notSeeding;
  }
  ctx.print(`"${share.name}" is seeding in qBittorrent${outcome.alreadyPresent ? ' (it was already there)' : ''}.`);
  return EXIT.ok;
}
