import { randomBytes } from 'node:crypto';
import { access, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isQshareError, QshareError } from '../errors.js';
import { ensurePrivateDir } from '../fsx/atomic.js';
import { checkShareName, generateName, generatePassword } from '../secrets/generate.js';
import { shareSecretKey } from '../secrets/store.js';
import type { ShareRecord } from '../state/types.js';
import type { ShareDeps } from './deps.js';
import { inspectSource, type SourceInfo } from './inspect.js';
import { recipientMessage } from './message.js';
import { seedShare, type SeedOutcome } from './seed.js';
import { listFiles } from '../torrent/files.js';
import { choosePieceLength } from '../torrent/piece-length.js';
import { sampleAndChooseLevel } from './level.js';
import {
  archiveAndHashStep,
  archivePathFor,
  recordStep,
  torrentPathFor,
  torrentStep,
  type ArchivePieces,
} from './steps.js';
import { cleanDeadRuns, pendingDir, pendingNames, reservePending } from './pending.js';

export interface AddOptions {
  source: string;
  /** --name; otherwise a random three-word name */
  name?: string;
  /** supplied by the user (--password-stdin / --ask-password); otherwise generated */
  password?: string;
  /** 7-Zip level 0–9, or 'auto': chosen from a sample of the source (level.ts) */
  level: number | 'auto';
  trackers: string[];
  private: boolean;
  encrypt: boolean;
  seed: boolean;
  /** the relays' BitTorrent addresses, for the magnet link (x.pe) */
  relayPeers?: readonly string[];
}

/** Where `add` kept the archive password: `where` names the store (keychain, file) or says why it was not kept. */
export interface PasswordKept {
  kept: boolean;
  where: string;
}

export interface AddResult {
  share: ShareRecord;
  /** null for --no-encrypt */
  password: string | null;
  message: string;
  /** null with --no-seed */
  seed: SeedOutcome | null;
  /** links and special files left out of a --no-encrypt torrent */
  skipped: string[];
  /** where the archive password was kept (`where` names the store, or says why it was not kept); null: no password */
  passwordKept: PasswordKept | null;
  /** the 7-Zip level used (null with --no-encrypt), and with --level auto what the sample said */
  level: { chosen: number; auto: boolean; sampleRatio: number | null; reason: string | null } | null;
}

/**
 * `qshare add`: check the input, encrypt it into a 7z under a meaningless name, build the .torrent, record the share,
 * hand it to qBittorrent. Anything written by a step that did not complete (or was interrupted) is removed; the
 * source is only ever read.
 */
