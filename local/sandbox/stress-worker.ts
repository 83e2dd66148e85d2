/**
 * A stress process for cpu_stress and memory_stress. It runs detached from the control plane so the fault is real
 * load on the machine, and therefore it must end itself: it exits at `--ends-at` whatever happens to its parent
 * (the dead-man's switch). Its `--chaosduck-stress=<experimentId>:<rollbackSeq>` argument lets revert find it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const MIB = 1024 * 1024;
/** Duty-cycle period: short enough to look like steady load to a sampler, long enough to be cheap. */
const PERIOD_MS = 100;
/** Allocation chunk: far below Buffer's size limit, and each chunk is touched before the next is taken. */
const CHUNK_MB = 64;
const PAGE = 4096;

const { values } = parseArgs({
  options: {
    'chaosduck-stress': { type: 'string' },
    target: { type: 'string' },
    kind: { type: 'string' },
    'ends-at': { type: 'string' },
    'load-percent': { type: 'string', default: '100' },
    'memory-mb': { type: 'string', default: '0' },
  },
});
const endsAt = Number(values['ends-at']);
if (!Number.isFinite(endsAt)) throw new Error('--ends-at=<epoch ms> is required');
// Exit on time even if the work below never yields (a 100 % busy loop checks the clock itself as well).
setTimeout(() => process.exit(0), Math.max(0, endsAt - Date.now()));

if (values.kind === 'cpu') {
  const busyMs = (PERIOD_MS * Math.min(100, Math.max(1, Number(values['load-percent'])))) / 100;
  for (;;) {
    const periodStart = Date.now();
    if (periodStart >= endsAt) process.exit(0);
    while (Date.now() - periodStart < busyMs && Date.now() < endsAt) {
      // spin
    }
    await sleep(Math.max(0, PERIOD_MS - busyMs));
  }
} else if (values.kind === 'memory') {
  const held: Buffer[] = [];
  for (let remaining = Number(values['memory-mb']); remaining > 0; remaining -= CHUNK_MB) {
    // Filling with a non-zero byte makes the kernel back every page, so RSS really grows.
    held.push(Buffer.allocUnsafe(Math.min(CHUNK_MB, remaining) * MIB).fill(0xa5));
  }
  // Re-touching a byte per page keeps the memory resident (and referenced) until the exit timer ends the hold.
  setInterval(() => {
    for (const buffer of held) for (let offset = 0; offset < buffer.length; offset += PAGE) buffer[offset] = 0xa5;
  }, 1000);
} else {
  throw new Error(`--kind must be cpu or memory, not ${values.kind}`);
}
