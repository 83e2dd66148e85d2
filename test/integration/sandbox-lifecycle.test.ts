/**
 * The embedded runtime end to end against the sandbox: SQLite on disk, the real ASL files and handlers, real
 * replica processes, proxy faults and stress workers. Each fault must be gone when the experiment ends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime.js';
import { createSandboxDriver } from '../../local/sandbox/driver.js';
import { startSandbox, type Sandbox } from '../../local/sandbox/sandbox.js';
import { findStressWorkers, stressMarker } from '../../local/sandbox/stress.js';
import { TargetLeasedError } from '../../shared/errors.js';

describe('embedded runtime against the sandbox', () => {
  let dataDir: string;
  let sandbox: Sandbox;
  let runtime: LocalRuntime;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'chaosduck-e2e-'));
    sandbox = await startSandbox({ replicas: 2, restartDelayMs: 100 });
    runtime = await LocalRuntime.start({ dataDir, drivers: [createSandboxDriver(sandbox)] });
  });
  afterAll(async () => {
    await runtime?.stop();
    await sandbox?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const probe = (maxLatencyMs: number) => ({
    name: 'fast-enough',
    type: 'http',
    mode: 'continuous',
    properties: { url: `${sandbox.url}/health`, max_latency_ms: maxLatencyMs, timeout_ms: 3000 },
  });

  it('halts a run whose latency fault breaks the steady state, then removes the fault', async () => {
    const record = await runtime.run({
      name: 'slow-everything',
      chaos_type: 'network_latency',
      target: { provider: 'sandbox', labels: { app: 'demo' }, selection: 'ALL' },
      parameters: { latency_ms: 600, duration_seconds: 20 },
      safety: { max_blast_radius: 1, health_check_interval: 1, health_check_failure_threshold: 2, timeout_seconds: 60 },
      probes: [probe(300)],
    });

    expect(record.status).toBe('rolled_back');
    expect(record.reason).toBe('HealthCheckThresholdError');
    expect(record.deviated).toBe(true);
    const journal = (await runtime.journal(record.id)) as { rollbacks: { status: string; output: { removed: boolean } }[] };
    expect(journal.rollbacks).toHaveLength(2);
    expect(journal.rollbacks.every((r) => r.status === 'succeeded' && r.output.removed)).toBe(true);
    expect(sandbox.proxy.rules()).toEqual([]);
    const started = performance.now();
    const response = await fetch(`${sandbox.url}/health`);
    expect(response.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(600);
  });

  it('runs a memory fault to completion and leaves no worker behind', async () => {
    const record = await runtime.run({
      name: 'hold-memory',
      chaos_type: 'memory_stress',
      target: { provider: 'sandbox', labels: { app: 'demo' } },
      parameters: { memory_mb: 64, duration_seconds: 2 },
      safety: { max_blast_radius: 0.5, health_check_interval: 1 },
      probes: [probe(2000)],
    });

    expect(record.status).toBe('completed');
    expect(findStressWorkers(stressMarker(record.id, 1))).toEqual([]);
    const journal = (await runtime.journal(record.id)) as { run: { output: { pids: number[] } }[]; rollbacks: { activity: { provider: { action: string } } }[] };
    expect(journal.run[0]?.output.pids).toHaveLength(1);
    expect(journal.rollbacks[0]?.activity.provider.action).toBe('stop_stress_workers');
  });

  it('refuses a second experiment on a target that another one holds', async () => {
    const spec = (name: string) => ({
      name,
      chaos_type: 'cpu_stress',
      target: { provider: 'sandbox', labels: { app: 'demo' }, selection: 'ALL' },
      parameters: { cpu_cores: 1, cpu_load_percent: 10, duration_seconds: 3 },
      safety: { max_blast_radius: 1, health_check_interval: 1 },
    });
    const first = await runtime.submit(spec('first'));
    // Wait until the first one holds its targets before starting the second.
    await new Promise<void>((resolve) => {
      const off = runtime.bus.subscribe({ type: ['fault.planned'], experimentId: [first.id] }, () => {
        off();
        resolve();
      });
    });
    // ALL of a pool whose every target is held: refused when submitted, with nothing stored.
    const refused = await runtime.submit(spec('second')).catch((error: unknown) => error);
    const firstRecord = await runtime.waitFor(first.id);

    expect(refused).toBeInstanceOf(TargetLeasedError);
    expect((refused as Error).message).toMatch(/^every matching target is held by another experiment \(sandbox\/demo\/replica-\d by exp-/);
    expect((await runtime.store.listExperiments({})).items.map((r) => r.spec.name)).not.toContain('second');
    expect(firstRecord.status).toBe('completed');
  });
});
