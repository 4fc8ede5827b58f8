/**
 * Waits `ms`, or rejects with `reason()` as soon as `signal` aborts (at once if it already has). The one abortable
 * pause the polling loops share; each caller words its own INTERRUPTED error.
 */
export function sleep(ms: number, signal: AbortSignal | undefined, reason: () => Error): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(reason());
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    const onAbort = () => {
      clearTimeout(timer);
      reject(reason());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
