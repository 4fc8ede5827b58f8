import { connectionCheck, doctorExitCode, preferenceChecks, type Check, type PrefFix } from '../../doctor/checks.js';
import { runDoctor } from '../../doctor/run.js';
import type { CommandContext } from '../context.js';
import { promptLine } from '../prompt.js';
import { qbitKeyFor } from '../qbit-connect.js';

export interface DoctorArgs {
  fix: boolean;
  yes: boolean;
}

const LABEL: Record<Check['status'], string> = { ok: 'ok  ', info: 'info', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

/**
 * `qshare doctor [--fix] [--yes]`: one report of everything that would stop a share from reaching friends. `--fix`
 * changes only qBittorrent preferences, each one confirmed (all of them with --yes), then checks again.
 * Exit status 1 when something blocks sharing.
 */
export async function runDoctorCommand(ctx: CommandContext, args: DoctorArgs): Promise<number> {
  const secrets = ctx.deps.secrets;
  const q = ctx.config.qbittorrent;
  const report = await runDoctor({
    config: ctx.config,
    paths: ctx.paths,
    log: ctx.log,
    connect: ctx.deps.qbit,
    secrets,
    sevenZip: ctx.deps.sevenZip,
    credentialSource: async () => {
      if (ctx.env.QSHARE_QBIT_PASSWORD) return 'QSHARE_QBIT_PASSWORD';
      const kept = await (await secrets()).find(qbitKeyFor(q.url, q.username)).catch(() => undefined);
      return kept ? `${kept.description}, kept by qshare login` : 'the prompt';
    },
    relays: Object.entries(ctx.config.relays).map(([name, r]) => ({
      name,
      url: r.url,
      peer: r.peer,
      connect: () => ctx.deps.relay(name),
    })),
    signal: ctx.signal,
  });
  let checks = report.checks;

  const fixed: string[] = [];
  const declined: string[] = [];
  if (args.fix) {
    const fixes = checks.filter((c): c is Check & { prefFix: PrefFix } => c.prefFix !== undefined && c.status !== 'ok');
    if (fixes.length === 0) ctx.log.info('--fix: no qBittorrent setting to change');
    const chosen: Record<string, unknown> = {};
    for (const c of fixes) {
      let yes = args.yes;
      if (!yes && ctx.interactive && !ctx.opts.json) {
        const a = await promptLine(
          `${c.prefFix.what[0]!.toUpperCase()}${c.prefFix.what.slice(1)} in qBittorrent? (y/n)`,
          'n',
          ctx.stdin,
          ctx.stderr,
        );
        yes = /^y(es)?$/i.test(a);
      }
      if (yes) {
        Object.assign(chosen, c.prefFix.prefs);
        fixed.push(c.prefFix.what);
      } else declined.push(c.prefFix.what);
    }
    if (declined.length > 0 && !ctx.interactive && !args.yes)
      ctx.log.warn(`--fix changed nothing without a terminal to confirm on: add --yes to ${declined.join(', ')}`);
    if (Object.keys(chosen).length > 0 && report.session) {
      await report.session.setPreferences(chosen);
      // check again what qBittorrent now says, rather than assuming
      const prefs = await report.session.getPreferences();
      const state = await report.session.serverState();
      const again = new Map(
        [
          ...preferenceChecks(prefs, ctx.config.trackers),
          connectionCheck(typeof state.connection_status === 'string' ? state.connection_status : undefined, prefs),
        ].map((c) => [c.id, c]),
      );
      checks = checks.map((c) => again.get(c.id) ?? c);
    }
  }

  const code = doctorExitCode(checks);
  if (ctx.opts.json) {
    ctx.printJson({
      ok: code === 0,
      checks: checks.map((c) => ({
        id: c.id,
        title: c.title,
        status: c.status,
        detail: c.detail,
        fix: c.fix ?? null,
        fixable: c.prefFix !== undefined && c.status !== 'ok',
      })),
      fixed,
      declined,
    });
    return code;
  }
  const width = Math.max(...checks.map((c) => c.title.length));
  const lines = checks.flatMap((c) => [
    `  ${LABEL[c.status]}  ${c.title.padEnd(width)}  ${c.detail}`,
    ...(c.fix && c.status !== 'ok' ? [`        ${' '.repeat(width)}  → ${c.fix}`] : []),
  ]);
  const count = (s: Check['status']) => checks.filter((c) => c.status === s).length;
  const fails = count('fail');
  const warns = count('warn');
  const summary =
    fails > 0
      ? `${fails} problem${fails === 1 ? '' : 's'} block${fails === 1 ? 's' : ''} sharing${warns ? `, ${warns} warning${warns === 1 ? '' : 's'}` : ''}.`
      : warns > 0
        ? `Nothing blocks sharing; ${warns} warning${warns === 1 ? '' : 's'}.`
        : 'Everything needed for sharing is in place.';
  const fixable = checks.filter((c) => c.prefFix && c.status !== 'ok').length;
  ctx.print(
    [
      'qshare doctor',
      ...lines,
      '',
      ...(fixed.length ? [`Changed in qBittorrent: ${fixed.join('; ')}.`] : []),
      summary +
        (!args.fix && fixable
          ? ` \`qshare doctor --fix\` can change ${fixable} qBittorrent setting${fixable === 1 ? '' : 's'} for you.`
          : ''),
    ].join('\n'),
  );
  return code;
}
