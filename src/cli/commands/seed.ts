import { EXIT, QshareError } from '../../errors.js';
import { formatBytes } from '../../share/inspect.js';
import { applyShareLimits } from '../../share/limits.js';
import type { ShareStatus } from '../../share/observe.js';
import { seedShare } from '../../share/seed.js';
import { endOf, forgetTarget, seedUntilDone } from '../../share/until-done.js';
import type { ShareRecord } from '../../state/types.js';
import type { CommandContext } from '../context.js';
import { statusJson } from '../status-json.js';
import { chooseRelays, relaysToFinish } from '../../share/relay.js';
import { relaySummary, relaysJson, shareThroughRelays } from '../relays.js';

export interface SeedArgs {
  /** stay in the foreground, watching peers, until the --recipients target or a share limit ends the seeding */
  untilDone: boolean;
  /** how often to look, in ms (default: 250 ms while peers are connected, backing off to 5 s when idle) */
  pollMs?: number;
  /** finish handing the share to its relays: wait until each has the whole file, then stop seeding here */
  handoff?: boolean;
}

/** `qshare seed <name|id> [--until-done]`: hand an already made share to qBittorrent again (after it was down, or removed). */
export async function runSeed(
  ctx: CommandContext,
  ref: string,
  args: SeedArgs = { untilDone: false },
): Promise<number> {
  const store = ctx.deps.state;
  let share = await store.find(ref);
  if (!share)
    throw new QshareError('NOT_FOUND', `no share called "${ref}"`, {
      hint: 'give the name or id that `qshare add` printed',
    });
  if (args.untilDone && share.recipients === undefined && share.expireMinutes === undefined) {
    throw new QshareError(
      'USAGE',
      `"${share.name}" has no end: --until-done needs a share made with --recipients N or --expire`,
      { hint: 'without them, seeding goes on until you run qshare stop' },
    );
  }
  const relays = (share.relays ?? []).map((r) => r.name);
  if (args.handoff) {
    if (relays.length === 0)
      throw new QshareError(
        'USAGE',
        `"${share.name}" has no relays: --handoff finishes a share made with add --relay NAME`,
      );
    chooseRelays(ctx.config, relays); // each still paired
    if (args.untilDone) throw new QshareError('USAGE', 'use either --handoff or --until-done, not both');
    if (relaysToFinish(share, true, ctx.config.relays).length === 0)
      throw new QshareError(
        'USAGE',
        `"${share.name}" was stopped on all its relays (qshare stop): there is nothing to hand off`,
      );
  }
  if (share.doneAt && !args.untilDone) {
    // seeding a finished share again on purpose: its recipients target no longer applies
    share = await forgetTarget(store, share, () => new Date());
    ctx.log.info(`"${share.name}" had reached its --recipients target; seeding it again without one`);
  }
  const connect = ctx.deps.qbit;
  // watching a handed-off share counts what its relays see; it does not start seeding here again
  const watchOnly = share.doneAt !== undefined || (share.handedOffAt !== undefined && args.untilDone);
  const outcome = watchOnly
    ? { seeding: true, state: 'seeding' as const, alreadyPresent: true }
    : await seedShare(
        { config: ctx.config, log: ctx.log, store, qbit: connect, signal: ctx.signal, now: () => new Date() },
        share,
      );
  if (outcome.seeding && !watchOnly) {
    const err = await applyShareLimits(await connect(), share, ctx.log);
    if (err) ctx.log.warn(`qBittorrent did not take the share limits (${err.message})`);
  }
  if (!outcome.seeding) {
    if (ctx.opts.json) {
      ctx.printJson({
        id: share.id,
        name: share.name,
        infoHash: share.infoHash,
        state: outcome.state,
        ...('error' in outcome && outcome.error
          ? { error: { code: outcome.error.code, message: outcome.error.message, hint: outcome.error.hint ?? null } }
          : {}),
      });
    } else if ('error' in outcome && outcome.error) {
      ctx.log.error(outcome.error.message);
      if (outcome.error.hint) ctx.log.error(outcome.error.hint);
    }
    return EXIT.notSeeding;
  }
  if (share.handedOffAt && !args.untilDone) share = await seedingAgain(ctx, share);
  const toRelays = args.untilDone ? [] : relaysToFinish(share, args.handoff === true, ctx.config.relays);
  if (toRelays.length > 0) {
    if (!ctx.opts.json)
      ctx.print(`"${share.name}" is seeding in qBittorrent${outcome.alreadyPresent ? ' (it was already there)' : ''}.`);
    const r = await shareThroughRelays(ctx, await connect(), share, toRelays, args.handoff === true);
    if (ctx.opts.json)
      ctx.printJson({
        id: share.id,
        name: share.name,
        infoHash: share.infoHash,
        state: r.handedOff ? 'handed-off' : outcome.state,
        relays: relaysJson(r.reports),
        handedOff: r.handedOff,
      });
    else ctx.print(relaySummary(share.name, r.reports, r.handedOff));
    return r.exit;
  }
  if (!args.untilDone) {
    if (ctx.opts.json)
      ctx.printJson({ id: share.id, name: share.name, infoHash: share.infoHash, state: outcome.state });
    ctx.print(`"${share.name}" is seeding in qBittorrent${outcome.alreadyPresent ? ' (it was already there)' : ''}.`);
    return EXIT.ok;
  }
  return untilDone(ctx, await connect(), share, args.pollMs);
}

