/**
 * Helpers for tests with two qbittorrent-nox instances (sender and recipient) on loopback: a qshare home per side,
 * raw Web API calls, and joining the recipient's torrent to the sender (no tracker, no DHT on loopback).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliEnv } from './cli.js';
import { TRACKER } from './e2e.js';
import type { QbitNox } from './qbit-nox.js';

/** A qshare config + data folder talking to `qb`; 30 s request timeouts (a loaded 2-core machine can be slow). */
export async function peerHome(qb: QbitNox, label: string, extraConfig: Record<string, unknown> = {}) {
  const dir = await mkdtemp(join(tmpdir(), `qshare-${label}-`));
  const configFile = join(dir, 'config.json');
  await writeFile(
    configFile,
    JSON.stringify({ trackers: [TRACKER], qbittorrent: { seedWaitSeconds: 30, timeoutSeconds: 30 }, ...extraConfig }),
  );
  const env = cliEnv({
    QSHARE_HOME: join(dir, 'home'),
    QSHARE_CONFIG: configFile,
    QSHARE_QBIT_URL: qb.url,
    QSHARE_QBIT_USERNAME: qb.username,
    QSHARE_QBIT_PASSWORD: qb.password,
  });
  return { dir, env, home: join(dir, 'home') };
}

/** One raw Web API call on the instance's one session (see QbitNox.api). */
export function api(qb: QbitNox, path: string, form?: Record<string, string>): Promise<unknown> {
  return qb.api(path, form);
}

export async function torrent(qb: QbitNox, hash: string): Promise<Record<string, unknown> | undefined> {
  return ((await api(qb, `torrents/info?hashes=${hash}`)) as Array<Record<string, unknown>>)[0];
}

/** While `qshare get` waits, point the recipient's torrent at the sender every 0.7 s, until it has the whole file. */
export function joinPeersWhileRunning(recipient: QbitNox, sender: QbitNox, hash: string): { stop(): void } {
  let running = true;
  // every request in the loop ends in a catch: the loop itself never rejects
  void (async () => {
    // until stopped (the download ended), at most 3 minutes: a busy machine can take long to start the transfer
    const end = Date.now() + 180_000;
    while (running && Date.now() < end) {
      const t = await torrent(recipient, hash).catch(() => undefined);
      if (t && Number(t.progress) < 1)
        await api(recipient, 'torrents/addPeers', { hashes: hash, peers: `127.0.0.1:${sender.torrentPort}` }).catch(
          () => {},
        );
      await new Promise((r) => setTimeout(r, 700));
    }
  })();
  return {
    stop() {
      running = false;
    },
  };
}
