/**
 * The long-running watch on shares with a `--recipients` target (run by `qshare watch`): looks at them with one
 * ShareObserver, often while peers are connected and less often when idle, and so stops each one once its
 * recipients have it, with nobody running `qshare ls`. Ends when the signal aborts.
 */
import { sleep } from '../abort.js';
import type { Logger } from '../log.js';
import type { QbitSession } from '../qbit/session.js';
import type { StateStore } from '../state/store.js';
import type { ShareRecord } from '../state/types.js';
import { ShareObserver, type ObserveDeps } from './observe.js';

export interface AutoStopDeps extends ObserveDeps {
  store: StateStore;
  log: Logger;
  /** the current qBittorrent session (the watch's gate) */
  session: () => Promise<QbitSession>;
  signal: AbortSignal;
}

/** Shares still waiting for their recipients. Pure. */
export function awaitingRecipients(shares: ShareRecord[]): ShareRecord[] {
  return shares.filter(
    (s) => s.recipients !== undefined && !s.doneAt && s.state !== 'stopped' && s.state !== 'created',
  );
}

/** How often the list of shares is read between looks: a new share gets its first look within this. */
export const NEW_SHARE_MS = 500;

export async function runAutoStop(deps: AutoStopDeps): Promise<void> {
  const observer = new ShareObserver(deps, true);
  const known = new Set<string>();
  let failures = 0;
  let nextLook = 0;
  while (!deps.signal.aborted) {
    let wait: number;
    try {
      const shares = awaitingRecipients(await deps.store.list());
      // a share seen for the first time is looked at at once: the bytes sent before the first look count for nobody
      const fresh = shares.some((sh) => !known.has(sh.id));
      if (shares.length > 0 && (fresh || Date.now() >= nextLook)) {
        await observer.look(await deps.session(), shares);
        for (const sh of shares) known.add(sh.id);
        nextLook = Date.now() + observer.nextDelayMs();
      }
      // the next look is never sooner than the observer asked (≥ 250 ms after a look)
      wait = shares.length > 0 ? Math.min(NEW_SHARE_MS, Math.max(0, nextLook - Date.now())) : NEW_SHARE_MS;
      failures = 0;
    } catch (e) {
      // qBittorrent away or the state locked: said once, then looked at again less often
      if (failures++ === 0) deps.log.warn(`could not look at the shares' recipients: ${(e as Error).message}`);
      wait = Math.min(30_000, 2_000 * failures);
    }
    await sleep(wait, deps.signal, () => new Error('stopped')).catch(() => {});
  }
}
