/**
 * Waiting on a cloud or cluster API until something holds: faults that take effect (an instance stopping) or come
 * back (a Deployment's ready replicas, an agent container exiting) are polled, never watched, so a revert can run from
 * any process with nothing but the stored intent.
 */
export interface PollOptions {
  signal: AbortSignal;
  /** Give up after this long. */
  timeoutMs: number;
  /** Wait this long between checks (the first check is immediate). */
  intervalMs: number;
  /** For the timeout message: what was awaited. */
  what: string;
}

/**
 * Calls `check` until it returns a value other than undefined, sleeping `intervalMs` between calls. Rejects with the
 * signal's reason when aborted, and with an Error naming `what` and the last observation when the time is up.
 */
export async function pollUntil<T>(check: () => Promise<T | undefined>, { signal, timeoutMs, intervalMs, what }: PollOptions, describe?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal.throwIfAborted();
    const result = await check();
    if (result !== undefined) return result;
    if (Date.now() + intervalMs > deadline) {
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}${describe ? ` (${describe()})` : ''}`);
    }
    await sleep(intervalMs, signal);
  }
}

/** setTimeout as a promise that rejects with the signal's reason when aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
