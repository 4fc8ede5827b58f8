import { checkPeerAddress, checkRelayName, checkWebUiUrl, type RelayConfig } from '../../config/schema.js';
import { updateConfigFile } from '../../config/write.js';
import { EXIT, isQshareError, QshareError } from '../../errors.js';
import { connectQbit } from '../../qbit/connect.js';
import type { QbitSession } from '../../qbit/session.js';
import { formatApiVersion } from '../../qbit/payload.js';
import { parseQbitUrl } from '../../qbit/url.js';
import { formatBytes } from '../../share/inspect.js';
import { defaultPeer, relayPeerProblem } from '../../share/relay.js';
import type { CommandContext } from '../context.js';
import { promptHidden, promptLine, readSecretFromStdin } from '../prompt.js';
import { qbitKeyFor } from '../qbit-connect.js';
import { keepWebUiPassword, type LoginArgs } from './login.js';

export interface RelayLoginArgs extends LoginArgs {
  name: string;
  peer?: string;
  savePath?: string;
  remove: boolean;
}

/**
 * `qshare login --relay NAME --url URL`: pairs a relay, the user's own always-on qBittorrent. One login, as `qshare
 * login` does; then its BitTorrent address (given, or the URL's host and the relay's listening port), saved as
 * `relays.NAME` in the config, and the password in the secret store. Nothing is saved when anything fails.
 */
export async function runRelayLogin(ctx: CommandContext, args: RelayLoginArgs): Promise<number> {
  const nameProblem = checkRelayName(args.name);
  if (nameProblem) throw new QshareError('USAGE', `--relay ${nameProblem}`);
  if (args.remove) return removeRelay(ctx, args.name);
  const before: Partial<RelayConfig> = ctx.config.relays[args.name] ?? {};
  const ask = ctx.interactive && !ctx.opts.json;
  const url = (
    args.url ??
    before.url ??
    (ask ? await promptLine(`Web UI address of relay "${args.name}"`, 'https://', ctx.stdin, ctx.stderr) : undefined)
  )?.trim();
  if (url === undefined)
    throw new QshareError(
      'USAGE',
      `--url is needed to pair relay "${args.name}": its qBittorrent Web UI address, like https://seedbox.example:8080`,
    );
  const urlProblem = checkWebUiUrl(url);
  if (urlProblem) throw new QshareError('USAGE', `--url ${urlProblem}`);
  if (args.peer !== undefined) {
    const p = checkPeerAddress(args.peer) ?? relayPeerProblem(args.peer);
    if (p) throw new QshareError('USAGE', `--peer ${p}`);
  }
  const username = args.username ?? before.username ?? 'admin';
  const display = parseQbitUrl(url).display;

  let password: string | undefined;
  if (args.passwordStdin) password = await readSecretFromStdin(ctx.stdin, '--password-stdin');
  else if (ask) {
    password = await promptHidden(
      `Password or API key for ${username} at ${display} (empty if it needs none): `,
      ctx.stdin,
      ctx.stderr,
    );
    if (password === '') password = undefined;
  }

  const caFile = args.caFile ?? before.caFile ?? null;
  const insecure = args.insecure ?? before.insecureTls ?? false;
  let session: QbitSession;
  let prefs: Record<string, unknown>;
  try {
    session = await connectQbit({
      url,
      username,
      password,
      timeoutMs: ctx.config.qbittorrent.timeoutSeconds * 1000,
      log: ctx.log.child(`relay ${args.name}`),
      tls: { caFile, insecure },
    });
    prefs = await session.getPreferences();
  } catch (e) {
    if (isQshareError(e) && e.code === 'QBIT_AUTH' && password === undefined) {
      throw new QshareError(
        'QBIT_AUTH',
        `relay "${args.name}" at ${display} needs the Web UI password for ${username}; nothing was saved`,
        {
          hint: 'pipe it in with --password-stdin (e.g. from a password manager), or run `qshare login --relay NAME` in a terminal to type it',
        },
      );
    }
    if (isQshareError(e))
      throw new QshareError(e.code, `relay "${args.name}": ${e.message}. Nothing was saved`, {
        hint: e.hint,
        cause: e,
        exitCode: e.exitCode,
      });
    throw e;
  }

  // the relay must accept peers from elsewhere: bound to loopback only, it is no relay whatever --peer says
  const found = defaultPeer(url, prefs);
  let peer: string;
  let peerFrom: string;
  if (args.peer !== undefined && !('problem' in found && /listens for peers on/.test(found.problem))) {
    peer = args.peer;
    peerFrom = 'as given with --peer';
  } else if ('peer' in found) {
    peer = found.peer;
    peerFrom = "the Web UI's host and the relay's listening port; give --peer HOST:PORT if peers reach it elsewhere";
  } else {
    throw new QshareError('RELAY', `relay "${args.name}" cannot be used: ${found.problem}. Nothing was saved`);
  }

  const entry: RelayConfig = {
    url,
    username,
    peer,
    caFile,
    insecureTls: insecure,
    savePath: args.savePath ?? before.savePath ?? null,
  };
  await updateConfigFile(ctx.paths.configFile, (raw) => {
    const relays = (
      typeof raw.relays === 'object' && raw.relays !== null && !Array.isArray(raw.relays) ? raw.relays : {}
    ) as Record<string, unknown>;
    relays[args.name] = entry;
    raw.relays = relays;
  });
  const kept = await keepWebUiPassword(
    ctx,
    session,
    url,
    username,
    password,
    `run \`qshare login --relay ${args.name}\` again where it can be kept`,
  );
  const what = session.authMode === 'api-key' ? 'API key' : 'password';
  if (ctx.opts.json) {
    ctx.printJson({
      relay: args.name,
      url: display,
      username,
      version: session.appVersion,
      apiVersion: formatApiVersion(session.apiVersion),
      peer,
      configFile: ctx.paths.configFile,
      passwordKept: kept.kept,
      passwordStore: kept.where,
    });
  } else {
    ctx.print(
      [
        `Paired relay "${args.name}": qBittorrent ${session.appVersion} (Web API ${formatApiVersion(session.apiVersion)}) at ${display} as ${username}.`,
        `Peers reach it at ${peer} (${peerFrom}).`,
        `Saved in ${ctx.paths.configFile} as relays.${args.name}.`,
        session.authMode === 'none'
          ? 'It needs no password from this computer, so none was kept.'
          : kept.kept
            ? `The ${what} is kept in ${kept.where}.`
            : `The ${what} was NOT kept (see above).`,
        `Share through it: qshare add <folder> --relay ${args.name} (or set "defaultRelays": ["${args.name}"] in the config).`,
      ].join('\n'),
    );
  }
  return EXIT.ok;
}

