/**
 * A real NAT for tests, built from network namespaces (root only): two private networks, "home" and "friend", each
 * behind one router that masquerades them onto a "pub" network and drops every new connection coming back in. Only
 * connections opened from inside get through, as at home behind carrier-grade NAT or a router without UPnP.
 *
 *   home 10.77.1.2 ─┐                     ┌─ pub 10.77.2.2 (relay, tracker)
 *                   ├─ router (nftables) ─┤
 *   friend 10.77.3.2┘  masquerade out     └─ (the router's public address: 10.77.2.1)
 *
 * The test process reaches each namespace's daemons over a separate management link (root 10.78.N.1 ↔ ns 10.78.N.2),
 * which routes nothing between namespaces (the root namespace does not forward), so the test can drive them without
 * making the NAT leak. BitTorrent in each namespace is bound to its NAT-side address. Every address lives in
 * namespaces this helper made; destroy() deletes them (also after a failure: call it from afterAll).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface LabHost {
  /** the namespace's name (for `ip netns exec`) */
  ns: string;
  /** its address on the NAT side (BitTorrent binds here) */
  addr: string;
  /** its address on the management link (the test process reaches its Web UI here) */
  mgmt: string;
}

export interface NatLab {
  home: LabHost;
  friend: LabHost;
  pub: LabHost;
  /** the router's address on the pub side: what pub sees as the source of home's and friend's connections */
  routerPublic: string;
  /** argv prefix that runs a command inside a namespace */
  exec(host: LabHost, argv: readonly string[]): string[];
  destroy(): Promise<void>;
}

/** Root, `ip` and `nft`: what building the lab needs. */
export function natLabPossible(): boolean {
  return (
    process.getuid?.() === 0 && existsSync('/usr/sbin/ip') && (existsSync('/usr/sbin/nft') || existsSync('/sbin/nft'))
  );
}

async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

