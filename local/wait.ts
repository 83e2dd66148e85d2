import { setTimeout as sleep } from 'node:timers/promises';

export interface PollOptions {
  timeoutMs: number;
  /** Named in the timeout error, e.g. `demo to have 3 ready replicas`. */
  what: string;
  signal?: AbortSignal;
  intervalMs?: number;
}

/** Resolves once `done()` holds; rejects on timeout or abort. Polling keeps callers free of event plumbing. */
export async function pollUntil(done: () => boolean, { timeoutMs, what, signal, intervalMs = 25 }: PollOptions): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    if (done()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs, undefined, { signal });
  }
}
