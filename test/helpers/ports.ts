/**
 * Free TCP ports on 127.0.0.1 for throwaway servers in tests.
 *
 * A port is found by binding 127.0.0.1:0 and reading what the kernel chose. There is an unavoidable window between
 * closing our probe socket and the real server binding it; callers that can detect "somebody else answered"
 * (see qbit-nox.ts) should do so.
 */
import dgram from 'node:dgram';
import net from 'node:net';

function listenOnAnyPort(host: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => resolve(server));
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function portOf(server: net.Server): number {
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error(`unexpected server address: ${String(addr)}`);
  return addr.port;
}

/** One port that was free on 127.0.0.1 a moment ago. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [port] = await freePorts(1, host);
  if (port === undefined) throw new Error('freePorts(1) returned nothing');
  return port;
}

/**
 * `n` distinct ports that were free on 127.0.0.1 a moment ago. All probe sockets are held open at the same time,
 * so the kernel cannot hand out the same port twice within one call.
 */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  if (!Number.isInteger(n) || n < 0) throw new Error(`freePorts: n must be a non-negative integer, got ${n}`);
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) servers.push(await listenOnAnyPort(host));
    const ports = servers.map(portOf);
    if (new Set(ports).size !== ports.length)
      throw new Error(`freePorts: kernel returned duplicates ${ports.join(',')}`);
    return ports;
  } finally {
    await Promise.all(servers.map(closeServer));
  }
}

function udpPortIsFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    sock.unref();
    sock.once('error', () => {
      sock.close();
      resolve(false);
    });
    sock.bind({ port, address: host, exclusive: true }, () => sock.close(() => resolve(true)));
  });
}

/**
 * A port free for both TCP and UDP on 127.0.0.1 (a BitTorrent client listens on both: TCP and uTP).
 * Tries a few candidates; distinct from every port in `avoid`.
 */
export async function freeTcpUdpPort(avoid: readonly number[] = [], host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freePort(host);
    if (!avoid.includes(port) && (await udpPortIsFree(port, host))) return port;
  }
  throw new Error('freeTcpUdpPort: no port free for both TCP and UDP after 20 attempts');
}