export async function makeNatLab(): Promise<NatLab> {
  const id = String(process.pid % 100000);
  const names = { r: `qsr${id}`, home: `qsh${id}`, friend: `qsf${id}`, pub: `qsp${id}` };
  const made: string[] = [];
  const mgmtLinks: string[] = [];
  const destroy = async () => {
    for (const l of mgmtLinks) await ip('link', 'del', l).catch(() => undefined);
    for (const n of made) await ip('netns', 'del', n).catch(() => undefined);
  };
  try {
    for (const n of Object.values(names)) {
      await ip('netns', 'add', n);
      made.push(n);
      await ip('-n', n, 'link', 'set', 'lo', 'up');
    }
    // each private side and the pub side to the router: [namespace, router-side name, subnet]
    const sides = [
      [names.home, 'rh', 1],
      [names.pub, 'rp', 2],
      [names.friend, 'rf', 3],
    ] as const;
    for (const [ns, rname, net] of sides) {
      await ip('-n', names.r, 'link', 'add', rname, 'type', 'veth', 'peer', 'name', 'n0', 'netns', ns);
      await ip('-n', names.r, 'addr', 'add', `10.77.${net}.1/24`, 'dev', rname);
      await ip('-n', names.r, 'link', 'set', rname, 'up');
      await ip('-n', ns, 'addr', 'add', `10.77.${net}.2/24`, 'dev', 'n0');
      await ip('-n', ns, 'link', 'set', 'n0', 'up');
      // home and friend reach the world through the router; pub gets a route back too, so the NAT (not a missing
      // route) is what stops a connection from pub to home or friend
      await ip('-n', ns, 'route', 'add', net === 2 ? '10.77.0.0/16' : 'default', 'via', `10.77.${net}.1`);
      // management: root ↔ namespace, its own small subnet
      const link = `qsm${id}${net}`;
      await ip('link', 'add', link, 'type', 'veth', 'peer', 'name', 'm0', 'netns', ns);
      mgmtLinks.push(link);
      await ip('addr', 'add', `10.78.${net}.1/30`, 'dev', link);
      await ip('link', 'set', link, 'up');
      await ip('-n', ns, 'addr', 'add', `10.78.${net}.2/30`, 'dev', 'm0');
      await ip('-n', ns, 'link', 'set', 'm0', 'up');
    }
    await run('ip', ['netns', 'exec', names.r, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    const rules = [
      'table ip nat {',
      '  chain postrouting {',
      '    type nat hook postrouting priority srcnat; policy accept;',
      '    oifname "rp" masquerade',
      '  }',
      '}',
      'table ip filter {',
      '  chain forward {',
      '    type filter hook forward priority filter; policy drop;',
      '    ct state established,related accept',
      '    iifname "rh" oifname "rp" accept',
      '    iifname "rf" oifname "rp" accept',
      '  }',
      '}',
      '',
    ].join('\n');
    await new Promise<void>((resolve, reject) => {
      const c = execFile('ip', ['netns', 'exec', names.r, 'nft', '-f', '-'], (err) => (err ? reject(err) : resolve()));
      c.stdin!.end(rules);
    });
  } catch (e) {
    await destroy();
    throw e;
  }
  const host = (ns: string, net: number): LabHost => ({ ns, addr: `10.77.${net}.2`, mgmt: `10.78.${net}.2` });
  return {
    home: host(names.home, 1),
    pub: host(names.pub, 2),
    friend: host(names.friend, 3),
    routerPublic: '10.77.2.1',
    exec: (h, argv) => ['ip', 'netns', 'exec', h.ns, ...argv],
    destroy,
  };
}

/**
 * A tiny open HTTP tracker as a script for `node -e` (a process of its own, so it can run inside a namespace):
 * compact peer lists, the peer's address taken from the socket, and the counts trackers give (complete,
 * downloaded = completed announces, incomplete). argv: host port.
 */
export const TRACKER_SCRIPT = `
const http = require('node:http');
const [host, port] = process.argv.slice(1);
const swarms = new Map();
const completed = new Map();
const bytes = (s) => { const o = []; for (let i = 0; i < s.length; i++) { if (s[i] === '%') { o.push(parseInt(s.slice(i + 1, i + 3), 16)); i += 2; } else o.push(s.charCodeAt(i)); } return Buffer.from(o); };
http.createServer((req, res) => {
  const [path, query = ''] = (req.url || '').split('?');
  if (path !== '/announce') { res.writeHead(404).end(); return; }
  const q = new Map(query.split('&').map((kv) => { const i = kv.indexOf('='); return [kv.slice(0, i), kv.slice(i + 1)]; }));
  const hash = bytes(q.get('info_hash') || '').toString('hex');
  const id = bytes(q.get('peer_id') || '').toString('hex');
  const ip = (req.socket.remoteAddress || '').replace(/^::ffff:/, '');
  const swarm = swarms.get(hash) || new Map();
  swarms.set(hash, swarm);
  if (q.get('event') === 'stopped') swarm.delete(id); else swarm.set(id, { ip, port: Number(q.get('port')), left: Number(q.get('left') || 0) });
  if (q.get('event') === 'completed') completed.set(hash, (completed.get(hash) || 0) + 1);
  const all = [...swarm.values()];
  const counts = 'd8:completei' + all.filter((p) => p.left === 0).length + 'e10:downloadedi' + (completed.get(hash) || 0) + 'e10:incompletei' + all.filter((p) => p.left > 0).length + 'e';
  const peers = Buffer.concat([...swarm].filter(([k]) => k !== id).map(([, p]) => Buffer.from([...p.ip.split('.').map(Number), p.port >> 8, p.port & 255])));
  res.writeHead(200).end(Buffer.concat([Buffer.from(counts + '8:intervali5e12:min intervali1e5:peers' + peers.length + ':'), peers, Buffer.from('e')]));
}).listen(Number(port), host, () => process.stdout.write('listening\\n'));
`;
