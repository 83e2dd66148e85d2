/**
 * The `prometheus` probe against a REAL Prometheus server (test/support/prometheus.ts) that scrapes, every second, a
 * metrics endpoint this test serves with prom-client: the test sets gauges, waits until Prometheus has scraped them,
 * then runs the probe. The last tests run whole experiments on the embedded runtime against the sandbox: a probe in
 * every mode, and a Prometheus stop condition that halts OBSERVE and rolls the fault back.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gauge, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as z from 'zod';
import { LocalRuntime } from '../../local/runtime.js';
import { createSandboxDriver } from '../../local/sandbox/driver.js';
import { startSandbox, type Sandbox } from '../../local/sandbox/sandbox.js';
import type { ActivityRecord } from '../../shared/journal/activity.js';
import { prometheusProbeProperties, type PrometheusProbe } from '../../shared/model/experiment.js';
import { REDACTED, firedStopConditions, runProbe } from '../../shared/probes/index.js';
import type { ProbeEnvironment } from '../../shared/probes/probe.js';
import { freePort } from '../support/net.js';
import {
  PROMETHEUS_START_TIMEOUT_MS,
  prometheusBinary,
  resultValue,
  serveMetrics,
  startPrometheus,
  type MetricsEndpoint,
  type PrometheusServer,
} from '../support/prometheus.js';
import { runCli } from '../support/cli.js';
import { nextEvent } from '../statemachines/support.js';

const binary = prometheusBinary();
const skip = 'skip' in binary ? binary.skip : undefined;
if (skip) console.warn(`prometheus probe tests skipped: ${skip}`);

/** The user and password basic auth is turned on with, and the password's bcrypt hash (cost 4) as Prometheus keeps it. */
const DUCK = { user: 'duck', password: 'quack-quack', bcryptHash: '$2b$04$VUMkZdxYx26jaJBdMVhBWerbOgnk.EK0brpKAvUvwtSAlXDcG.orq' };