/** Home seeds a handed-off share again: the record forgets the hand-off. */
async function seedingAgain(ctx: CommandContext, share: ShareRecord): Promise<ShareRecord> {
  await ctx.deps.state.update((s) => {
    const rec = s.shares.find((r) => r.id === share.id);
    if (rec) delete rec.handedOffAt;
  });
  const { handedOffAt: _, ...rest } = share;
  return rest;
}

/** Renders `seed --until-done`: a live line on a TTY, then the end (share/until-done.ts decides). */
async function untilDone(
  ctx: CommandContext,
  session: Awaited<ReturnType<CommandContext['deps']['qbit']>>,
  share: ShareRecord,
  pollMs: number | undefined,
): Promise<number> {
  const tty = !ctx.opts.json && ctx.stderr.isTTY === true;
  if (!ctx.opts.json)
    ctx.print(`Seeding "${share.name}" until ${target(share)}. Ctrl-C stops watching (qBittorrent keeps seeding).`);
  const s = await seedUntilDone(
    {
      store: ctx.deps.state,
      log: ctx.log,
      session,
      signal: ctx.signal,
      relay: ctx.deps.relay,
      ...(pollMs !== undefined ? { pollMs } : {}),
      ...(tty ? { onLook: (x: ShareStatus) => ctx.stderr.write(`\r\x1b[2K${statusLine(x)}`) } : {}),
    },
    share,
  );
  const end = ending(s) as { code: number; text: string };
  if (tty) ctx.stderr.write('\n');
  if (ctx.opts.json) ctx.printJson(statusJson(s));
  else ctx.print(end.text);
  return end.code;
}

function target(s: ShareRecord): string {
  const parts: string[] = [];
  if (s.recipients !== undefined)
    parts.push(`${s.recipients} ${s.recipients === 1 ? 'peer has' : 'peers have'} the whole file`);
  if (s.expireMinutes !== undefined) parts.push(`${Math.round((s.expireMinutes / 60) * 10) / 10} h of seeding`);
  return parts.join(', or ');
}

/** One status line for the foreground watch. Pure. */
export function statusLine(s: ShareStatus): string {
  const have =
    s.share.recipients !== undefined ? `${s.completedPeers}/${s.share.recipients}` : String(s.completedPeers);
  const up = s.torrent ? `uploaded ${formatBytes(s.torrent.uploaded)}, ratio ${s.torrent.ratio.toFixed(2)}` : '';
  return `${s.state}: ${have} have it, ${s.peersConnected} connected${up ? `, ${up}` : ''}`;
}

/** When the foreground watch ends, and with what (its words and exit status). Pure. */
export function ending(s: ShareStatus): { code: number; text: string } | undefined {
  switch (endOf(s)) {
    case 'done':
      return {
        code: EXIT.ok,
        text: `Done: ${s.completedPeers} ${s.completedPeers === 1 ? 'peer has' : 'peers have'} the whole file; seeding of "${s.share.name}" stopped. (Peers seen, not people.)`,
      };
    case 'stopped':
      return {
        code: EXIT.ok,
        text: `qBittorrent stopped seeding "${s.share.name}" (its share limit was reached, or someone stopped it); ${s.completedPeers} ${s.completedPeers === 1 ? 'peer was' : 'peers were'} seen with the whole file.`,
      };
    case 'lost':
      return {
        code: EXIT.failure,
        text: `"${s.share.name}" is ${s.state} in qBittorrent; stopped watching. See qshare ls.`,
      };
    default:
      return undefined;
  }
}
