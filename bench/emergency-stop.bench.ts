/**
 * Emergency stop on the embedded runtime: the time from raising it until every running experiment has finished its
 * rollback, with 100, 1000 and 5000 sandbox experiments running, and the control plane's memory with them all running. The targets are lightweight (in-process sandbox
 * replicas) but the faults and rollbacks are real: each experiment adds a latency rule for its own replica at the
 * sandbox proxy, and its rollback removes it.
 *
 * Run: npm run bench:estop   (a few minutes; `-- --counts 100` for one size)
 * Target: all 1000 rolled back within 2 s of the request, the time growing no faster than linearly with the count;
 * resident memory with 1000 running at most 500 MB (the sandbox's replicas run in this process too).
 */
import { LocalRuntime } from '../local/runtime.js';
import { createSandboxDriver } from '../local/sandbox/driver.js';
import { startSandbox } from '../local/sandbox/sandbox.js';

const countsArg = process.argv.indexOf('--counts');
const COUNTS = countsArg > 0 ? (process.argv[countsArg + 1] ?? '').split(',').map(Number) : [100, 1000, 5000];

async function measure(count: number): Promise<void> {
  const sandbox = await startSandbox({ replicas: count, replicaMode: 'in-process' });
  const runtime = await LocalRuntime.start({ drivers: [createSandboxDriver(sandbox)] });
  try {
    const replicaIds = sandbox.replicas().map((target) => target.labels.replica as string);
    const submittedAt = performance.now();
    const ids = await Promise.all(
      replicaIds.map(async (replica) => {
        const { id } = await runtime.submit({
          name: `estop-${replica}`,
          chaos_type: 'network_latency',
          target: { provider: 'sandbox', labels: { app: 'demo', replica } },
          // A long observation with a long interval: the experiments sit in OBSERVE, faults in place, until stopped.
          parameters: { latency_ms: 100, duration_seconds: 600 },
          safety: { timeout_seconds: 900, max_blast_radius: 1, health_check_interval: 300 },
        });
        return id;
      }),
    );
    // Every fault in place: one proxy rule per experiment.
    while (sandbox.proxy.rules().length < count) await new Promise((resolve) => setTimeout(resolve, 20));
    const injectedAfter = (performance.now() - submittedAt) / 1000;
    const runningMb = process.memoryUsage().rss / 2 ** 20;

    const pending = new Set(ids);
    const allFinished = new Promise<void>((resolve) =>
      runtime.bus.subscribe({ type: ['experiment.finished'] }, (event) => {
        pending.delete(event.experimentId);
        if (pending.size === 0) resolve();
      }),
    );
    const started = performance.now();
    await runtime.emergencyStop('benchmark');
    await allFinished;
    const seconds = (performance.now() - started) / 1000;

    const records = await Promise.all(ids.map((id) => runtime.store.getExperiment(id)));
    const stopped = records.filter((r) => r.status === 'emergency_stopped').length;
    const rulesLeft = sandbox.proxy.rules().length;
    console.log(
      `${String(count).padStart(5)} experiments: all rolled back ${seconds.toFixed(2)} s after the stop ` +
        `(${(count / seconds).toFixed(0)}/s); ${stopped} emergency_stopped, ${rulesLeft} fault(s) left; ` +
        `starting them and injecting took ${injectedAfter.toFixed(1)} s; resident memory with all running ${runningMb.toFixed(0)} MB`,
    );
    if (stopped !== count || rulesLeft !== 0) throw new Error('some experiments were not stopped and rolled back');
  } finally {
    await runtime.stop();
    await sandbox.stop();
  }
}

console.log(`node ${process.version}, ${process.platform} ${process.arch}`);
for (const count of COUNTS) await measure(count);
