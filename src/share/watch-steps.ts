/**
 * The real steps of the drop-folder worker, over the same pipeline as `qshare add` (steps.ts, seed.ts): 7-Zip,
 * hashing, qshare's state file, the secret store, qBittorrent through the shared gate, and the outputs beside the
 * drop folder. The password is generated here, handed to 7-Zip on stdin, kept in the secret store (and the opt-in
 * password file), and never logged or written to the journal.
 */
import { randomBytes } from 'node:crypto';
import { lstat, readdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { isQshareError, QshareError } from '../errors.js';
import { ensurePrivateDir } from '../fsx/atomic.js';
import { generatePassword } from '../secrets/generate.js';
import { shareSecretKey, type SecretStore } from '../secrets/store.js';
import type { Journal, WatchItem } from '../state/journal.js';
import type { ShareRecord } from '../state/types.js';
import { chooseName } from './add.js';
import type { ShareDeps } from './deps.js';
import { inspectSource } from './inspect.js';
import { recipientMessage } from './message.js';
import { removeOutputs, shareCard, writeOutputs, writePasswordFile } from './outbox.js';
import type { QbitGate } from './qbit-gate.js';
import { seedShare } from './seed.js';
import { applyShareLimits } from './limits.js';
import { handToRelays, relayTarget } from './relay.js';
import { choosePieceLength } from '../torrent/piece-length.js';
import {
  archiveAndHashStep,
  archivePathFor,
  recordStep,
  torrentPathFor,
  torrentStep,
  type ArchivePieces,
} from './steps.js';
import type { WorkerSteps } from './worker.js';

export interface WatchStepsOptions {
  deps: ShareDeps;
  secrets: SecretStore;
  gate: QbitGate;
  journal: Journal;
  writePasswordFile: boolean;
}

export function createWatchSteps(o: WatchStepsOptions): WorkerSteps {
  const { deps, secrets } = o;
  const { paths, log } = deps;
  const withSignal = (signal: AbortSignal): ShareDeps => ({ ...deps, signal });

  // pieces hashed while 7-Zip wrote an archive, for the hash step that follows in this same run (after a restart
  // the hash step hashes the archive itself)
  const hashedWhileWriting = new Map<string, ArchivePieces>();

  const findRecord = async (id: string): Promise<ShareRecord | undefined> =>
    (await deps.store.list()).find((s) => s.id === id);

  const resetArchive = async (it: WatchItem) => {
    hashedWhileWriting.delete(it.id);
    const prefix = `.${it.name}.7z.partial-`;
    for (const n of await readdir(paths.archivesDir).catch(() => [] as string[])) {
      if (n.startsWith(prefix)) await rm(join(paths.archivesDir, n), { force: true });
    }
    await rm(archivePathFor(paths, it.name), { force: true });
    if (secrets.kind !== 'none')
      await secrets
        .delete(shareSecretKey(it.id))
        .catch((e: unknown) =>
          log.warn(`could not remove an unused password from ${secrets.kind}: ${(e as Error).message}`),
        );
    await removeOutputs(it.dropDir, it.name, { password: true });
  };

  /**
   * Hands a share that seeds here to the config's defaultRelays (no hand-off: home keeps seeding). A relay that fails
   * is said and recorded; the share itself is done (`qshare seed NAME` tries the relays again).
   */
  const toDefaultRelays = async (share: ShareRecord, signal: AbortSignal) => {
    const relay = deps.relay;
    const names = deps.config.defaultRelays;
    if (names.length === 0 || !relay) return;
    const links = names.map((n) => ({ ...relayTarget(n, deps.config.relays[n]!), connect: () => relay(n) }));
    const { reports } = await handToRelays(
      { config: deps.config, log, store: deps.store, signal, now: deps.now },
      await o.gate.session(),
      share,
      links,
      { handoff: false },
    );
    for (const r of reports) {
      if (r.state === 'error')
        log.warn(
          `${r.error ?? `relay "${r.name}" failed`}; "${share.name}" still seeds here (qshare seed ${share.name} tries the relay again)${r.hint ? `. ${r.hint}` : ''}`,
          { share: share.name },
        );
      else
        log.info(`relay "${r.name}" has "${share.name}" (${Math.floor(r.progress * 100)} %, it goes on by itself)`, {
          share: share.name,
        });
    }
  };

  return {
    async newIdentity(reserved) {
      const existing = await deps.store.list();
      let id = randomBytes(4).toString('hex');
      while (existing.some((s) => s.id === id) || o.journal.get(id)) id = randomBytes(4).toString('hex');
      const name = await chooseName(deps, undefined, existing, reserved);
      return { id, name };
    },

    async sourcePresent(it) {
      const st = await lstat(it.source).catch(() => null);
      return st !== null && st.dev === it.dev && st.ino === it.ino;
    },

    resetArchive,

    async archive(it, signal) {
      const d = withSignal(signal);
      await Promise.all([ensurePrivateDir(paths.archivesDir), ensurePrivateDir(paths.torrentsDir)]);
      const src = await inspectSource(it.source, paths.dataDir);
      const password = generatePassword(deps.random);
      const { archive, pieces } = await archiveAndHashStep(d, {
        sourcePath: src.path,
        sourceBytes: src.totalBytes,
        name: it.name,
        password,
        level: deps.config.level,
        signal,
        hashWhileWriting: { pieceLength: choosePieceLength(src.totalBytes) },
      });
      if (pieces) hashedWhileWriting.set(it.id, pieces);
      try {
        if (secrets.kind !== 'none') await secrets.set(shareSecretKey(it.id), password);
        if (o.writePasswordFile) await writePasswordFile(it.dropDir, it.name, password);
      } catch (e) {
        await rm(archive, { force: true });
        const why = isQshareError(e) ? e.message : (e as Error).message;
        throw new QshareError(
          'SECRET',
          `could not keep the password of "${it.name}" (${why}); the archive was deleted, since nobody could open it`,
        );
      }
      return { archive };
    },

    async hash(it, signal) {
      const d = withSignal(signal);
      let share = await findRecord(it.id);
      if (!share) {
        const archive = it.archive ?? archivePathFor(paths, it.name);
        const pieces = hashedWhileWriting.get(it.id);
        hashedWhileWriting.delete(it.id);
        const relayPeers = deps.config.defaultRelays.map((n) => deps.config.relays[n]!.peer);
        const t = await torrentStep(d, {
          contentPath: archive,
          torrentName: `${it.name}.7z`,
          name: it.name,
          trackers: deps.config.trackers,
          private: false,
          signal,
          relayPeers,
          ...(pieces ? { pieces, pieceLength: pieces.pieceLength } : {}),
        });
        const now = deps.now().toISOString();
        share = await recordStep(d, {
          id: it.id,
          name: it.name,
          source: it.source,
          encrypted: true,
          archive,
          torrentFile: t.torrentFile,
          savePath: paths.archivesDir,
          infoHash: t.infoHash,
          magnet: t.magnet,
          size: t.size,
          trackers: deps.config.trackers,
          private: false,
          createdAt: now,
          updatedAt: now,
          state: 'not-seeding',
          ...(secrets.kind !== 'none' ? { passwordStore: secrets.kind } : {}),
          // the config's defaults for every share watch makes (as add --recipients / --expire)
          ...(deps.config.watch.recipients !== undefined ? { recipients: deps.config.watch.recipients } : {}),
          ...(deps.config.watch.expireMinutes !== undefined ? { expireMinutes: deps.config.watch.expireMinutes } : {}),
        });
      }
      const card = shareCard({
        name: share.name,
        entry: it.entry,
        dropDir: it.dropDir,
        size: share.size,
        magnet: share.magnet,
        createdAt: share.createdAt,
        passwordInStore: secrets.kind === 'none' ? null : secrets.description,
        passwordFile: o.writePasswordFile,
        message: recipientMessage({
          name: share.name,
          encrypted: true,
          contentName: `${share.name}.7z`,
          size: share.size,
          magnet: share.magnet,
          torrentFileName: basename(share.torrentFile),
        }),
      });
      await writeOutputs(it.dropDir, it.name, share.torrentFile, card);
      return { torrentFile: share.torrentFile, infoHash: share.infoHash, magnet: share.magnet, size: share.size };
    },

    async add(it, signal) {
      const share = await findRecord(it.id);
      if (!share)
        throw new QshareError(
          'STATE',
          `share "${it.name}" is missing from qshare's list (${paths.stateFile}); was the state file replaced?`,
        );
      const outcome = await seedShare(
        { config: deps.config, log: deps.log, store: deps.store, qbit: () => o.gate.session(), signal, now: deps.now },
        share,
      );
      if (!outcome.seeding) throw outcome.error ?? new QshareError('QBIT_API', 'qBittorrent is not seeding it');
      const limitErr = await applyShareLimits(await o.gate.session(), share, deps.log);
      if (limitErr)
        deps.log.warn(
          `qBittorrent did not take the share limits of "${share.name}" (${limitErr.message}); qshare watch still stops it when its recipients have it`,
          { share: share.name },
        );
      await toDefaultRelays(share, signal);
    },

    async discard(it) {
      await resetArchive(it);
      await rm(torrentPathFor(paths, it.name), { force: true });
      await removeOutputs(it.dropDir, it.name);
      if (await findRecord(it.id)) {
        await deps.store.update((s) => {
          s.shares = s.shares.filter((r) => r.id !== it.id);
        });
      }
    },
  };
}
