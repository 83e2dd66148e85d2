/**
 * Control-plane overhead of the lifecycle on the embedded runtime (SQLite in memory, the real ASL files, the real
 * handlers), with an in-memory fault so only the control plane is measured:
 *
 *   1. latency     — one no-op experiment at a time through all five phases: ms per experiment (median, p95)
 *   2. throughput  — 100 no-op experiments at once, each on its own target: experiments per second
 *   3. calls       — store calls one no-op experiment makes, by operation (each one a DynamoDB call in AWS)
 *   4. transitions — state transitions (what Step Functions bills) for a default experiment with two http probes,
 *                    one fault and a 30 s observation at a 10 s interval; this one runs in real time (~30 s)
 *
 * Run: npm run bench  (or `npm run bench -- --quick` to skip the 30 s transition run)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LocalRuntime } from '../local/runtime.js';
import { MemoryDriver } from '../test/support/memory-driver.js';

const SEQUENTIAL = 200;
const WARMUP = 20;
const CONCURRENT = 100;
const ROUNDS = 5;

const noop = (slot: number) => ({
  name: `noop-${slot}`,
  chaos_type: 'pod_delete',
  target: { provider: 'memory', labels: { app: 'demo', slot: String(slot) } },
  parameters: { duration_seconds: 0 },
  safety: { max_blast_radius: 1 },
  ai_enabled: false,
});

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function latency(): Promise<void> {
  const runtime = await LocalRuntime.start({ drivers: [new MemoryDriver({ targets: 1, labelsOf: () => ({ slot: '0' }) })] });
  try {
    const times: number[] = [];
    for (let i = 0; i < WARMUP + SEQUENTIAL; i++) {
      const started = performance.now();
      const record = await runtime.run(noop(0));
      if (record.status !== 'completed') throw new Error(`no-op experiment ended ${record.status}: ${record.reason}`);
      if (i >= WARMUP) times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    console.log(`latency: ${SEQUENTIAL} sequential no-op experiments (after ${WARMUP} warm-up)`);
    console.log(`  median ${percentile(times, 50).toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms, min ${times[0]?.toFixed(1)} ms`);
  } finally {
    await runtime.stop();
  }
}

async function throughput(): Promise<void> {
  const driver = new MemoryDriver({ targets: CONCURRENT, labelsOf: (i) => ({ slot: String(i) }) });
  const runtime = await LocalRuntime.start({ drivers: [driver] });
  try {
    await Promise.all(Array.from({ length: 10 }, (_, i) => runtime.run(noop(i + 1))));
    const rates: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now();
      const records = await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => runtime.run(noop(i + 1))));
      const seconds = (performance.now() - started) / 1000;
      const bad = records.filter((r) => r.status !== 'completed');
      if (bad.length > 0) throw new Error(`${bad.length} experiments did not complete, e.g. ${bad[0]?.status} ${bad[0]?.reason}`);
      rates.push(CONCURRENT / seconds);
    }
    if (driver.faulted().length > 0) throw new Error('targets left faulted');
    rates.sort((a, b) => a - b);
    console.log(`throughput: ${CONCURRENT} no-op experiments at once, ${ROUNDS} rounds`);
    console.log(`  median ${percentile(rates, 50).toFixed(0)} experiments/s (min ${rates[0]?.toFixed(0)}, max ${rates.at(-1)?.toFixed(0)})`);
  } finally {
    await runtime.stop();
  }
}

async function calls(): Promise<void> {
  const runtime = await LocalRuntime.start({ drivers: [new MemoryDriver({ targets: 1, labelsOf: () => ({ slot: '0' }) })] });
  try {
    await runtime.run(noop(0));
    const counts: Record<string, number> = {};
    // Every call the lifecycle makes through the store port (the adapter's calls to itself are not counted).
    const store = runtime.deps.store;
    runtime.deps.store = new Proxy(store, {
      get(target, name) {
        const value = Reflect.get(target, name) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          counts[String(name)] = (counts[String(name)] ?? 0) + 1;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const cpu = process.cpuUsage();
    await runtime.run(noop(0));
    const used = process.cpuUsage(cpu);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    console.log(`calls: one no-op experiment makes ${total} store calls`);
    console.log(`  ${Object.entries(counts).map(([op, n]) => `${op} ${n}`).join(', ')}`);
    console.log(`  control-plane process CPU for it: ${((used.user + used.system) / 1000).toFixed(1)} ms`);
  } finally {
    await runtime.stop();
  }
}

async function transitions(): Promise<void> {
  const server = createServer((_, res) => res.end('ok')).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const runtime = await LocalRuntime.start({ drivers: [new MemoryDriver({ targets: 1 })], countTransitions: true });
  try {
    const record = await runtime.run({
      name: 'default-shape',
      chaos_type: 'pod_delete',
      target: { provider: 'memory', labels: { app: 'demo' } },
      parameters: { duration_seconds: 30 },
      safety: { max_blast_radius: 1, health_check_interval: 10 },
      probes: [
        { name: 'home', type: 'http', properties: { url } },
        { name: 'health', type: 'http', properties: { url } },
      ],
    });
    console.log('transitions: two http probes, one fault, 30 s observation at a 10 s interval');
    console.log(`  ${await runtime.stateTransitions(record.id)} state transitions (status ${record.status})`);
  } finally {
    await runtime.stop();
    server.close();
  }
}

console.log(`node ${process.version}, ${process.platform} ${process.arch}`);
await latency();
await throughput();
await calls();
if (!process.argv.includes('--quick')) await transitions();
