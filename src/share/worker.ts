/**
 * Works through the drop-folder journal: archives (at most `concurrency` at a time), hashes, records and hands
 * shares to qBittorrent, recording every step in the journal before the next begins, so a run killed at any moment
 * resumes where it stopped and never shares an item twice. The real steps are passed in (watch-steps.ts); tests
 * pass fakes.
 */
import { join } from 'node:path';
import { isQshareError, QshareError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Journal, WatchItem } from '../state/journal.js';
import type { QbitGate } from './qbit-gate.js';
import {
  backoffMs,
  classifyStepError,
  decideArrival,
  decideRemoval,
  nextRetryAt,
  pickRunnable,
  type Arrival,
  type StepName,
} from './queue.js';

export interface WorkerSteps {
  /** a fresh share id and name, used by no share, no file, and none of `reserved` */
  newIdentity(reserved: ReadonlySet<string>): Promise<{ id: string; name: string }>;
  /** the item's source is still in the drop folder as the entry that was queued */
  sourcePresent(item: WatchItem): Promise<boolean>;
  /** removes what an archiving step that did not finish may have left: partial files, an archive, its password */
  resetArchive(item: WatchItem): Promise<void>;
  /** checks the free space (DISK_SPACE when short), makes the archive and keeps its password */
  archive(item: WatchItem, signal: AbortSignal): Promise<{ archive: string }>;
  /** makes the .torrent, records the share in qshare's list, writes the outputs beside the drop folder */
  hash(
    item: WatchItem,
    signal: AbortSignal,
  ): Promise<{ torrentFile: string; infoHash: string; magnet: string; size: number }>;
  /** hands the share to qBittorrent and waits until it seeds; throws a QshareError when it does not */
  add(item: WatchItem, signal: AbortSignal): Promise<void>;
  /** removes everything made for an item that will not be shared */
  discard(item: WatchItem): Promise<void>;
}

export interface RetryTimes {
  /** first retry delay; doubles each time */
  baseMs: number;
  /** longest wait between tries to reach qBittorrent */
  qbitCapMs: number;
  /** longest wait between free-space checks */
  spaceCapMs: number;
}

export const DEFAULT_RETRY: RetryTimes = { baseMs: 2000, qbitCapMs: 30_000, spaceCapMs: 60_000 };

export interface WorkerOptions {
  journal: Journal;
  steps: WorkerSteps;
  gate: Pick<QbitGate, 'blocked' | 'drop'>;
  log: Logger;
  /** the drop folder this worker serves (items of other folders in the journal are left alone) */
  dropDir: string;
  /** archives made at the same time */
  concurrency: number;
  /** shares handed to qBittorrent (and waited for) at the same time; default 4 */
  addParallel?: number;
  /** aborting it stops the worker: running steps are interrupted and what they completed stays recorded */
  signal: AbortSignal;
  now?: () => number;
  retry?: RetryTimes;
}

type Cancel = { why: 'drop'; because: string } | { why: 'requeue'; arrival: Arrival };

interface Running {
  kind: 'disk' | 'qbit';
  ctrl: AbortController;
  cancel?: Cancel;
  done?: Promise<void>;
}

export class ShareWorker {
  private readonly o: WorkerOptions;
  private readonly now: () => number;
  private readonly retry: RetryTimes;
  private readonly running = new Map<string, Running>();
  /** unshared items of an earlier run, waiting for the watcher to see them again (or to find them gone) */
  private readonly held = new Set<string>();
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(o: WorkerOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    this.retry = o.retry ?? DEFAULT_RETRY;
    o.signal.addEventListener('abort', () => void this.stop(), { once: true });
  }

  /**
   * Takes over the journal an earlier run left. Items not shared yet wait until the watcher reports them complete
   * again (their content may have changed while qshare was not running) or gone; shared ones resume at once; items
   * that waited for a restart (qBittorrent refused the login) are tried again now. Returns what was resumed.
   */
  async resume(): Promise<{ held: WatchItem[]; resumed: WatchItem[]; elsewhere: number }> {
    const mine = this.o.journal.items().filter((i) => i.dropDir === this.o.dropDir);
    const held = mine.filter((i) => !i.recorded && i.state !== 'failed');
    for (const i of held) this.held.add(i.id);
    const nowIso = new Date(this.now()).toISOString();
    const again = mine.filter((i) => i.state === 'waiting' && i.retryAt === undefined);
    if (again.length > 0) {
      await this.o.journal.change((j) => {
        for (const i of j.items) if (again.some((a) => a.id === i.id)) i.retryAt = nowIso;
      });
    }
    const resumed = mine.filter((i) => i.recorded && (i.state === 'adding' || i.state === 'waiting'));
    return { held, resumed, elsewhere: this.o.journal.items().length - mine.length };
  }