describe.skipIf(skip !== undefined)('prometheus probe against a real Prometheus', () => {
  const registry = new Registry();
  const gauge = (name: string, labelNames: string[] = []) => new Gauge({ name, help: `${name}, set by the test`, labelNames, registers: [registry] });
  const level = gauge('chaosduck_test_level');
  const latency = gauge('chaosduck_test_latency_seconds', ['route']);
  const queue = gauge('chaosduck_test_queue_depth', ['queue']);
  const orders = gauge('chaosduck_test_orders_errors');
  let metrics: MetricsEndpoint;
  let prometheus: PrometheusServer;
  /** `job` and `instance`, as Prometheus adds them to every scraped series. */
  let scraped: string;

  beforeAll(async () => {
    level.set(0.5);
    for (const [route, seconds] of [['/a', 0.01], ['/b', 0.3], ['/c', 0.02], ['/d', 0.25]] as const) latency.set({ route }, seconds);
    queue.set({ queue: 'orders' }, 3);
    orders.set(0);
    metrics = await serveMetrics(registry);
    scraped = `instance="${metrics.target}", job="app"`;
    prometheus = await startPrometheus({ binary: (binary as { path: string }).path, targets: [metrics.target] });
  }, PROMETHEUS_START_TIMEOUT_MS);

  afterAll(async () => {
    await prometheus?.stop();
    await metrics?.close();
  });

  const probe = (properties: Omit<z.input<typeof prometheusProbeProperties>, 'url'> & { url?: string }, name = 'metric'): PrometheusProbe => ({
    name,
    mode: 'continuous',
    type: 'prometheus',
    properties: prometheusProbeProperties.parse({ url: prometheus.url, ...properties }),
  });
  const env = (runtime: ProbeEnvironment['runtime'] = 'local'): ProbeEnvironment => ({ runtime, signal: new AbortController().signal });
  const output = (record: ActivityRecord) => record.output as { value: number | null; failures: string[]; series: { labels: Record<string, string> }[] };

  describe('judging the value', () => {
    it.each([
      [{ equals: 0.5 }, undefined],
      [{ equals: 1 }, '= 1'],
      [{ lt: 1 }, undefined],
      [{ lt: 0.5 }, '< 0.5'],
      [{ gt: 0 }, undefined],
      [{ gt: 0.5 }, '> 0.5'],
      [{ gt: 0, lt: 1 }, undefined],
      [{ gt: 0.6, lt: 1 }, '> 0.6 and < 1'],
      [{ range: [0.5, 0.5] as [number, number] }, undefined],
      [{ range: [0, 0.4] as [number, number] }, 'within [0, 0.4]'],
    ])('judges 0.5 against %j', async (tolerance, expected) => {
      const record = await runProbe(probe({ query: 'chaosduck_test_level', tolerance }), env());

      expect(record).toMatchObject({
        activity: { type: 'probe', name: 'metric', provider: { type: 'prometheus', url: prometheus.url, query: 'chaosduck_test_level', tolerance } },
        status: expected === undefined ? 'succeeded' : 'failed',
        tolerance_met: expected === undefined,
        output: {
          result_type: 'vector',
          value: 0.5,
          series: [{ labels: { __name__: 'chaosduck_test_level', instance: metrics.target, job: 'app' }, value: 0.5, within_tolerance: expected === undefined }],
          series_count: 1,
          tolerance,
          failures: expected === undefined ? [] : [`chaosduck_test_level{${scraped}} = 0.5, expected ${expected}`],
        },
      });
    });

    it('judges a scalar, asked with POST, on the lambda runtime too', async () => {
      const record = await runProbe(probe({ query: 'scalar(chaosduck_test_level) * 4', method: 'POST', tolerance: { equals: 2 } }), env('lambda'));

      expect(record).toMatchObject({
        status: 'succeeded',
        activity: { provider: { method: 'POST' } },
        output: { result_type: 'scalar', value: 2, series: [{ labels: {}, value: 2, within_tolerance: true }], series_count: 1, failures: [] },
      });
    });

    it('needs every series within tolerance, names each one out of it, and reports the worst value', async () => {
      const record = await runProbe(probe({ query: 'chaosduck_test_latency_seconds', tolerance: { lt: 0.1 } }), env());

      expect(record).toMatchObject({ status: 'failed', tolerance_met: false, output: { value: 0.3, series_count: 4 } });
      expect(output(record).failures).toEqual([
        `chaosduck_test_latency_seconds{${scraped}, route="/b"} = 0.3, expected < 0.1`,
        `chaosduck_test_latency_seconds{${scraped}, route="/d"} = 0.25, expected < 0.1`,
      ]);
      // Worst first: furthest past the bound, then nearest to it.
      expect(output(record).series.map((s) => s.labels.route)).toEqual(['/b', '/d', '/c', '/a']);

      // Act + Assess: all within, the value is the one nearest its bound; aggregated, one series without labels.
      const within = await runProbe(probe({ query: 'chaosduck_test_latency_seconds', tolerance: { lt: 1 } }), env());
      expect(within).toMatchObject({ status: 'succeeded', output: { value: 0.3, failures: [] } });
      const inRange = await runProbe(probe({ query: 'chaosduck_test_latency_seconds', tolerance: { range: [0, 1] } }), env());
      expect(inRange).toMatchObject({ status: 'succeeded', output: { value: 0.01, failures: [] } }); // 0.01 from 0
      const max = await runProbe(probe({ query: 'max(chaosduck_test_latency_seconds)', tolerance: { lt: 0.1 } }), env());
      expect(max).toMatchObject({ status: 'failed', output: { value: 0.3, series: [{ labels: {}, value: 0.3 }], failures: ['{} = 0.3, expected < 0.1'] } });
    });

    it('follows the series set as the test changes it', async () => {
      const p = probe({ query: 'chaosduck_test_queue_depth', tolerance: { lt: 10 } });
      expect(await runProbe(p, env())).toMatchObject({ status: 'succeeded', output: { value: 3, series_count: 1 } });

      // Act: a second queue backs up.
      queue.set({ queue: 'payments' }, 50);
      await prometheus.waitFor('count(chaosduck_test_queue_depth)', (a) => resultValue(a) === 2);
      const backedUp = await runProbe(p, env());

      // Assess
      expect(backedUp).toMatchObject({ status: 'failed', output: { value: 50, series_count: 2 } });
      expect(output(backedUp).failures).toEqual([`chaosduck_test_queue_depth{${scraped}, queue="payments"} = 50, expected < 10`]);

      // Act: it is gone from the endpoint; Prometheus marks it stale at the next scrape.
      queue.remove({ queue: 'payments' });
      await prometheus.waitFor('count(chaosduck_test_queue_depth)', (a) => resultValue(a) === 1);
      expect(await runProbe(p, env())).toMatchObject({ status: 'succeeded', output: { value: 3, series_count: 1, failures: [] } });
    });

    it('fails on no series, saying how to accept that, unless allow_empty says it is fine', async () => {
      const query = 'sum(rate(chaosduck_test_errors_total[1m]))';
      const empty = await runProbe(probe({ query, tolerance: { lt: 1 } }), env());
      expect(empty).toMatchObject({
        status: 'failed',
        output: {
          result_type: 'vector',
          value: null,
          series: [],
          series_count: 0,
          failures: ['the query returned no series (nothing matched it; when that is fine, as with no errors yet, set allow_empty: true)'],
        },
      });

      const allowed = await runProbe(probe({ query, tolerance: { lt: 1 }, allow_empty: true }), env());
      expect(allowed).toMatchObject({ status: 'succeeded', tolerance_met: true, output: { value: null, series: [], failures: [] } });
    });
  });

  describe('what it cannot judge', () => {
    it('fails a query Prometheus refuses with Prometheus\' own error', async () => {
      const query = 'sum(rate(chaosduck_test_level[1m])';
      const own = await prometheus.query(query);

      const record = await runProbe(probe({ query, tolerance: { lt: 1 } }), env());

      expect(own).toMatchObject({ status: 400, body: { status: 'error', errorType: 'bad_data', error: expect.stringContaining('parse error') } });
      expect(record).toMatchObject({ status: 'failed', tolerance_met: false, output: { result_type: null, value: null, failures: [`Prometheus could not run the query (HTTP 400 bad_data): ${own.body.error}`] } });
      expect(record.exception).toBeUndefined();
    });

    it.each([
      ['a range vector', 'chaosduck_test_level[1m]', /^the query returned a range vector \(matrix\); the probe judges an instant vector or a scalar/],
      ['a string', '"half"', /^the query returned a string; the probe judges numbers/],
      ['NaN', '(chaosduck_test_level - chaosduck_test_level) / 0', /^\{instance="[^"]+", job="app"\} = NaN, which no tolerance accepts \(0\/0/],
      ['+Inf', 'chaosduck_test_level / 0', /^\{instance="[^"]+", job="app"\} = \+Inf, expected < 1 \(x\/0/],
      ['-Inf', '-chaosduck_test_level / 0', /^\{instance="[^"]+", job="app"\} = -Inf, not a finite number \(x\/0/],
    ])('fails %s, saying why', async (_what, query, failure) => {
      const record = await runProbe(probe({ query, tolerance: { lt: 1 } }), env());

      expect(record).toMatchObject({ status: 'failed', tolerance_met: false, output: { value: null } });
      expect(output(record).failures).toEqual([expect.stringMatching(failure)]);
    });

    it('says which series read ±Inf, and is a stop condition that fires on one past its bound, not on NaN', async () => {
      // route /b's 0.3 - 0.3 is 0: its series reads +Inf, the others finite and below 0.
      const stop = (query: string, tolerance: { lt: number } | { gt: number }) => probe({ query, tolerance, stop_condition: true });
      const mixed = stop('chaosduck_test_latency_seconds / (chaosduck_test_latency_seconds - 0.3)', { lt: 1 });
      const onOpenSide = stop('chaosduck_test_level / 0', { gt: 0 });
      const nan = stop('(chaosduck_test_level - chaosduck_test_level) / 0', { lt: 1 });

      const [mixedRecord, openRecord, nanRecord] = await Promise.all([mixed, onOpenSide, nan].map((p) => runProbe(p, env())));

      expect(mixedRecord).toMatchObject({ status: 'failed', output: { series_count: 4, non_finite: ['+Inf'] } });
      const mixedOutput = mixedRecord?.output as { value: number; series: { labels: Record<string, string>; value: number | null; non_finite?: string }[] };
      expect(mixedOutput.series[0]).toEqual({ labels: { instance: metrics.target, job: 'app', route: '/b' }, value: null, within_tolerance: false, non_finite: '+Inf' });
      expect(mixedOutput.series.slice(1).map((s) => s.non_finite)).toEqual([undefined, undefined, undefined]);
      expect(mixedOutput.value).toBeCloseTo(0.01 / (0.01 - 0.3)); // the finite value nearest its bound
      expect(firedStopConditions([mixed], [mixedRecord as ActivityRecord])).toEqual([
        { probe: 'metric', query: mixed.properties.query, value: '+Inf', reason: `{${scraped}, route="/b"} = +Inf, expected < 1 (x/0, or a quantile above the highest histogram bucket)` },
      ]);
      expect(openRecord).toMatchObject({ status: 'failed', output: { value: null, non_finite: ['+Inf'] } });
      expect(nanRecord).toMatchObject({ status: 'failed', output: { value: null, non_finite: ['NaN'], series: [{ value: null, non_finite: 'NaN' }] } });
      expect(firedStopConditions([onOpenSide, nan], [openRecord as ActivityRecord, nanRecord as ActivityRecord])).toEqual([]);
    });

    it('fails when the server is unreachable, silent or not Prometheus', async () => {
      // Nothing listens on a port just freed.
      const refused = await runProbe(probe({ url: `http://127.0.0.1:${await freePort()}`, query: 'up', tolerance: { equals: 1 } }), env());
      expect(output(refused).failures).toEqual([expect.stringMatching(/^connection refused: /)]);

      // A server that takes the connection and never answers.
      const sockets: Socket[] = [];
      const silent: Server = createServer((socket) => void sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = silent.address() as { port: number };
        const timedOut = await runProbe(probe({ url: `http://127.0.0.1:${port}`, query: 'up', tolerance: { equals: 1 }, timeout_ms: 300 }), env());
        expect(timedOut).toMatchObject({ status: 'failed', output: { failures: ['no answer from Prometheus within 300 ms'] } });
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
      }

      // The metrics endpoint answers every path with text.
      const notPrometheus = await runProbe(probe({ url: metrics.url, query: 'up', tolerance: { equals: 1 } }), env());
      expect(output(notPrometheus).failures).toEqual([expect.stringMatching(/^the answer is not a Prometheus query result \(is the URL a Prometheus server\?\): # HELP /)]);
    });

    it('records a cancelled run as an exception, not a measurement', async () => {
      const record = await runProbe(probe({ query: 'up', tolerance: { equals: 1 } }), { runtime: 'local', signal: AbortSignal.abort() });
      expect(record).toMatchObject({ status: 'failed', tolerance_met: false, exception: [expect.stringContaining('AbortError')] });
      expect(record).not.toHaveProperty('output');
    });
  });

  it('sends the URL\'s credentials as basic auth, and keeps them and the header values out of the record', async () => {
    prometheus.requireBasicAuth(DUCK);
    try {
      const anonymous = await runProbe(probe({ query: 'up', tolerance: { equals: 1 } }), env());
      expect(anonymous).toMatchObject({ status: 'failed', output: { failures: ['HTTP 401 from the Prometheus API: Unauthorized'] } });

      const url = prometheus.url.replace('http://', `http://${DUCK.user}:${DUCK.password}@`);
      const record = await runProbe(probe({ url, query: 'up', tolerance: { equals: 1 }, headers: { 'X-Scope-OrgID': 'tenant-pond' } }), env());

      expect(record).toMatchObject({
        status: 'succeeded',
        activity: { provider: { url: `http://${REDACTED}:${REDACTED}@${new URL(prometheus.url).host}/`, headers: { 'X-Scope-OrgID': REDACTED } } },
        output: { value: 1 },
      });
      expect(JSON.stringify(record)).not.toMatch(/quack-quack|tenant-pond/);
    } finally {
      prometheus.requireBasicAuth(undefined);
    }
  });

  it('is validated by the chaosduck command, naming each bad field, and run by it, printing the value read', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'chaosduck-prometheus-cli-'));
    try {
      // Prepare
      const experimentFile = (file: string, properties: Record<string, unknown>) => {
        const experiment = {
          name: 'prometheus-cli',
          chaos_type: 'network_latency',
          target: { provider: 'sandbox', labels: { app: 'demo' }, selection: 'COUNT(1)' },
          parameters: { latency_ms: 20, duration_seconds: 1 },
          safety: { max_blast_radius: 0.5, health_check_interval: 1 },
          probes: [{ name: 'level', type: 'prometheus', properties: { url: '${PROMETHEUS_URL}', ...properties } }],
        };
        writeFileSync(join(cwd, file), JSON.stringify(experiment));
        return join(cwd, file);
      };
      const env = { PROMETHEUS_URL: prometheus.url };
      const bad = experimentFile('bad.json', { url: '${PROMETHEUS_URL}/api/v1/query', query: ' ', tolerance: { gt: 1, lt: 0 } });
      const good = experimentFile('good.json', { query: 'chaosduck_test_level', tolerance: { equals: 0.5 } });

      // Act
      const invalid = await runCli(['validate', bad], { cwd, env });
      const run = await runCli(['run', good], { cwd, env });

      // Assess
      expect(invalid.code).toBe(2);
      expect(invalid.stderr).toContain("probes[0].properties.url: give the server's base URL");
      expect(invalid.stderr).toContain('probes[0].properties.query: an empty query');
      expect(invalid.stderr).toContain('probes[0].properties.tolerance.lt: no value is both greater than 1 (gt) and less than 0 (lt)');
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(/✓ probe level \(value 0\.5\) \[before\]/);
      expect(run.stdout).toMatch(/✓ probe level \(value 0\.5\) \[tick 1\]/);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  describe('in experiments on the embedded runtime, against the sandbox', () => {
    let dataDir: string;
    let sandbox: Sandbox;
    let runtime: LocalRuntime;

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'chaosduck-prometheus-'));
      sandbox = await startSandbox({ replicas: 2, restartDelayMs: 100 });
      runtime = await LocalRuntime.start({ dataDir, drivers: [createSandboxDriver(sandbox)] });
    });
    afterAll(async () => {
      await runtime?.stop();
      await sandbox?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    const latencyFault = (name: string, durationSeconds: number, probes: unknown[]) => ({
      name,
      chaos_type: 'network_latency',
      target: { provider: 'sandbox', labels: { app: 'demo' }, selection: 'COUNT(1)' },
      parameters: { latency_ms: 50, duration_seconds: durationSeconds },
      safety: { max_blast_radius: 0.5, health_check_interval: 1, health_check_failure_threshold: 5, timeout_seconds: 60 },
      probes,
    });
    const levelProbe = (mode: string) => ({ name: `level-${mode}`, type: 'prometheus', mode, properties: { url: prometheus.url, query: 'chaosduck_test_level', tolerance: { equals: 0.5 } } });

    it('checks a prometheus probe in every mode, before, during and after the fault', async () => {
      const record = await runtime.run(latencyFault('prometheus-every-mode', 2, ['sot', 'on_chaos', 'continuous', 'eot'].map(levelProbe)));

      expect(record).toMatchObject({ status: 'completed', deviated: false });
      type Checks = { probes: ActivityRecord[] };
      const journal = (await runtime.journal(record.id)) as unknown as { steady_states: { before: Checks; during: Checks[]; after: Checks } };
      const names = (checks: Checks) => checks.probes.map((p) => `${p.activity.name}:${p.status}:${String((p.output as { value: number }).value)}`);
      expect(names(journal.steady_states.before)).toEqual(['level-sot:succeeded:0.5', 'level-continuous:succeeded:0.5']);
      expect(journal.steady_states.during.length).toBeGreaterThan(0);
      for (const tick of journal.steady_states.during) expect(names(tick)).toEqual(['level-on_chaos:succeeded:0.5', 'level-continuous:succeeded:0.5']);
      expect(names(journal.steady_states.after)).toEqual(['level-continuous:succeeded:0.5', 'level-eot:succeeded:0.5']);
      expect(sandbox.proxy.rules()).toEqual([]);
    });

    it('halts OBSERVE at once when a stop condition\'s value leaves its tolerance, and rolls the fault back', async () => {
      // Prepare: a 30 s window and a threshold of 5: only the stop condition can end this run within a few seconds.
      // `sot`: a stop condition is still checked on every OBSERVE tick.
      const query = 'chaosduck_test_orders_errors';
      const stop = { name: 'orders-errors', type: 'prometheus', mode: 'sot', properties: { url: prometheus.url, query, tolerance: { lt: 0.5 }, stop_condition: true } };
      const health = { name: 'health', type: 'http', mode: 'continuous', properties: { url: `${sandbox.url}/health`, timeout_ms: 3000 } };
      const applied = nextEvent(runtime.bus, { type: ['fault.applied'] });
      const halted = nextEvent(runtime.bus, { type: ['phase.failed'] }, (e) => e.phase === 'OBSERVE');

      // Act: the errors rise once the fault is in.
      const finished = runtime.run(latencyFault('orders-stop-condition', 30, [stop, health]));
      await applied;
      const rulesWhenApplied = sandbox.proxy.rules().length;
      orders.set(1);
      const record = await finished;

      // Assess: halted by the stop condition, not by the failure threshold, and rolled back.
      const reason = `chaosduck_test_orders_errors{${scraped}} = 1, expected < 0.5`;
      expect(rulesWhenApplied).toBe(1);
      expect(record).toMatchObject({ status: 'rolled_back', reason: 'StopConditionError', deviated: true });
      expect(record.error).toContain(`stop condition fired: Prometheus probe orders-errors: ${reason}; halting`);
      expect(sandbox.proxy.rules()).toEqual([]);
      const phases = await runtime.store.listPhaseResults(record.id);
      expect(phases.map((p) => `${p.phase}:${p.status}`)).toEqual(['STEADY_STATE:succeeded', 'HYPOTHESIS:succeeded', 'INJECT:succeeded', 'OBSERVE:failed', 'ROLLBACK:succeeded']);
      expect(phases.find((p) => p.phase === 'OBSERVE')?.detail).toMatchObject({ halted: true, stop_condition: [{ probe: 'orders-errors', query, value: 1, reason }] });
      expect((await halted).detail).toMatchObject({ halted: true, stop_condition: [{ probe: 'orders-errors', value: 1 }] });
      const journal = (await runtime.journal(record.id)) as { rollbacks: { status: string }[] };
      expect(journal.rollbacks.length).toBeGreaterThan(0);
      expect(journal.rollbacks.every((r) => r.status === 'succeeded')).toBe(true);
    });
  });
});
