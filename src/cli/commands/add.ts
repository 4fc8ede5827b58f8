import { EXIT, QshareError } from '../../errors.js';
import { addShare, type AddResult } from '../../share/add.js';
import { applyShareLimits, recordLimits } from '../../share/limits.js';
import { untilAborted } from '../../share/seed.js';
import type { QbitSession } from '../../qbit/session.js';
import { checkSourceTop } from '../../share/inspect.js';
import type { CommandContext } from '../context.js';
import { promptHidden, readSecretFromStdin } from '../prompt.js';
import { chooseRelays, recordRelays } from '../../share/relay.js';
import { relaySummary, relaysJson, shareThroughRelays } from '../relays.js';
import { shareJson, shareSummary } from '../render.js';

export interface AddArgs {
  path: string;
  name?: string;
  level?: number | 'auto';
  tracker?: string[];
  private: boolean;
  encrypt: boolean;
  seed: boolean;
  passwordStdin: boolean;
  askPassword: boolean;
  /** --recipients N: stop seeding once N peers have the whole file (qBittorrent ratio limit N as the safety net) */
  recipients?: number;
  /** --expire, in minutes of seeding */
  expireMinutes?: number;
  /** --relay NAME…: also hand the share to these relays (default: config defaultRelays) */
  relay?: string[];
  /** --handoff: wait until every relay has the whole file, then stop seeding here */
  handoff?: boolean;
}

export async function runAdd(ctx: CommandContext, args: AddArgs, version: string): Promise<number> {
  const relays = chooseRelays(ctx.config, args.relay);
  if (args.handoff && relays.length === 0)
    throw new QshareError(
      'USAGE',
      '--handoff hands the share to relays, and none is named: add --relay NAME (or set defaultRelays in the config)',
    );
  if (relays.length > 0 && !args.seed)
    throw new QshareError(
      'USAGE',
      '--relay needs this computer to seed first (relays download from it): drop --no-seed',
    );
  const password = await archivePassword(ctx, args);
  // the path first: a wrong one is said before any login or password prompt (the full check walks it later)
  await checkSourceTop(args.path, ctx.paths.dataDir);
  const connect = ctx.deps.qbit;
  if (args.seed) {
    // Connect before the long part, so a password prompt or a wrong URL shows up now, not after archiving.
    // Ctrl-C does not wait for a qBittorrent that does not answer (the request ends by its timeout).
    await untilAborted(connect(), ctx.signal, 'interrupted while connecting to qBittorrent; nothing was made').catch(
      (e) => {
        if (e instanceof QshareError && e.code === 'QBIT_UNREACHABLE') {
          ctx.log.warn(`${e.message}. qshare will make the archive anyway and try again at the end.`);
          return;
        }
        throw e;
      },
    );
  }
  const result: AddResult = await addShare(
    {
      config: ctx.config,
      paths: ctx.paths,
      log: ctx.log,
      // Ctrl-C while waiting for another qshare's lock on the state file stops the wait (and removes what was made)
      store: ctx.deps.state,
      sevenZip: ctx.deps.sevenZip,
      secrets: ctx.deps.secrets,
      qbit: connect,
      progress: ctx.progress,
      signal: ctx.signal,
      now: () => new Date(),
      createdBy: `qshare ${version}`,
    },
    {
      source: args.path,
      name: args.name,
      password,
      level: args.level ?? ctx.config.level,
      trackers: args.tracker && args.tracker.length > 0 ? args.tracker : ctx.config.trackers,
      private: args.private,
      encrypt: args.encrypt,
      seed: args.seed,
      ...(relays.length > 0 ? { relayPeers: relays.map((n) => ctx.config.relays[n]!.peer) } : {}),
    },
  );
  for (const s of result.skipped) ctx.log.warn(`left out of the torrent (not a regular file): ${s}`);
  await limitShare(ctx, result, connect, args);
  let relayed: Awaited<ReturnType<typeof shareThroughRelays>> | undefined;
  if (relays.length > 0 && result.seed?.seeding) {
    if (!ctx.opts.json) ctx.print(shareSummary(result));
    relayed = await shareThroughRelays(ctx, await connect(), result.share, relays, args.handoff === true);
    if (relayed.handedOff) result.share.handedOffAt ??= new Date().toISOString();
  } else if (relays.length > 0) {
    ctx.log.warn(
      `not handed to ${relays.length === 1 ? 'its relay' : 'its relays'} yet: relays download from this computer, which does not seed "${result.share.name}" yet; \`qshare seed ${result.share.name} --handoff\` does both`,
    );
    await recordRelays(
      { store: ctx.deps.state, now: () => new Date() },
      result.share,
      relays.map((n) => ({
        name: n,
        peer: ctx.config.relays[n]!.peer,
        state: 'error',
        progress: 0,
        error: 'not handed over yet: this computer was not seeding',
      })),
      undefined,
    );
  }
  const kept = result.passwordKept;
  if (ctx.opts.json) {
    ctx.printJson({
      ...shareJson(result),
      ...(kept ? { passwordKept: kept.kept, passwordStore: kept.where } : {}),
      ...(relays.length > 0
        ? { relays: relaysJson(relayed?.reports ?? []), handedOff: relayed?.handedOff ?? false }
        : {}),
    });
  } else if (relayed) ctx.print(relaySummary(result.share.name, relayed.reports, relayed.handedOff));
  else ctx.print(shareSummary(result));
  if (result.seed && !result.seed.seeding) {
    const err = result.seed.error!;
    ctx.log.error(err.message);
    if (err.hint) ctx.log.error(err.hint);
    ctx.log.error(
      `The archive and the .torrent are kept. When qBittorrent is fixed, run: qshare seed ${result.share.name}`,
    );
    return EXIT.notSeeding;
  }
  return relayed?.exit ?? EXIT.ok;
}

