/**
 * `GET /metrics` on the local server: Prometheus' text format, counting what the runtime's experiments did — starts,
 * ends by status, faults, rollback steps, probe durations, halts, and the time to safe after an emergency stop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime.js';
import { startServer, type LocalServer } from '../../local/server.js';
import { httpProbe, startHealthServer } from '../statemachines/support.js';
import { MemoryDriver } from '../support/memory-driver.js';

const TOKEN = 'metrics-token';

describe('GET /metrics', () => {
  let runtime: LocalRuntime;
  let server: LocalServer;
  beforeAll(async () => {
    runtime = await LocalRuntime.start({ drivers: [new MemoryDriver({ targets: 4, labelsOf: (i) => ({ slot: String(i) }) })] });
    server = await startServer({ runtime, token: TOKEN, port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await runtime?.stop();
  });

  const experiment = (slot: number, fields: Record<string, unknown> = {}) => ({
    name: `metrics-${slot}`,
    chaos_type: 'pod_delete',
    target: { provider: 'memory', labels: { slot: String(slot) } },
    parameters: { duration_seconds: 0 },
    safety: { max_blast_radius: 1 },
    ...fields,
  });
  const scrape = async () => {
    const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
  };
  /** The value of one sample line, e.g. `chaosduck_faults_applied_total{chaos_type="pod_delete"}`. */
  const sample = (text: string, line: string) => Number(text.split('\n').find((l) => l.startsWith(`${line} `))?.slice(line.length + 1) ?? Number.NaN);

  it('needs the token, as every route but /health', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
  });

  it('counts what the experiments did, by the names both Prometheus and CloudWatch use', async () => {
    const health = await startHealthServer();
    try {
      await runtime.run(experiment(1, { probes: [httpProbe('health', health.url('/health'), 'continuous')] }));
      health.status.set('/health', 503);
      const halted = await runtime.run(experiment(2, { parameters: { duration_seconds: 10 }, safety: { max_blast_radius: 1, timeout_seconds: 60, health_check_interval: 1, health_check_failure_threshold: 1 }, probes: [httpProbe('health', health.url('/health'), 'on_chaos')] }));

      const { status, type, text } = await scrape();

      expect(halted.deviated).toBe(true);
      expect(status).toBe(200);
      expect(type).toContain('text/plain');
      expect(sample(text, 'chaosduck_experiments_started_total{chaos_type="pod_delete"}')).toBe(2);
      expect(sample(text, 'chaosduck_experiments_finished_total{status="completed",chaos_type="pod_delete"}')).toBe(1);
      expect(sample(text, 'chaosduck_faults_applied_total{chaos_type="pod_delete"}')).toBe(2);
      expect(sample(text, 'chaosduck_rollback_steps_total{outcome="done"}')).toBe(2);
      expect(sample(text, 'chaosduck_auto_halts_total{cause="failed_health_checks"}')).toBe(1);
      expect(sample(text, 'chaosduck_probe_duration_seconds_count{probe_type="http",within_tolerance="true"}')).toBeGreaterThanOrEqual(2);
      expect(sample(text, 'chaosduck_probe_duration_seconds_count{probe_type="http",within_tolerance="false"}')).toBeGreaterThanOrEqual(1);
      expect(text).toContain('# HELP chaosduck_experiments_finished_total Experiments that ended, by final status and chaos type');
      expect(text).toContain('chaosduck_process_resident_memory_bytes');
    } finally {
      await health.close();
    }
  });

  it('observes how long after an emergency stop each running experiment was safe', async () => {
    const running = await runtime.submit(experiment(3, { parameters: { duration_seconds: 60 }, safety: { max_blast_radius: 1, timeout_seconds: 120 } }));
    await new Promise((resolve) => setTimeout(resolve, 300));

    await runtime.emergencyStop('metrics test');
    await runtime.settleFanOuts();
    await runtime.waitFor(running.id);
    await runtime.liftEmergencyStop();
    const { text } = await scrape();

    expect(sample(text, 'chaosduck_experiments_finished_total{status="emergency_stopped",chaos_type="pod_delete"}')).toBe(1);
    expect(sample(text, 'chaosduck_emergency_stop_time_to_safe_seconds_count')).toBe(1);
    expect(sample(text, 'chaosduck_emergency_stop_time_to_safe_seconds_sum')).toBeGreaterThanOrEqual(0);
  });
});