/** `qshare login --relay NAME --remove`: forgets the relay (config entry, default list, its kept password). */
async function removeRelay(ctx: CommandContext, name: string): Promise<number> {
  const r = ctx.config.relays[name];
  if (!r) throw new QshareError('NOT_FOUND', `no relay named "${name}"`, { hint: 'qshare relay ls lists them' });
  await updateConfigFile(ctx.paths.configFile, (raw) => {
    const relays = raw.relays as Record<string, unknown>;
    delete relays[name];
    if (Array.isArray(raw.defaultRelays)) raw.defaultRelays = raw.defaultRelays.filter((n) => n !== name);
  });
  // the password is shared by every entry with the same address and user: kept while another still uses it
  const key = qbitKeyFor(r.url, r.username);
  const q = ctx.config.qbittorrent;
  const stillUsed =
    Object.entries(ctx.config.relays).some(([n, o]) => n !== name && qbitKeyFor(o.url, o.username) === key) ||
    qbitKeyFor(q.url, q.username) === key;
  if (!stillUsed) await (await ctx.deps.secrets()).delete(key);
  if (ctx.opts.json) ctx.printJson({ relay: name, removed: true });
  else
    ctx.print(
      `Forgot relay "${name}" (${parseQbitUrl(r.url).display}). Shares it holds stay there: stop them with qshare stop NAME first, or in its Web UI.`,
    );
  return EXIT.ok;
}

export interface RelayProbe {
  name: string;
  url: string;
  peer: string;
  answers: boolean;
  version?: string;
  /** sync/maindata's connection_status: connected, firewalled, disconnected */
  connection?: string;
  freeBytes?: number;
  error?: string;
  hint?: string;
}

/** One login to a relay and a look at its state; a failure is a result, not an error. */
export async function probeRelay(ctx: CommandContext, name: string): Promise<RelayProbe> {
  const r = ctx.config.relays[name]!;
  const base = { name, url: parseQbitUrl(r.url).display, peer: r.peer };
  try {
    const s = await ctx.deps.relay(name);
    const st = await s.serverState();
    return {
      ...base,
      answers: true,
      version: s.appVersion,
      ...(typeof st.connection_status === 'string' ? { connection: st.connection_status } : {}),
      ...(typeof st.free_space_on_disk === 'number' ? { freeBytes: st.free_space_on_disk } : {}),
    };
  } catch (e) {
    if (!isQshareError(e) || e.code === 'INTERRUPTED') throw e;
    return { ...base, answers: false, error: e.message, ...(e.hint ? { hint: e.hint } : {}) };
  }
}

/** `qshare relay ls [--json]`: every paired relay and whether it answers. */
export async function runRelayLs(ctx: CommandContext): Promise<number> {
  const names = Object.keys(ctx.config.relays);
  const probes = await Promise.all(names.map((n) => probeRelay(ctx, n)));
  if (ctx.opts.json) {
    ctx.printJson({ relays: probes.map((p) => ({ ...p, default: ctx.config.defaultRelays.includes(p.name) })) });
  } else if (probes.length === 0) {
    ctx.print('No relays yet. Pair your seedbox with: qshare login --relay NAME --url URL');
  } else {
    ctx.print(
      probes
        .map((p) => {
          const head = `${p.name}${ctx.config.defaultRelays.includes(p.name) ? ' (default)' : ''}  ${p.url}  peers: ${p.peer}`;
          if (!p.answers) return `${head}\n  NOT answering: ${p.error}${p.hint ? `\n  ${p.hint}` : ''}`;
          return `${head}\n  answers: qBittorrent ${p.version}${p.connection ? `, ${p.connection}` : ''}${p.freeBytes !== undefined ? `, ${formatBytes(p.freeBytes)} free` : ''}`;
        })
        .join('\n'),
    );
  }
  return probes.every((p) => p.answers) ? EXIT.ok : EXIT.relayFailed;
}