export async function addShare(deps: ShareDeps, opts: AddOptions): Promise<AddResult> {
  const { paths, log, signal } = deps;
  // an archive is compared with the source's state as inspected (SOURCE_CHANGED); a folder shared as it is is not,
  // and its torrent's file list comes from the same walk
  const source = await inspectSource(opts.source, paths.dataDir, opts.encrypt ? { states: true } : { files: true });
  if (!opts.encrypt && source.nonUtf8.length > 0) {
    const n = source.nonUtf8.length;
    throw new QshareError(
      'INPUT',
      `--no-encrypt cannot share ${n === 1 ? 'a name' : `${n} names`} that ${n === 1 ? 'is' : 'are'} not valid UTF-8 (torrents hold UTF-8 names only): ${source.nonUtf8
        .slice(0, 5)
        .map((p) => `"${p}"`)
        .join(', ')}${n > 5 ? ' …' : ''}`,
      {
        hint: 'rename them, or share the folder encrypted (without --no-encrypt): the archive keeps every name exactly as it is',
      },
    );
  }
  await Promise.all([
    ensurePrivateDir(paths.dataDir),
    ensurePrivateDir(paths.archivesDir),
    ensurePrivateDir(paths.torrentsDir),
  ]);

  const existing = await deps.store.list();
  const earlier = existing.find((s) => s.source === source.path);
  if (earlier)
    log.warn(
      `${source.path} was already shared as "${earlier.name}"; this makes a new, separate share (see it with \`qshare show ${earlier.name}\`)`,
    );
  const { name, release } = await beginRun(deps, opts, existing);

  const created: string[] = [];
  let recorded = false;
  let passwordKept: PasswordKept | null = null;
  let keptKey: string | undefined;
  const cleanup = async () => {
    for (const p of created.reverse()) await rm(p, { force: true }).catch(() => {});
    if (keptKey && deps.secrets)
      await (
        await deps.secrets()
      )
        .delete(keptKey)
        .catch((e: unknown) =>
          log.warn(`could not remove the password of a share that was not made: ${(e as Error).message}`),
        );
  };
  /** Keeps the archive password where the secret store writes; says why when it cannot. */
  const keepPassword = async (d: ShareDeps, share: ShareRecord, pw: string): Promise<PasswordKept> => {
    if (!d.secrets) return { kept: false, where: 'no secret store' };
    const store = await d.secrets();
    if (store.kind === 'none') return { kept: false, where: store.description };
    try {
      await store.set(shareSecretKey(share.id), pw);
    } catch (e) {
      const why = isQshareError(e) ? e.message : String(e);
      log.warn(why);
      return { kept: false, where: why };
    }
    keptKey = shareSecretKey(share.id);
    share.passwordStore = store.kind;
    return { kept: true, where: store.description };
  };
  try {
    let password: string | null = null;
    let contentPath = source.path;
    let archive: string | null = null;
    let pieces: ArchivePieces | null = null;
    let level: AddResult['level'] = null;
    // The archive's pieces are hashed while 7-Zip writes it, so the piece length is chosen before its size is
    // known: from the source's size (in store mode the archive is the same size plus a few hundred bytes; a
    // compressed one is smaller and simply gets fewer pieces).
    const pieceLength = choosePieceLength(source.totalBytes);
    if (opts.encrypt) {
      if (opts.password !== undefined && opts.password.length === 0)
        throw new QshareError('USAGE', 'the archive password is empty');
      password = opts.password ?? generatePassword(deps.random);
      level = await resolveLevel(deps, opts.level, source);
      const made = await archiveAndHashStep(deps, {
        sourcePath: source.path,
        sourceBytes: source.totalBytes,
        name,
        password,
        level: level.chosen,
        hashWhileWriting: { pieceLength },
        ...(source.states ? { before: source.states } : {}),
      });
      archive = made.archive;
      pieces = made.pieces;
      created.push(archive);
      contentPath = archive;
    }
    checkAborted(signal);

    const torrentName = opts.encrypt ? `${name}.7z` : basename(source.path);
    const t = await torrentStep(deps, {
      contentPath,
      torrentName,
      name,
      trackers: opts.trackers,
      private: opts.private,
      ...(opts.relayPeers ? { relayPeers: opts.relayPeers } : {}),
      ...(archive
        ? { pieceLength, pieces }
        : { contentBytes: source.totalBytes, ...(source.files ? { list: source.files } : {}) }),
    });
    const torrentFile = t.torrentFile;
    created.push(torrentFile);
    checkAborted(signal);

    const now = deps.now().toISOString();
    const share: ShareRecord = {
      id: randomBytes(4).toString('hex'),
      name,
      source: source.path,
      encrypted: opts.encrypt,
      archive,
      torrentFile,
      savePath: opts.encrypt ? paths.archivesDir : dirname(source.path),
      infoHash: t.infoHash,
      magnet: t.magnet,
      size: t.size,
      trackers: opts.trackers,
      private: opts.private,
      createdAt: now,
      updatedAt: now,
      state: opts.seed ? 'not-seeding' : 'created',
    };
    // kept before the record, so the record can say where (and a run that fails from here removes it again)
    passwordKept = password === null ? null : await keepPassword(deps, share, password);
    await recordStep(deps, share);
    created.length = 0; // recorded: from here on the files and the password belong to the share
    keptKey = undefined;
    recorded = true;
    await release();

    const seed = opts.seed
      ? await seedShare(deps, share).catch((e: unknown) => Promise.reject(interruptedAfterRecord(e, name)))
      : null;
    if (seed) share.state = seed.state;
    if (seed?.error) share.lastError = seed.error.message;
    return {
      share,
      password,
      seed,
      passwordKept,
      skipped: t.skipped,
      level,
      message: recipientMessage({
        name,
        encrypted: opts.encrypt,
        contentName: torrentName,
        size: t.size,
        magnet: share.magnet,
        torrentFileName: basename(torrentFile),
      }),
    };
  } catch (e) {
    await cleanup();
    await release();
    if (recorded || !isQshareError(e) || e.code !== 'INTERRUPTED') throw e;
    throw new QshareError(
      'INTERRUPTED',
      'interrupted: nothing was kept (no archive, .torrent or share record) and your folder was not touched',
      { cause: e },
    );
  }
}

