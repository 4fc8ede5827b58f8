/**
 * The command side of relays: the links the share pipeline uses (each connection made once per run, through the
 * composition root), the TTY line, and how a hand-off's outcome is printed. add and seed share this.
 */
import { EXIT, isQshareError } from '../errors.js';
import type { QbitSession } from '../qbit/session.js';
import {
  handToRelays,
  recordRelays,
  relayStateOf,
  relayTarget,
  type RelayLink,
  type RelayReport,
} from '../share/relay.js';
import { formatBytes } from '../share/inspect.js';
import type { ShareRecord } from '../state/types.js';
import type { CommandContext } from './context.js';

export function relayLinks(ctx: CommandContext, names: readonly string[]): RelayLink[] {
  return names.map((n) => ({ ...relayTarget(n, ctx.config.relays[n]!), connect: () => ctx.deps.relay(n) }));
}

/** `Uploading to relay box: 42 % 11 MB/s` (or its state). Pure. */
export function relayLine(r: RelayReport): string {
  const pct = `${Math.floor(r.progress * 100)} %`;
  switch (r.state) {
    case 'holding':
      return `Relay ${r.name}: has the whole file, seeding`;
    case 'error':
      return `Relay ${r.name}: ERROR`;
    case 'stopped':
      return `Relay ${r.name}: stopped`;
    default:
      return `Uploading to relay ${r.name}: ${pct}${r.speed !== undefined ? ` ${formatBytes(r.speed)}/s` : ''}`;
  }
}

/** Redraws one line per relay on a TTY (stderr); nothing otherwise. */
function ttyRelayLines(ctx: CommandContext): { update(rs: readonly RelayReport[]): void; finish(): void } {
  const out = ctx.stderr;
  if (ctx.opts.json || out.isTTY !== true) return { update() {}, finish() {} };
  let drawn = 0;
  let last = 0;
  return {
    update(rs) {
      if (Date.now() - last < 200 && drawn === rs.length) return;
      last = Date.now();
      if (drawn > 0) out.write(`\x1b[${drawn}F`);
      const width = out.columns ?? 80;
      for (const r of rs) out.write(`\x1b[2K${relayLine(r).slice(0, width - 1)}\n`);
      drawn = rs.length;
    },
    finish() {
      drawn = 0;
    },
  };
}

/** The relays part of `--json`: `[{name, state, progress, peer, error}]`. Pure. */
export function relaysJson(reports: readonly RelayReport[]): Record<string, unknown>[] {
  return reports.map((r) => ({
    name: r.name,
    state: r.state,
    progress: r.progress,
    peer: r.peer,
    error: r.error ?? null,
    ...(r.hint ? { hint: r.hint } : {}),
  }));
}

/**
 * Hands a share that seeds here to its relays, drawing progress on a TTY, and says how it went. Returns the reports
 * and the exit status: ok, or relayFailed when any relay did not take it (home still seeds).
 */
export async function shareThroughRelays(
  ctx: CommandContext,
  local: QbitSession,
  share: ShareRecord,
  names: readonly string[],
  handoff: boolean,
): Promise<{ reports: RelayReport[]; handedOff: boolean; exit: number }> {
  const lines = ttyRelayLines(ctx);
  try {
    const { reports, handedOff } = await handToRelays(
      {
        config: ctx.config,
        log: ctx.log,
        store: ctx.deps.state,
        signal: ctx.signal,
        now: () => new Date(),
        onProgress: (rs) => lines.update(rs),
      },
      local,
      share,
      relayLinks(ctx, names),
      { handoff },
    );
    for (const r of reports) {
      if (r.state !== 'error') continue;
      ctx.log.error(r.error ?? `relay "${r.name}" failed`);
      if (r.hint) ctx.log.error(`  ${r.hint}`);
    }
    const failed = reports.some((r) => r.state === 'error');
    if (failed)
      ctx.log.error(
        `"${share.name}" still seeds here; the relays above did not take it. Fix them, then run: qshare seed ${share.name}${handoff ? ' --handoff' : ''}`,
      );
    return { reports, handedOff, exit: failed ? EXIT.relayFailed : EXIT.ok };
  } finally {
    lines.finish();
  }
}

/** The lines `add` and `seed` print about a share's relays. Pure. */
export function relaySummary(name: string, reports: readonly RelayReport[], handedOff: boolean): string {
  const lines = reports.map(
    (r) =>
      `  ${relayLine(r)}${r.state === 'uploading' ? ' (it goes on by itself; qshare ls shows it)' : ''}${r.error ? `: ${r.error.replace(/^relay "[^"]+": /, '')}` : ''}`,
  );
  if (handedOff)
    lines.push(
      `  Every relay has the whole file: this computer stopped seeding it (qshare seed ${name} starts it again).`,
    );
  return ['Relays:', ...lines].join('\n');
}

/**
 * What each share's relays say now (ls, show): one connection per relay, one look per share there; recorded on the
 * shares. A relay that does not answer keeps its last recorded state, with why it was not asked.
 */
export async function lookAtRelays(
  ctx: CommandContext,
  shares: readonly ShareRecord[],
): Promise<Map<string, RelayReport[]>> {
  const out = new Map<string, RelayReport[]>();
  const sessions = new Map<string, Promise<QbitSession | Error>>();
  const session = (name: string) => {
    let p = sessions.get(name);
    if (!p) {
      p = Object.hasOwn(ctx.config.relays, name)
        ? ctx.deps.relay(name).catch((e: unknown) => {
            if (!isQshareError(e) || e.code === 'INTERRUPTED') throw e;
            return e;
          })
        : Promise.resolve(new Error(`relay "${name}" is no longer paired`));
      sessions.set(name, p);
    }
    return p;
  };
  for (const share of shares) {
    const reports: RelayReport[] = [];
    for (const r of share.relays ?? []) {
      // stopped there, or never taken there (it failed before): nothing to ask
      if (r.state === 'stopped' || !r.added) {
        reports.push({ ...r });
        continue;
      }
      const s = await session(r.name);
      if (s instanceof Error) {
        reports.push({ ...r, error: `relay "${r.name}" did not answer: ${s.message}` });
        continue;
      }
      try {
        const t = await s.getTorrent(share.infoHash);
        const st = relayStateOf(t);
        reports.push({
          name: r.name,
          peer: r.peer,
          state: st.state,
          progress: st.progress,
          added: true,
          ...(t?.dlSpeed ? { speed: t.dlSpeed } : {}),
          ...(st.problem ? { error: `relay "${r.name}": ${st.problem}` } : {}),
        });
      } catch (e) {
        if (!isQshareError(e) || e.code === 'INTERRUPTED') throw e;
        reports.push({ ...r, error: `relay "${r.name}": ${e.message}` });
      }
    }
    if (reports.length === 0) continue;
    out.set(share.id, reports);
    const answered = reports.filter(
      (x, i) => x.state !== share.relays![i]!.state || x.progress !== share.relays![i]!.progress,
    );
    if (answered.length > 0)
      await recordRelays({ store: ctx.deps.state, now: () => new Date() }, share, answered, undefined);
  }
  return out;
}