async function archivePassword(ctx: CommandContext, args: AddArgs): Promise<string | undefined> {
  if (args.passwordStdin && args.askPassword)
    throw new QshareError('USAGE', 'use either --password-stdin or --ask-password, not both');
  if (!args.encrypt && (args.passwordStdin || args.askPassword))
    throw new QshareError('USAGE', '--no-encrypt makes no archive, so it takes no password');
  if (args.passwordStdin) return checkPassword(await readSecretFromStdin(ctx.stdin, '--password-stdin'));
  if (args.askPassword) {
    if (!ctx.interactive)
      throw new QshareError('USAGE', '--ask-password needs a terminal; use --password-stdin instead');
    const a = await promptHidden('Archive password: ', ctx.stdin, ctx.stderr);
    const b = await promptHidden('Repeat it: ', ctx.stdin, ctx.stderr);
    if (a !== b) throw new QshareError('USAGE', 'the two passwords differ; nothing was done');
    return checkPassword(a);
  }
  return undefined;
}

function checkPassword(p: string): string {
  if (p.length < 8)
    throw new QshareError(
      'USAGE',
      'that archive password is too short: use at least 8 characters (or let qshare generate one)',
    );
  if (/[\r\n\0]/.test(p)) throw new QshareError('USAGE', 'the archive password cannot contain line breaks');
  return p;
}

/** --recipients / --expire: recorded on the share, and set as qBittorrent share limits when it seeds. */
async function limitShare(
  ctx: CommandContext,
  result: AddResult,
  connect: () => Promise<QbitSession>,
  args: AddArgs,
): Promise<void> {
  const limits = {
    ...(args.recipients !== undefined ? { recipients: args.recipients } : {}),
    ...(args.expireMinutes !== undefined ? { expireMinutes: args.expireMinutes } : {}),
  };
  if (Object.keys(limits).length === 0) return;
  const share = await recordLimits(ctx.deps.state, result.share, limits, () => new Date());
  Object.assign(result.share, limits);
  if (!result.seed?.seeding) return;
  const err = await applyShareLimits(await connect(), share, ctx.log);
  if (err)
    ctx.log.warn(
      `qBittorrent did not take the share limits (${err.message}); qshare still stops seeding when it sees the recipients done (qshare ls, qshare seed --until-done)`,
    );
}
