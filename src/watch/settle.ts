/**
 * When is a dropped item complete? The clock-free core of the drop-folder watcher: no I/O, no timers; the shell
 * (watcher.ts) feeds it filesystem events and tree fingerprints with the time they happened, and asks it what to
 * fingerprint next and what is ready.
 *
 * An item is ready when two fingerprints of its whole tree (every path, type, size and mtime), taken at least
 * `settleMs` apart, are equal and no filesystem event touched the tree in between. Events only make the core notice
 * activity sooner; the fingerprints alone would also catch a change the events missed (network filesystems,
 * exhausted inotify watches).
 *
 *   active ──(quiet for quietMs)──▶ fingerprint F1 ──▶ stable ──(settleMs later)──▶ fingerprint F2
 *      ▲                                                  │                        F2 = F1 → ready (reported once)
 *      └────────────────── any event ─────────────────────┘                        F2 ≠ F1 → stable again from F2
 *
 * After an item was reported, new activity starts the cycle again; it is reported again only with a different
 * fingerprint (the caller decides what a change means for an item already queued or shared).
 */
export interface SettleOptions {
  /** how long the tree must stay unchanged */
  settleMs: number;
  /** how long events must pause before the first fingerprint is taken; default min(1000, settleMs / 2) */
  quietMs?: number;
}

export type Observation =
  /** not settled yet: look again later (nextDueAt) */
  | 'waiting'
  /** settled with a fingerprint not reported before: hand it on */
  | 'ready'
  /** settled, but exactly as already reported: nothing to do */
  | 'unchanged'
  /** the item is not tracked (it was removed meanwhile): ignore the fingerprint */
  | 'stale';

type Phase = 'active' | 'stable' | 'reported';

interface Track {
  phase: Phase;
  lastEventAt: number;
  /** fingerprint that started the current stable run */
  fp?: string;
  stableSince?: number;
  /** fingerprint last reported as ready */
  reportedFp?: string;
  /** a fingerprint was requested at this time and its result is not in yet */
  checkingSince?: number;
}

export class SettleTracker {
  private readonly settleMs: number;
  private readonly quietMs: number;
  private readonly tracks = new Map<string, Track>();

  constructor(opts: SettleOptions) {
    if (!(opts.settleMs >= 0)) throw new RangeError('settleMs must be ≥ 0');
    this.settleMs = opts.settleMs;
    this.quietMs = opts.quietMs ?? Math.min(1000, opts.settleMs / 2);
  }

  /** Something changed in the item's tree (or the item appeared). */
  activity(item: string, now: number): void {
    const t = this.tracks.get(item);
    if (!t) {
      this.tracks.set(item, { phase: 'active', lastEventAt: now });
      return;
    }
    t.phase = 'active';
    t.lastEventAt = Math.max(t.lastEventAt, now);
  }

  /** The item is gone from the drop folder. */
  removed(item: string): void {
    this.tracks.delete(item);
  }

  has(item: string): boolean {
    return this.tracks.has(item);
  }

  phaseOf(item: string): Phase | undefined {
    return this.tracks.get(item)?.phase;
  }

  /** Items whose tree should be fingerprinted now; each is marked as being checked until observed() is called. */
  takeDue(now: number): string[] {
    const due: string[] = [];
    for (const [item, t] of this.tracks) {
      if (t.checkingSince !== undefined) continue;
      const at = this.dueAt(t);
      if (at !== undefined && now >= at) {
        t.checkingSince = now;
        due.push(item);
      }
    }
    return due;
  }

  /** The result of a fingerprint requested by takeDue(), completed at `now`. */
  observed(item: string, fp: string, now: number): Observation {
    const t = this.tracks.get(item);
    if (!t) return 'stale';
    const started = t.checkingSince ?? now;
    t.checkingSince = undefined;
    if (t.phase === 'active') {
      // An event during the walk means the fingerprint may describe a tree in motion: wait for quiet again.
      if (t.lastEventAt >= started) return 'waiting';
      t.phase = 'stable';
      t.fp = fp;
      t.stableSince = now;
      return 'waiting';
    }
    if (t.phase === 'reported') return 'unchanged';
    if (fp !== t.fp) {
      t.fp = fp;
      t.stableSince = now;
      return 'waiting';
    }
    t.phase = 'reported';
    if (fp === t.reportedFp) return 'unchanged';
    t.reportedFp = fp;
    return 'ready';
  }

  /** The earliest time takeDue() will return something, or undefined when nothing is pending. */
  nextDueAt(): number | undefined {
    let min: number | undefined;
    for (const t of this.tracks.values()) {
      if (t.checkingSince !== undefined) continue;
      const at = this.dueAt(t);
      if (at !== undefined && (min === undefined || at < min)) min = at;
    }
    return min;
  }

  private dueAt(t: Track): number | undefined {
    if (t.phase === 'active') return t.lastEventAt + this.quietMs;
    if (t.phase === 'stable') return (t.stableSince as number) + this.settleMs;
    return undefined;
  }
}
