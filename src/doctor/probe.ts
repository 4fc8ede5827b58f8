import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mapPath } from '../config/pathmap.js';
import type { Config } from '../config/schema.js';
import type { Paths } from '../config/paths.js';
import { ensurePrivateDir } from '../fsx/atomic.js';
import type { Logger } from '../log.js';
import type { QbitSession } from '../qbit/session.js';
import { classifyState } from '../qbit/payload.js';
import { createTorrent } from '../torrent/index.js';

export type ProbeResult =
  | { ok: true; savePath: string }
  | { ok: false; savePath: string; state: string; mapped: boolean }
  | { skipped: string };

const PROBE_BYTES = 16 * 1024;

/**
 * Proves qBittorrent can read qshare's archive folder where qshare says it is (after qbittorrent.pathMap): writes a
 * 16 KiB random file there, hands qBittorrent a private, tracker-less torrent of it to seed (never announced
 * anywhere), waits until it seeds or turns `missingFiles`/`error`, then removes the torrent and the file.
 */
export async function pathProbe(deps: {
  session: QbitSession;
  config: Config;
  paths: Paths;
  log: Logger;
  timeoutMs?: number;
  signal?: AbortSignal;
}): Promise<ProbeResult> {
  const { session, config, paths, log } = deps;
  const dir = paths.archivesDir;
  await ensurePrivateDir(paths.dataDir);
  await ensurePrivateDir(dir);
  const name = `qshare-probe-${randomBytes(6).toString('hex')}.bin`;
  const file = join(dir, name);
  const savePath = mapPath(dir, config.qbittorrent.pathMap);
  const mapped = savePath !== dir;
  let hash: string | undefined;
  try {
    await writeFile(file, randomBytes(PROBE_BYTES), { mode: 0o644 });
    const t = await createTorrent({ root: file, name, trackers: [], private: true, createdBy: 'qshare doctor' });
    hash = t.infoHash;
    await session.addForSeeding(
      {
        torrent: t.torrent,
        fileName: `${name}.torrent`,
        savePath,
        category: config.qbittorrent.category,
        tags: [...config.qbittorrent.tags, 'qshare-probe'],
      },
      t.infoHash,
    );
    const deadline = Date.now() + (deps.timeoutMs ?? 20_000);
    let last = 'not listed';
    for (;;) {
      const s = await session.getTorrent(t.infoHash);
      if (s) {
        last = s.state;
        const v = classifyState(s.state, s.progress);
        if (v === 'seeding') return { ok: true, savePath };
        if (v === 'missing-files' || v === 'error') return { ok: false, savePath, state: s.state, mapped };
        // a complete torrent that is merely stopped was still found on disk
        if (v === 'stopped' && s.progress >= 1) return { ok: true, savePath };
      }
      if (Date.now() > deadline)
        return {
          skipped: `the probe torrent did not settle within ${Math.round((deps.timeoutMs ?? 20_000) / 1000)} s (last state: ${last})`,
        };
      if (deps.signal?.aborted) return { skipped: 'interrupted' };
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    if (hash)
      await session
        .remove(hash, false)
        .catch((e: unknown) =>
          log.warn(`could not remove the probe torrent ${hash} from qBittorrent: ${(e as Error).message}`),
        );
    await rm(file, { force: true });
  }
}
