/**
 * The long-running watch on shares with a `--recipients` target (run by `qshare watch`): looks at them with one
 * ShareObserver, often while peers are connected and less often when idle, and so stops each one once its
 * recipients have it, with nobody running `qshare ls`. Ends when the signal aborts.
 */
import { sleep } from '../abort.js';
import type { Logger } from '../log.js';
import type { QbitSession } from '../qbit/client.js';
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
  return shares.filter((s) => s.recipients !== undefined && !s.doneAt && s.state !== 'stopped' && s.state !== 'created');
}

export async function runAutoStop(deps: AutoStopDeps): Promise<void> {
  const observer = new ShareObserver(deps, true);
  let failures = 0;
  while (!deps.signal.aborted) {
    let delay: number;
    try {
      const shares = awaitingRecipients(await deps.store.list());
      if (shares.length > 0) await observer.look(await deps.session(), shares);
      delay = shares.length > 0 ? observer.nextDelayMs() : 2_000;
      failures = 0;
    } catch (e) {
      // qBittorrent away or the state locked: said once, then looked at again less often
      if (failures++ === 0) deps.log.warn(`could not look at the shares' recipients: ${(e as Error).message}`);
      delay = Math.min(30_000, 2_000 * failures);
    }
    await sleep(delay, deps.signal, () => new Error('stopped')).catch(() => {});
  }
}
