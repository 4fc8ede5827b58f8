/**
 * A tiny open HTTP tracker on 127.0.0.1 for tests (Debian's opentracker serves only whitelisted hashes): `/announce`
 * with compact peer lists, and the counts a tracker reports: `complete`, `incomplete` and `downloaded` (how many
 * `event=completed` announces it has seen), which qBittorrent shows as a tracker's num_downloaded.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import bencode from 'bencode';

/** Percent-decoding to bytes (info_hash and peer_id are raw bytes, not UTF-8). */
function bytesOf(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%' && i + 2 < s.length) {
      out.push(Number.parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(s.charCodeAt(i) === 43 ? 32 : s.charCodeAt(i));
  }
  return Buffer.from(out);
}

export interface TestTracker {
  url: string;
  /** completed announces seen per info hash (hex) */
  downloaded(infoHash: string): number;
  close(): Promise<void>;
}

export async function startTracker(intervalSeconds = 5): Promise<TestTracker> {
  const swarms = new Map<string, Map<string, { ip: string; port: number; left: number }>>();
  const completed = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const [path, query = ''] = (req.url ?? '').split('?');
    if (path !== '/announce') {
      res.writeHead(404).end();
      return;
    }
    const q = new Map(
      query.split('&').map((kv) => {
        const i = kv.indexOf('=');
        return [kv.slice(0, i), kv.slice(i + 1)] as const;
      }),
    );
    const hash = bytesOf(q.get('info_hash') ?? '').toString('hex');
    const peerId = bytesOf(q.get('peer_id') ?? '').toString('hex');
    const port = Number(q.get('port'));
    const left = Number(q.get('left') ?? '0');
    const event = q.get('event');
    const ip = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    const swarm = swarms.get(hash) ?? new Map();
    swarms.set(hash, swarm);
    if (event === 'stopped') swarm.delete(peerId);
    else swarm.set(peerId, { ip, port, left });
    if (event === 'completed') completed.set(hash, (completed.get(hash) ?? 0) + 1);
    const others = [...swarm.entries()].filter(([id]) => id !== peerId).map(([, p]) => p);
    const compact = Buffer.concat(
      others.map((p) => Buffer.from([...p.ip.split('.').map(Number), p.port >> 8, p.port & 255])),
    );
    const body = bencode.encode({
      complete: [...swarm.values()].filter((p) => p.left === 0).length,
      incomplete: [...swarm.values()].filter((p) => p.left > 0).length,
      downloaded: completed.get(hash) ?? 0,
      interval: intervalSeconds,
      // without it libtorrent assumes 30 s and defers a forced reannounce until then
      'min interval': 1,
      peers: compact,
    });
    res.writeHead(200, { 'content-type': 'text/plain' }).end(Buffer.from(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/announce`,
    downloaded: (h) => completed.get(h.toLowerCase()) ?? 0,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
