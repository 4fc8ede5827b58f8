/**
 * The drop-folder queue's decisions, pure: what an item arriving or leaving means given the journal, which items
 * may run now, how long to wait before a retry, and what a failed step turns into. The worker (worker.ts) applies
 * them; tests drive them with tables.
 */
import type { ErrorCode } from '../errors.js';
import type { WatchItem } from '../state/journal.js';

/** An item the watcher reports complete. */
export interface Arrival {
  dropDir: string;
  entry: string;
  dev: number;
  ino: number;
  fingerprint: string;
  bytes: number;
}

export type ArrivalDecision =
  /** never seen (or only as something since removed): queue a new share */
  | { kind: 'new' }
  /** the same item with the same content: nothing to do */
  | { kind: 'known'; id: string }
  /** changed before it was shared (or after it failed): start it again from scratch with the new content */
  | { kind: 'requeue'; id: string }
  /** changed after it was shared: log it (once per new content), leave the share alone */
  | { kind: 'changed-after-shared'; id: string; firstNotice: boolean }
  /** a different file or folder now has the name of an item we know: the old one is gone, this one is new */
  | { kind: 'replaced'; id: string; recorded: boolean };

export type RemovalDecision =
  { kind: 'none' } | { kind: 'drop'; id: string } | { kind: 'gone-after-shared'; id: string };

/** The item a name in the drop folder currently stands for (the latest one whose source has not gone). */
export function activeItem(items: readonly WatchItem[], dropDir: string, entry: string): WatchItem | undefined {
  let best: WatchItem | undefined;
  for (const i of items)
    if (i.dropDir === dropDir && i.entry === entry && !i.sourceGone && (!best || i.seq > best.seq)) best = i;
  return best;
}

export function decideArrival(items: readonly WatchItem[], a: Arrival): ArrivalDecision {
  const cur = activeItem(items, a.dropDir, a.entry);
  if (!cur) return { kind: 'new' };
  if (cur.dev !== a.dev || cur.ino !== a.ino) return { kind: 'replaced', id: cur.id, recorded: cur.recorded };
  if (cur.fingerprint === a.fingerprint) return { kind: 'known', id: cur.id };
  if (cur.recorded)
    return { kind: 'changed-after-shared', id: cur.id, firstNotice: cur.changedNoticed !== a.fingerprint };
  return { kind: 'requeue', id: cur.id };
}

export function decideRemoval(items: readonly WatchItem[], dropDir: string, entry: string): RemovalDecision {
  const cur = activeItem(items, dropDir, entry);
  if (!cur) return { kind: 'none' };
  return cur.recorded ? { kind: 'gone-after-shared', id: cur.id } : { kind: 'drop', id: cur.id };
}

/** Which kind of work an item needs next, if any, at time `now`. */
export function workOf(i: WatchItem, now: number): 'disk' | 'qbit' | undefined {
  switch (i.state) {
    case 'queued':
    case 'archiving':
    case 'hashing':
      return 'disk';
    case 'adding':
      return 'qbit';
    case 'waiting':
      if (i.retryAt === undefined || Date.parse(i.retryAt) > now) return undefined;
      return i.next === 'adding' ? 'qbit' : 'disk';
    default:
      return undefined;
  }
}

/** Items to start now, oldest first: at most `slots` of the wanted kind, skipping running and held ones. */
export function pickRunnable(
  items: readonly WatchItem[],
  o: { now: number; dropDir: string; kind: 'disk' | 'qbit'; slots: number; skip: ReadonlySet<string> },
): WatchItem[] {
  if (o.slots <= 0) return [];
  return items
    .filter((i) => i.dropDir === o.dropDir && !o.skip.has(i.id) && workOf(i, o.now) === o.kind)
    .sort((a, b) => a.seq - b.seq)
    .slice(0, o.slots);
}

/** The earliest retryAt among waiting items (ms), to wake up for. */
export function nextRetryAt(items: readonly WatchItem[], dropDir: string): number | undefined {
  let min: number | undefined;
  for (const i of items) {
    if (i.dropDir !== dropDir || i.state !== 'waiting' || i.retryAt === undefined) continue;
    const t = Date.parse(i.retryAt);
    if (min === undefined || t < min) min = t;
  }
  return min;
}

/** Exponential backoff: base, 2×base, 4×base, … capped. `attempt` counts from 1. */
export function backoffMs(attempt: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, Math.min(30, attempt - 1)));
}

export type StepName = 'archiving' | 'hashing' | 'adding';

export type StepOutcome =
  /** try the step again later */
  | { state: 'waiting'; next: 'archiving' | 'adding'; retry: 'space' | 'qbit' | 'never' }
  /** give up on this item until it changes (or, once shared, until `qshare seed`) */
  | { state: 'failed' };

/**
 * What an error in a step means for the item. `qbitBlocked`: qBittorrent refused a login (or banned us, or rejects
 * our Host): qshare must not log in again before it is restarted, so such items wait without a retry time.
 */
export function classifyStepError(step: StepName, code: ErrorCode | undefined, qbitBlocked: boolean): StepOutcome {
  if (code === 'DISK_SPACE' || code === 'DISK_FULL')
    return { state: 'waiting', next: step === 'adding' ? 'adding' : 'archiving', retry: 'space' };
  if (step !== 'adding') return { state: 'failed' };
  if (qbitBlocked) return { state: 'waiting', next: 'adding', retry: 'never' };
  switch (code) {
    case 'QBIT_UNREACHABLE':
    case 'QBIT_TIMEOUT':
    case 'QBIT_AUTH': // a session lost after a successful login (qBittorrent restarted): one new login is safe
      return { state: 'waiting', next: 'adding', retry: 'qbit' };
    default:
      return { state: 'failed' };
  }
}