  /** Starts working. */
  start(): void {
    this.pump();
  }

  /** After the watcher's first scan: held items whose entry is not in the drop folder any more are dropped. */
  async afterScan(present: (entry: string) => Promise<boolean>): Promise<void> {
    for (const id of [...this.held]) {
      const it = this.item(id);
      if (it && !(await present(it.entry))) await this.removal(it.entry);
    }
  }

  /** The watcher reports an item complete. */
  arrival(a: Arrival): Promise<void> {
    return this.serial(async () => {
      const d = decideArrival(this.o.journal.items(), a);
      const log = this.o.log;
      switch (d.kind) {
        case 'known':
          this.release(d.id);
          return;
        case 'changed-after-shared': {
          const it = this.item(d.id)!;
          if (d.firstNotice) {
            log.warn(
              `"${a.entry}" changed after it was shared as "${it.name}"; the share keeps the earlier content and is left alone. To share the new content, drop it in under another name`,
              { item: a.entry, share: it.name },
            );
            await this.patch(d.id, { changedNoticed: a.fingerprint });
          }
          return;
        }
        case 'requeue': {
          this.release(d.id);
          const r = this.running.get(d.id);
          if (r) {
            r.cancel = { why: 'requeue', arrival: a };
            r.ctrl.abort();
          } else await this.requeueNow(d.id, a);
          this.pump();
          return;
        }
        case 'replaced':
          if (d.recorded) await this.patch(d.id, { sourceGone: true });
          else await this.dropNow(d.id, 'another file or folder with the same name replaced it');
          await this.queueNew(a);
          return;
        case 'new':
          await this.queueNew(a);
          return;
      }
    });
  }

  /** The watcher reports an item gone from the drop folder. */
  removal(entry: string): Promise<void> {
    return this.serial(async () => {
      const d = decideRemoval(this.o.journal.items(), this.o.dropDir, entry);
      if (d.kind === 'drop') await this.dropNow(d.id, 'it was removed from the drop folder before it was shared');
      else if (d.kind === 'gone-after-shared') {
        const it = this.item(d.id)!;
        await this.patch(d.id, { sourceGone: true });
        this.o.log.info(
          `"${entry}" left the drop folder; its share "${it.name}" goes on (the archive is a separate copy)`,
          { item: entry, share: it.name },
        );
      }
    });
  }

  /** Stops: interrupts running steps and waits until each has recorded where it stopped. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const r of this.running.values()) r.ctrl.abort();
    await Promise.all([...this.running.values()].map((r) => r.done ?? Promise.resolve()));
    await this.chain.catch(() => {});
  }

  /** Ids currently being worked on (for tests and status). */
  busy(): string[] {
    return [...this.running.keys()];
  }

  // ---------------------------------------------------------------------------------------------------------

  private item(id: string): WatchItem | undefined {
    return this.o.journal.get(id);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(() => (this.stopped ? (undefined as T) : fn()));
    this.chain = run.catch((e: unknown) => this.o.log.error(`drop-folder queue: ${(e as Error).message}`));
    return run;
  }

  private release(id: string): void {
    if (this.held.delete(id)) this.pump();
  }

