/**
 * `qshare seed NAME --until-done`: watches one share with a ShareObserver, often while anything moves and less often
 * when idle, until it is done (its --recipients reached), stopped by qBittorrent (a share limit), or gone. The CLI
 * renders each look and the end; the decisions are here.
 */
import { sleep } from '../abort.js';
import { QshareError } from '../errors.js';
import type { Logger } from '../log.js';
import type { QbitSession } from '../qbit/session.js';
import type { StateStore } from '../state/store.js';
import type { ShareRecord } from '../state/types.js';
import { piecesFromTorrentFile, ShareObserver, type ShareStatus } from './observe.js';

export interface UntilDoneDeps {
  store: StateStore;
  log: Logger;
  session: QbitSession;
  signal: AbortSignal;
  /** how often to look, in ms (default: the observer's own pace) */
  pollMs?: number;
  /** each look, for a live line */
  onLook?: (s: ShareStatus) => void;
  /** the share's relays, counted too */
  relay?: (name: string) => Promise<QbitSession>;
}

/** How a watched share ended, or undefined while it goes on. Pure. */
export function endOf(s: ShareStatus): 'done' | 'stopped' | 'lost' | undefined {
  switch (s.state) {
    case 'done':
      return 'done';
    case 'stopped':
      return 'stopped';
    case 'not-in-qbittorrent':
    case 'missing':
    case 'error':
      return 'lost';
    default:
      return undefined;
  }
}

/** Looks until the share ends; returns its last status. Ctrl-C: INTERRUPTED (qBittorrent keeps seeding). */
export async function seedUntilDone(deps: UntilDoneDeps, first: ShareRecord): Promise<ShareStatus> {
  const observer = new ShareObserver(
    {
      store: deps.store,
      log: deps.log,
      now: () => new Date(),
      pieces: piecesFromTorrentFile,
      ...(deps.relay ? { relay: deps.relay } : {}),
    },
    true,
  );
  let share = first;
  for (;;) {
    const [s] = (await observer.look(deps.session, [share])) as [ShareStatus];
    share = s.share;
    deps.onLook?.(s);
    if (endOf(s)) return s;
    await sleep(
      deps.pollMs ?? observer.nextDelayMs(),
      deps.signal,
      () => new QshareError('INTERRUPTED', 'stopped watching; qBittorrent keeps seeding'),
    );
  }
}

/** Seeding a finished share again on purpose: its recipients target no longer applies. Returns the record without it. */
export async function forgetTarget(store: StateStore, share: ShareRecord, now: () => Date): Promise<ShareRecord> {
  await store.update((s) => {
    const r = s.shares.find((x) => x.id === share.id);
    if (!r) return;
    delete r.doneAt;
    delete r.recipients;
    r.updatedAt = now().toISOString();
  });
  const { doneAt: _d, recipients: _r, ...rest } = share;
  return rest;
}
