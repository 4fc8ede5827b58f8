import { QshareError } from '../../errors.js';
import { ensureManaged, managedStatus, stopManaged } from '../../managed/daemon.js';
import type { CommandContext } from '../context.js';
import { managedDeps } from '../qbit-connect.js';

/** `qshare daemon start|stop|status`: qshare's own qbittorrent-nox (see src/managed/daemon.ts). */
export async function runDaemon(ctx: CommandContext, action: string): Promise<number> {
  const deps = managedDeps(ctx);
  switch (action) {
    case 'start': {
      const m = await ensureManaged(deps);
      const where = (await deps.secrets()).description;
      if (ctx.opts.json)
        ctx.printJson({
          running: true,
          started: m.started,
          url: m.url,
          pid: m.pid,
          username: m.username,
          version: m.noxVersion,
          passwordStore: where,
        });
      else
        ctx.print(
          `${m.started ? 'Started' : 'Already running:'} qshare's qBittorrent (${m.noxVersion}) at ${m.url}, pid ${m.pid}.\n` +
            `Web UI user "${m.username}"; its password is kept in ${where}. It keeps seeding until \`qshare daemon stop\`.`,
        );
      return 0;
    }
    case 'stop': {
      const r = await stopManaged(deps);
      if (ctx.opts.json) ctx.printJson({ running: false, stopped: r === 'stopped' });
      else
        ctx.print(
          r === 'stopped'
            ? "Stopped qshare's qBittorrent. Its shares stop seeding until it runs again."
            : "qshare's qBittorrent is not running.",
        );
      return 0;
    }
    case 'status': {
      const s = await managedStatus(deps);
      if (ctx.opts.json) ctx.printJson(s);
      else if (s.running)
        ctx.print(
          `qshare's qBittorrent is running at ${s.url} (pid ${s.pid}${s.noxVersion ? `, ${s.noxVersion}` : ''}); profile ${s.profileDir}.`,
        );
      else
        ctx.print(
          `qshare's qBittorrent is not running${s.installed ? '' : ' (qbittorrent-nox is not installed)'}; profile ${s.profileDir}.`,
        );
      return 0;
    }
    default:
      throw new QshareError('USAGE', `unknown daemon action "${action}": use start, stop or status`);
  }
}