  private patch(id: string, p: Partial<Record<keyof WatchItem, unknown>>): Promise<void> {
    const iso = new Date(this.now()).toISOString();
    return this.o.journal.change((j) => {
      const it = j.items.find((i) => i.id === id);
      if (!it) return;
      const rec = it as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(p)) {
        if (v === undefined) delete rec[k];
        else rec[k] = v;
      }
      it.updatedAt = iso;
    });
  }

  private async queueNew(a: Arrival): Promise<void> {
    const reserved = new Set(this.o.journal.items().map((i) => i.name));
    const { id, name } = await this.o.steps.newIdentity(reserved);
    const iso = new Date(this.now()).toISOString();
    await this.o.journal.change((j) => {
      j.items.push({
        id,
        name,
        dropDir: a.dropDir,
        entry: a.entry,
        source: join(a.dropDir, a.entry),
        dev: a.dev,
        ino: a.ino,
        fingerprint: a.fingerprint,
        bytes: a.bytes,
        seq: j.nextSeq++,
        state: 'queued',
        attempts: 0,
        recorded: false,
        queuedAt: iso,
        updatedAt: iso,
      });
    });
    this.o.log.info(`queued "${a.entry}" as share "${name}"`, { item: a.entry, share: name, state: 'queued' });
    this.pump();
  }

  private async requeueNow(id: string, a: Arrival): Promise<void> {
    const it = this.item(id);
    if (!it) return;
    if (it.state !== 'queued') await this.o.steps.discard(it);
    await this.patch(id, {
      state: 'queued',
      fingerprint: a.fingerprint,
      bytes: a.bytes,
      attempts: 0,
      next: undefined,
      reason: undefined,
      code: undefined,
      retryAt: undefined,
      archive: undefined,
    });
    this.o.log.info(`"${a.entry}" changed before it was shared; it is queued again with its new content`, {
      item: a.entry,
      share: it.name,
      state: 'queued',
    });
  }

  private async dropNow(id: string, because: string): Promise<void> {
    const r = this.running.get(id);
    if (r) {
      r.cancel = { why: 'drop', because };
      r.ctrl.abort();
      return;
    }
    this.held.delete(id);
    const it = this.item(id);
    if (!it) return;
    await this.o.steps.discard(it);
    await this.o.journal.change((j) => {
      j.items = j.items.filter((i) => i.id !== id);
    });
    this.o.log.info(`dropped "${it.entry}": ${because}`, { item: it.entry, share: it.name, state: 'dropped' });
  }

  private pump(): void {
    if (this.stopped) return;
    const now = this.now();
    const items = this.o.journal.items();
    const skip = new Set([...this.running.keys(), ...this.held]);
    const count = (k: 'disk' | 'qbit') => [...this.running.values()].filter((r) => r.kind === k).length;
    const dropDir = this.o.dropDir;
    for (const it of pickRunnable(items, {
      now,
      dropDir,
      kind: 'disk',
      slots: this.o.concurrency - count('disk'),
      skip,
    }))
      this.launch(it.id, 'disk');
    for (const it of pickRunnable(items, {
      now,
      dropDir,
      kind: 'qbit',
      slots: (this.o.addParallel ?? 4) - count('qbit'),
      skip,
    }))
      this.launch(it.id, 'qbit');

    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const later = items.filter((i) => !skip.has(i.id) && i.retryAt !== undefined && Date.parse(i.retryAt) > now);
    const next = nextRetryAt(later, dropDir);
    if (next !== undefined) this.timer = setTimeout(() => this.pump(), Math.max(0, next - now) + 5);
  }

  private launch(id: string, kind: 'disk' | 'qbit'): void {
    const ctrl = new AbortController();
    if (this.o.signal.aborted) ctrl.abort();
    const run: Running = { kind, ctrl };
    this.running.set(id, run);
    const work = kind === 'disk' ? this.runDisk(id, run) : this.runQbit(id, run);
    run.done = work
      .catch((e: unknown) =>
        this.o.log.error(
          `drop-folder worker: unexpected error for item ${id}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
        ),
      )
      .finally(() => {
        this.running.delete(id);
        this.pump();
      });
  }

  private async runDisk(id: string, run: Running): Promise<void> {
    const { steps, log } = this.o;
    const signal = run.ctrl.signal;
    let step: StepName = 'archiving';
    try {
      let it = this.item(id);
      if (!it) return;
      if (it.state !== 'hashing') {
        if (!(await steps.sourcePresent(it))) {
          run.cancel = { why: 'drop', because: 'it is no longer in the drop folder' };
          throw new QshareError('INTERRUPTED', 'source gone');
        }
        await steps.resetArchive(it);
        checkpoint(signal);
        await this.patch(id, {
          state: 'archiving',
          next: undefined,
          retryAt: undefined,
          reason: undefined,
          code: undefined,
        });
        log.info(`archiving "${it.entry}" as "${it.name}.7z"`, { item: it.entry, share: it.name, state: 'archiving' });
        const t0 = this.now();
        const { archive } = await steps.archive(this.item(id)!, signal);
        checkpoint(signal);
        await this.patch(id, { state: 'hashing', archive, attempts: 0 });
        log.debug('archive made', { share: it.name, ms: this.now() - t0 });
      }
      step = 'hashing';
      it = this.item(id)!;
      const t = await steps.hash(it, signal);
      checkpoint(signal);
      await this.patch(id, { state: 'adding', recorded: true, attempts: 0, ...t });
      log.info(`"${it.entry}" is shared as "${it.name}"; handing it to qBittorrent`, {
        item: it.entry,
        share: it.name,
        state: 'adding',
        infoHash: t.infoHash,
      });
    } catch (e) {
      await this.stepFailed(id, step, e, run);
    }
  }

  private async runQbit(id: string, run: Running): Promise<void> {
    const { steps, log, gate } = this.o;
    const it = this.item(id);
    if (!it) return;
    try {
      if (gate.blocked) throw gate.blocked;
      if (it.state !== 'adding') await this.patch(id, { state: 'adding', next: undefined, retryAt: undefined });
      await steps.add(this.item(id)!, run.ctrl.signal);
      checkpoint(run.ctrl.signal);
      await this.patch(id, {
        state: 'seeding',
        attempts: 0,
        next: undefined,
        reason: undefined,
        code: undefined,
        retryAt: undefined,
      });
      log.info(`"${it.entry}" is seeding as "${it.name}"`, { item: it.entry, share: it.name, state: 'seeding' });
    } catch (e) {
      await this.stepFailed(id, 'adding', e, run);
    }
  }

  private async stepFailed(id: string, step: StepName, e: unknown, run: Running): Promise<void> {
    const { steps, log, gate } = this.o;
    const it = this.item(id);
    if (!it) return;
    if (run.cancel?.why === 'drop') {
      if (it.recorded) {
        // it became a share before the removal was seen: the share stays
        await this.patch(id, { sourceGone: true });
        return;
      }
      this.held.delete(id);
      await steps.discard(it);
      await this.o.journal.change((j) => {
        j.items = j.items.filter((i) => i.id !== id);
      });
      log.info(`dropped "${it.entry}": ${run.cancel.because}`, { item: it.entry, share: it.name, state: 'dropped' });
      return;
    }
    if (run.cancel?.why === 'requeue') {
      if (!it.recorded) await this.requeueNow(id, run.cancel.arrival);
      return;
    }
    if (run.ctrl.signal.aborted) {
      // stopping: what the completed steps recorded stands; this step starts again next time
      log.info(`stopped during ${step} of "${it.entry}"; it resumes at the next start`, {
        item: it.entry,
        share: it.name,
        state: it.state,
      });
      return;
    }
    const code = isQshareError(e) ? e.code : undefined;
    const reason = isQshareError(e) ? e.message : `unexpected error: ${e instanceof Error ? e.message : String(e)}`;
    if (!isQshareError(e)) log.debug('stack', { stack: e instanceof Error ? e.stack : String(e) });
    if (step === 'adding' && (code === 'QBIT_UNREACHABLE' || code === 'QBIT_AUTH')) gate.drop();
    const out = classifyStepError(step, code, step === 'adding' && gate.blocked !== undefined);
    if (out.state === 'waiting') {
      const attempts = it.attempts + 1;
      const delay =
        out.retry === 'never'
          ? undefined
          : backoffMs(
              attempts,
              this.retry.baseMs,
              out.retry === 'space' ? this.retry.spaceCapMs : this.retry.qbitCapMs,
            );
      await this.patch(id, {
        state: 'waiting',
        next: out.next,
        reason,
        code,
        attempts,
        retryAt: delay === undefined ? undefined : new Date(this.now() + delay).toISOString(),
      });
      const when =
        delay === undefined ? 'not before qshare watch is restarted' : `trying again in ${Math.round(delay / 1000)} s`;
      log.warn(`"${it.entry}" waits: ${reason} (${when})`, {
        item: it.entry,
        share: it.name,
        state: 'waiting',
        code: code ?? null,
      });
      return;
    }
    if (!it.recorded) await steps.discard(it);
    const hint = it.recorded
      ? ` Once that is fixed: qshare seed ${it.name}`
      : ' It is tried again when it changes (or when it is dropped in again).';
    await this.patch(id, {
      state: 'failed',
      reason,
      code,
      next: undefined,
      retryAt: undefined,
      ...(it.recorded ? {} : { archive: undefined }),
    });
    log.error(`could not share "${it.entry}": ${reason}.${hint}`, {
      item: it.entry,
      share: it.name,
      state: 'failed',
      code: code ?? null,
    });
    if (isQshareError(e) && e.hint) log.error(e.hint);
  }
}

function checkpoint(signal: AbortSignal): void {
  if (signal.aborted) throw new QshareError('INTERRUPTED', 'interrupted');
}
