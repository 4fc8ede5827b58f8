/**
 * `qshare doctor`'s judgements: pure functions from what was measured to report lines, each with what to do.
 * No I/O here (run.ts measures; cli/commands/doctor.ts shows and fixes), so every rule is a table test.
 */

/** ok; info = worth knowing, nothing wrong; warn = shares work but worse; fail = blocks sharing; skip = could not check */
export type CheckStatus = 'ok' | 'info' | 'warn' | 'fail' | 'skip';

export interface PrefFix {
  /** the qBittorrent preferences to set (app/setPreferences keys) */
  prefs: Record<string, unknown>;
  /** what the change does, for the confirmation question */
  what: string;
}

export interface Check {
  id: string;
  title: string;
  status: CheckStatus;
  /** what was found */
  detail: string;
  /** what to do about it (absent when ok) */
  fix?: string;
  /** a qBittorrent setting `doctor --fix` can change */
  prefFix?: PrefFix;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

export function formatSize(bytes: number): string {
  if (bytes >= GiB) return `${(bytes / GiB).toFixed(1)} GiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(0)} MiB`;
  return `${Math.round(bytes / 1024)} KiB`;
}

const WHERE_PREFS = 'in qBittorrent: Tools → Options (Web UI: the gear icon)';

/** DHT, PeX, encryption, anonymous mode, proxy: read from app/preferences. `trackers` = the config's announce list. */
export function preferenceChecks(prefs: Record<string, unknown>, trackers: string[]): Check[] {
  const out: Check[] = [];
  const noTrackers = trackers.length === 0;

  if (prefs.dht === true)
    out.push({ id: 'dht', title: 'DHT', status: 'ok', detail: 'on: recipients can find you without a tracker' });
  else
    out.push({
      id: 'dht',
      title: 'DHT',
      status: noTrackers ? 'fail' : 'warn',
      detail: noTrackers
        ? 'off, and the config lists no trackers: recipients of a public share have no way to find you'
        : 'off: recipients find you only through the tracker; if it is down or blocked, nobody can',
      fix: `turn DHT on: qshare doctor --fix, or ${WHERE_PREFS} → BitTorrent → "Enable DHT"`,
      prefFix: { prefs: { dht: true }, what: 'turn DHT on' },
    });

  if (prefs.pex === true)
    out.push({ id: 'pex', title: 'peer exchange (PeX)', status: 'ok', detail: 'on: peers tell each other about you' });
  else
    out.push({
      id: 'pex',
      title: 'peer exchange (PeX)',
      status: 'warn',
      detail: 'off: recipients learn about each other only through the tracker or DHT, so downloads are slower',
      fix: `turn PeX on: qshare doctor --fix, or ${WHERE_PREFS} → BitTorrent → "Enable Peer Exchange (PeX)"`,
      prefFix: { prefs: { pex: true }, what: 'turn peer exchange on' },
    });

  const enc = prefs.encryption;
  if (enc === 0)
    out.push({
      id: 'encryption',
      title: 'protocol encryption',
      status: 'ok',
      detail: '"prefer encryption": encrypted with peers that can, plain with the rest',
    });
  else if (enc === 1)
    out.push({
      id: 'encryption',
      title: 'protocol encryption',
      status: 'info',
      detail:
        '"require encryption": peers that cannot encrypt are refused (some mobile clients), so a recipient may not connect',
      fix: `if a recipient cannot connect, choose "Allow encryption" (prefer): qshare doctor --fix, or ${WHERE_PREFS} → BitTorrent → Encryption mode`,
      prefFix: { prefs: { encryption: 0 }, what: 'set encryption to "prefer" (allow encryption)' },
    });
  else if (enc === 2)
    out.push({
      id: 'encryption',
      title: 'protocol encryption',
      status: 'warn',
      detail:
        'disabled: the torrent traffic is plain, so networks that throttle or block BitTorrent see it easily (the archive itself stays AES-encrypted)',
      fix: `choose "Allow encryption" (prefer): qshare doctor --fix, or ${WHERE_PREFS} → BitTorrent → Encryption mode`,
      prefFix: { prefs: { encryption: 0 }, what: 'set encryption to "prefer" (allow encryption)' },
    });
  else
    out.push({
      id: 'encryption',
      title: 'protocol encryption',
      status: 'skip',
      detail: `unknown setting ${JSON.stringify(enc)}`,
    });

  if (prefs.anonymous_mode === true)
    out.push({
      id: 'anonymous',
      title: 'anonymous mode',
      status: 'warn',
      detail:
        'on: qBittorrent hides its identity and turns off features peers use to reach it; it is not meant as privacy without a proxy or VPN',
      fix: `turn it off unless you use it with a proxy: qshare doctor --fix, or ${WHERE_PREFS} → BitTorrent → "Enable anonymous mode"`,
      prefFix: { prefs: { anonymous_mode: false }, what: 'turn anonymous mode off' },
    });
  else out.push({ id: 'anonymous', title: 'anonymous mode', status: 'ok', detail: 'off' });

  const proxy = proxyKind(prefs.proxy_type);
  if (proxy === undefined) out.push({ id: 'proxy', title: 'proxy', status: 'ok', detail: 'none' });
  else
    out.push({
      id: 'proxy',
      title: 'proxy',
      status: 'info',
      detail: `qBittorrent connects through a ${proxy} proxy${typeof prefs.proxy_ip === 'string' && prefs.proxy_ip ? ` (${prefs.proxy_ip})` : ''}: recipients can reach you only if it forwards incoming connections`,
      fix: `if recipients stay at 0 peers, check the proxy (or VPN) forwards the listening port ${prefs.listen_port ?? ''}; ${WHERE_PREFS} → Connection → Proxy Server`.replace(
        ' port  ',
        ' port ',
      ),
    });
  return out;
}

/** proxy_type: an int up to 4.5 (-1/0 none, 1 HTTP, 2 SOCKS5, 3 HTTP+auth, 4 SOCKS5+auth, 5 SOCKS4), a string from 4.6. */
export function proxyKind(v: unknown): string | undefined {
  if (v === undefined || v === null || v === -1 || v === 0 || v === '' || v === 'None') return undefined;
  if (typeof v === 'number')
    return (
      ({ 1: 'HTTP', 2: 'SOCKS5', 3: 'HTTP', 4: 'SOCKS5', 5: 'SOCKS4' } as Record<number, string>)[v] ?? `type ${v}`
    );
  return String(v);
}

/** sync/maindata server_state.connection_status, with the UPnP preference for the advice (never changed by --fix). */
export function connectionCheck(status: string | undefined, prefs: Record<string, unknown>): Check {
  const port = typeof prefs.listen_port === 'number' ? prefs.listen_port : undefined;
  const upnpOff = prefs.upnp === false;
  switch (status) {
    case 'connected':
      return {
        id: 'connection',
        title: 'incoming connections',
        status: 'ok',
        detail: 'connected: peers from outside have reached qBittorrent',
      };
    case 'firewalled':
      return {
        id: 'connection',
        title: 'incoming connections',
        status: 'warn',
        detail:
          'firewalled: no peer from outside has reached qBittorrent yet. Recipients behind their own router then cannot connect to you, and a share may never start for them ' +
          '(a freshly started qBittorrent also says this until the first outside peer arrives)',
        fix:
          `forward TCP and UDP port ${port ?? '(Tools → Options → Connection → "Port used for incoming connections")'} on your router to this computer, ` +
          (upnpOff
            ? 'or, if the router supports it, turn on "Use UPnP / NAT-PMP port forwarding from my router" (Tools → Options → Connection; qshare does not change this for you: it opens a port on your router)'
            : 'UPnP / NAT-PMP is on, but the router did not open the port: forward it by hand') +
          "; allow the port in this computer's firewall too",
      };
    case 'disconnected':
      return {
        id: 'connection',
        title: 'incoming connections',
        status: 'fail',
        detail: 'disconnected: qBittorrent is not listening on any network interface',
        fix: 'check Tools → Options → Advanced → "Network interface" and the listening port (Connection), and that the computer is online',
      };
    default:
      return {
        id: 'connection',
        title: 'incoming connections',
        status: 'skip',
        detail: `qBittorrent did not say (${status ?? 'no connection_status'})`,
      };
  }
}

export function diskCheck(dataDir: string, freeBytes: number | undefined): Check {
  if (freeBytes === undefined)
    return {
      id: 'disk',
      title: 'free disk space',
      status: 'skip',
      detail: `could not measure the free space of ${dataDir}`,
    };
  const base = { id: 'disk', title: 'free disk space', detail: `${formatSize(freeBytes)} free in ${dataDir}` };
  if (freeBytes < 100 * MiB)
    return {
      ...base,
      status: 'fail',
      fix: 'free some space there, or move the data folder (QSHARE_HOME) to a bigger disk: an encrypted share needs as much space as the folder itself',
    };
  if (freeBytes < 2 * GiB)
    return {
      ...base,
      status: 'warn',
      fix: 'an encrypted share needs about as much free space as the folder you share; free some, or move QSHARE_HOME to a bigger disk',
    };
  return { ...base, status: 'ok' };
}

export interface SevenZipFacts {
  path: string;
  version: string;
  flavour: string;
  legacy: boolean;
  /** a test archive with AES-256 and encrypted headers (-mhe=on) was made and read back */
  aesWorks: boolean | undefined;
  aesError?: string;
}

export function sevenZipCheck(facts: SevenZipFacts | { missing: string; hint?: string }): Check {
  if ('missing' in facts)
    return {
      id: '7zip',
      title: '7-Zip',
      status: 'fail',
      detail: facts.missing,
      fix: facts.hint ?? 'install 7-Zip (Debian/Ubuntu: sudo apt install 7zip)',
    };
  const what = `${facts.flavour} ${facts.version} (${facts.path})`;
  if (facts.aesWorks === false)
    return {
      id: '7zip',
      title: '7-Zip',
      status: 'fail',
      detail: `${what} could not make an AES-256 archive with encrypted file names: ${facts.aesError ?? 'unknown error'}`,
      fix: 'install a current 7-Zip (Debian/Ubuntu: sudo apt install 7zip) or set "sevenZip" in the config',
    };
  if (facts.legacy)
    return {
      id: '7zip',
      title: '7-Zip',
      status: 'warn',
      detail: `${what}: only the old p7zip 16.02 (or a 7-Zip before 21) was found; it works, but it is unmaintained and slower`,
      fix: 'install a current 7-Zip: Debian/Ubuntu `sudo apt install 7zip` (7zz), macOS `brew install sevenzip`',
    };
  return { id: '7zip', title: '7-Zip', status: 'ok', detail: `${what}; AES-256 with encrypted file names works` };
}

export function keychainCheck(kind: 'keychain' | 'file' | 'none', description: string, why?: string): Check {
  if (kind === 'keychain') return { id: 'keychain', title: 'password store', status: 'ok', detail: description };
  if (kind === 'file')
    return {
      id: 'keychain',
      title: 'password store',
      status: 'info',
      detail: `${description}${why ? `, because ${why}` : ''}: plain text that only your user (and root) can read`,
      fix: 'usual on a server; to keep no passwords set "secrets": {"store": "none"}, to allow only the OS keychain "keychain"',
    };
  return {
    id: 'keychain',
    title: 'password store',
    status: 'info',
    detail: description,
    fix: 'without a store, `qshare show` cannot give share passwords again and the Web UI password must come from QSHARE_QBIT_PASSWORD or a prompt',
  };
}

export function pathProbeCheck(
  result:
    | { ok: true; savePath: string }
    | { ok: false; savePath: string; state: string; mapped: boolean }
    | { skipped: string },
): Check {
  if ('skipped' in result)
    return { id: 'paths', title: "qBittorrent sees qshare's files", status: 'skip', detail: result.skipped };
  if (result.ok)
    return {
      id: 'paths',
      title: "qBittorrent sees qshare's files",
      status: 'ok',
      detail: `a probe torrent seeded from ${result.savePath} as qBittorrent sees it`,
    };
  return {
    id: 'paths',
    title: "qBittorrent sees qshare's files",
    status: 'fail',
    detail: `a probe torrent saved at ${result.savePath} became "${result.state}": qBittorrent cannot read qshare's data folder there`,
    fix: result.mapped
      ? "check qbittorrent.pathMap: the folder on the right must be where qBittorrent (its container, its machine) sees qshare's data folder, and readable by it"
      : 'if qBittorrent runs in Docker or on another machine, mount qshare\'s data folder there and set qbittorrent.pathMap, e.g. {"/home/me/.local/share/qshare": "/downloads/qshare"}',
  };
}

/** The exit status: 1 when anything blocks sharing, else 0. */
export function doctorExitCode(checks: Check[]): number {
  return checks.some((c) => c.status === 'fail') ? 1 : 0;
}

/** What was measured of one relay (doctor): its answer, its own connection status, free disk, and whether its peer port opens from here. */
export interface RelayMeasure {
  name: string;
  url: string;
  peer: string;
  version?: string;
  /** why it could not be reached or logged in to */
  error?: string;
  hint?: string;
  connection?: string;
  freeBytes?: number;
  /** true, or why a TCP connection to `peer` failed */
  peerOpens?: true | string;
}

/**
 * One line per relay: fail when it does not answer, refuses the login, or its peer address does not open from here
 * (recipients could not connect to it either: no relay at all); warn when its qBittorrent says "firewalled" (no
 * incoming connection from a public address yet) or it has under 1 GiB free. Pure.
 */
export function relayCheck(m: RelayMeasure): Check {
  const id = `relay:${m.name}`;
  const title = `relay ${m.name}`;
  if (m.error !== undefined)
    return {
      id,
      title,
      status: 'fail',
      detail: m.error,
      fix: m.hint ?? `run \`qshare login --relay ${m.name}\` again`,
    };
  const parts = [`qBittorrent ${m.version ?? '?'} answers at ${m.url}`];
  if (m.connection !== undefined) parts.push(`its connection: ${m.connection}`);
  if (m.freeBytes !== undefined) parts.push(`${formatSize(m.freeBytes)} free`);
  parts.push(
    m.peerOpens === true
      ? `${m.peer} opens from here`
      : m.peerOpens === undefined
        ? `${m.peer} not tried`
        : `${m.peer} does NOT open from here (${m.peerOpens})`,
  );
  const detail = parts.join('; ');
  const port = m.peer.replace(/^.*:/, '');
  if (m.peerOpens !== undefined && m.peerOpens !== true) {
    return {
      id,
      title,
      status: 'fail',
      detail,
      fix: `peers cannot connect to it, so it cannot relay: open its BitTorrent port (${port}) in the server's firewall or forward it to the container, or correct its address with qshare login --relay ${m.name} --peer HOST:PORT`,
    };
  }
  const fixes: string[] = [];
  // libtorrent says "firewalled" until its first incoming connection from a public address (it counts none from
  // private ones): a fresh relay is "firewalled" too. The port opening from here is the proof that matters.
  if (m.connection === 'firewalled')
    fixes.push(
      `its qBittorrent has had no incoming connection from the internet yet; if that stays so once recipients download, open its BitTorrent port (${port}) to the internet`,
    );
  if (m.freeBytes !== undefined && m.freeBytes < GiB)
    fixes.push('free space on the relay: each share needs its whole size there');
  return fixes.length > 0
    ? { id, title, status: 'warn', detail, fix: fixes.join('; ') }
    : { id, title, status: 'ok', detail };
}