/**
 * Chooses the share's name and reserves it for this run (pending.ts), after removing what earlier runs that were
 * killed half-way left behind.
 */
async function beginRun(
  deps: ShareDeps,
  opts: AddOptions,
  existing: ShareRecord[],
): Promise<{ name: string; release: () => Promise<void> }> {
  const dir = pendingDir(deps.paths.dataDir);
  await ensurePrivateDir(dir);
  const held = new Set(existing.flatMap((s) => [s.archive, s.torrentFile]));
  const removed = await cleanDeadRuns(dir, (p) => held.has(p));
  if (removed.length > 0)
    deps.log.info(`removed what an interrupted earlier qshare add left behind: ${removed.join(', ')}`);
  const name = await chooseName(deps, opts.name, existing, await pendingNames(dir));
  const files = [...(opts.encrypt ? [archivePathFor(deps.paths, name)] : []), torrentPathFor(deps.paths, name)];
  const run = await reservePending(dir, { name, files });
  return { name, release: run.release };
}

/** Ctrl-C after the share was recorded: it is kept (archive, .torrent, record), and `qshare seed` finishes the job. */
function interruptedAfterRecord(e: unknown, name: string): unknown {
  if (!isQshareError(e) || e.code !== 'INTERRUPTED') return e;
  return new QshareError(
    'INTERRUPTED',
    `interrupted before qBittorrent confirmed it seeds "${name}"; the share is kept (its archive, .torrent and record): run \`qshare seed ${name}\` to finish`,
  );
}

/**
 * A share name not used by any recorded share, archive or .torrent (nor in `alsoTaken`, names reserved elsewhere,
 * like the drop-folder journal's): the one asked for, or three random words.
 */
export async function chooseName(
  deps: Pick<ShareDeps, 'paths' | 'random'>,
  wanted: string | undefined,
  existing: ShareRecord[],
  alsoTaken: ReadonlySet<string> = new Set(),
): Promise<string> {
  const taken = async (n: string) =>
    existing.some((s) => s.name === n) ||
    alsoTaken.has(n) ||
    (await exists(join(deps.paths.archivesDir, `${n}.7z`))) ||
    (await exists(join(deps.paths.torrentsDir, `${n}.torrent`)));
  if (wanted !== undefined) {
    const problem = checkShareName(wanted);
    if (problem) throw new QshareError('USAGE', `--name ${problem}`);
    if (await taken(wanted))
      throw new QshareError('USAGE', `a share named "${wanted}" already exists; choose another --name`);
    return wanted;
  }
  for (let i = 0; i < 50; i++) {
    const n = generateName(deps.random);
    if (!(await taken(n))) return n;
  }
  throw new Error('could not find a free random share name after 50 tries');
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

/** A fixed level as given; 'auto': sample the source and say what was chosen. */
async function resolveLevel(
  deps: Pick<ShareDeps, 'log' | 'signal'>,
  wanted: number | 'auto',
  source: SourceInfo,
): Promise<NonNullable<AddResult['level']>> {
  if (wanted !== 'auto') return { chosen: wanted, auto: false, sampleRatio: null, reason: null };
  const files =
    source.kind === 'file'
      ? [{ absPath: source.path, length: source.totalBytes }]
      : (await listFiles(source.path)).files;
  const choice = await sampleAndChooseLevel(files, deps.signal);
  deps.log.info(`--level auto: ${choice.reason}`, { level: choice.level, sampledBytes: choice.sampledBytes });
  const sampleRatio = choice.sampleRatio === null ? null : Math.round(choice.sampleRatio * 1000) / 1000;
  return { chosen: choice.level, auto: true, sampleRatio, reason: choice.reason };
}

function checkAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new QshareError('INTERRUPTED', 'interrupted; nothing was left behind');
}

export type { SourceInfo };
