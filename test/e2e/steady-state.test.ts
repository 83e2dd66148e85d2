/**
 * GET /api/topology/steady-state over real HTTP against the local server, after real experiments on the sandbox
 * (replica processes behind the proxy, latency faults, killed replicas): the latest value of each probe per target,
 * the latest first, a running experiment's values from its events, corrupt stored items named beside the answer, and
 * bad query parameters refused naming the field. (Its Kubernetes and AWS parts are tested against a real control
 * plane and moto: test/integration/kubernetes-probe.test.ts, aws-topology.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime.js';
import { createSandboxDriver } from '../../local/sandbox/driver.js';
import { startSandbox, type Sandbox } from '../../local/sandbox/sandbox.js';
import { startServer, type LocalServer } from '../../local/server.js';
import { apiClient } from '../support/api-client.js';

const TOKEN = 'test-token-steady-state';
const ROUTE = '/api/topology/steady-state';
const APP = 'sandbox:default/app=demo';

type Probe = { name: string; within_tolerance: boolean | null; measured_at: string; experiment: { id: string; status: string }; phase: string; when: string; output: any };
type Target = { target: string; steady_state_met: boolean | null; latest_at: string; probes: Probe[] };

describe('GET /api/topology/steady-state on the local server', () => {
  let sandbox: Sandbox;
  let runtime: LocalRuntime;
  let server: LocalServer;
  const ids: Record<'killOne' | 'slowAll' | 'killNamed', string> = { killOne: '', slowAll: '', killNamed: '' };
  let named = '';

  const call = apiClient(() => server.url, TOKEN);
  const probe = (name: string, properties: Record<string, unknown> = {}) => ({
    name,
    type: 'http',
    mode: 'continuous',
    properties: { url: `${sandbox.url}/health`, timeout_ms: 5000, ...properties },
  });
  const settled = async (id: string) => {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const { body } = await call('GET', `/api/chaos/experiments/${id}`);
      if (!['pending', 'running'].includes(body.status)) return body;
      if (Date.now() > deadline) throw new Error(`experiment ${id} still ${body.status}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const submit = async (experiment: Record<string, unknown>) => {
    const { status, body } = await call('POST', '/api/chaos/experiments', experiment);
    expect(status).toBe(202);
    return body.id as string;
  };

  beforeAll(async () => {
    sandbox = await startSandbox({ replicas: 3, restartDelayMs: 100 });
    runtime = await LocalRuntime.start({ drivers: [createSandboxDriver(sandbox)] });
    server = await startServer({ runtime, token: TOKEN, port: 0 });
    // One replica killed while the service keeps answering; then every replica slowed past what a probe tolerates,
    // which halts the run; then one replica named exactly.
    ids.killOne = await submit({
      name: 'kill-one',
      chaos_type: 'pod_delete',
      target: { provider: 'sandbox', labels: { app: 'demo' } },
      parameters: { duration_seconds: 1 },
      safety: { max_blast_radius: 0.5, health_check_interval: 1 },
      probes: [probe('answers')],
    });
    expect(await settled(ids.killOne)).toMatchObject({ status: 'completed' });
    ids.slowAll = await submit({
      name: 'slow-all',
      chaos_type: 'network_latency',
      target: { provider: 'sandbox', labels: { app: 'demo' }, selection: 'ALL' },
      parameters: { latency_ms: 600, duration_seconds: 20 },
      safety: { max_blast_radius: 1, health_check_interval: 1, health_check_failure_threshold: 2, timeout_seconds: 60 },
      probes: [probe('answers'), probe('fast', { max_latency_ms: 300 })],
    });
    expect(await settled(ids.slowAll)).toMatchObject({ status: 'rolled_back', reason: 'HealthCheckThresholdError' });
    await sandbox.awaitReady();
    named = sandbox.replicas()[0]?.labels.replica as string;
    ids.killNamed = await submit({
      name: 'kill-named',
      chaos_type: 'pod_delete',
      target: { provider: 'sandbox', pod_names: [named] },
      parameters: { duration_seconds: 0 },
      probes: [probe('answers')],
    });
    expect(await settled(ids.killNamed)).toMatchObject({ status: 'completed' });
  }, 180_000);
  afterAll(async () => {
    await server?.close();
    await runtime?.stop();
    await sandbox?.stop();
  });

  const read = async (query = '') => {
    const { status, body } = await call('GET', `${ROUTE}${query}`);
    expect(status).toBe(200);
    return body as { targets: Target[]; experiments_read: unknown; kubernetes: unknown; aws: unknown; corrupt?: { key: string; message: string }[] };
  };
  const newestFirst = (times: string[]) => expect(times).toEqual([...times].sort().reverse());

  it('gives the latest value of each probe per target, the latest first, from the experiment that measured it', async () => {
    const body = await read();

    expect(body.experiments_read).toEqual({ count: 3, limit: 20, since: null });
    expect(body.targets.map((t) => t.target)).toEqual([`sandbox:default/${named}`, APP]);
    newestFirst(body.targets.map((t) => t.latest_at));
    const [replica, app] = body.targets as [Target, Target];
    expect(replica).toMatchObject({ steady_state_met: true, probes: [{ name: 'answers', within_tolerance: true, experiment: { id: ids.killNamed, status: 'completed' } }] });
    expect(replica.probes[0]?.output).toMatchObject({ status: 200, latency_ms: expect.any(Number) });
    // The halted run measured both probes last, under its fault (`fast` out of tolerance there), shown marked `during`;
    // the steady state is judged from what it read before the fault, which held (kill-one's readings are older).
    expect(app.steady_state_met).toBe(true);
    expect(app.probes.map((p) => `${p.name}:${p.when}`).sort()).toEqual(['answers:before', 'answers:during', 'fast:before', 'fast:during']);
    for (const p of app.probes) {
      expect(p).toMatchObject({ experiment: { id: ids.slowAll, status: 'rolled_back' }, phase: p.when === 'before' ? 'STEADY_STATE' : 'OBSERVE' });
      expect(p.within_tolerance).toBe(p.name === 'fast' && p.when === 'during' ? false : true);
    }
    const fast = app.probes.find((p) => p.name === 'fast' && p.when === 'during') as Probe;
    expect(fast.output.latency_ms).toBeGreaterThan(300);
    expect(fast.output.failures[0]).toContain('exceeds max_latency_ms 300');
    newestFirst(app.probes.map((p) => p.measured_at));
    expect(app.latest_at).toBe(app.probes[0]?.measured_at);
    expect(body.kubernetes).toEqual({ available: false, error: { code: 'NOT_CONFIGURED', message: 'this control plane has no Kubernetes access configured' } });
    expect(body.aws).toEqual({ available: false, error: { code: 'NOT_CONFIGURED', message: 'this control plane has no AWS access configured' } });
    expect(body.corrupt).toBeUndefined();
  });

  it('reads the newest `limit` experiments, those created since `since`, and those whose target matches', async () => {
    const newest = await read('?limit=1');
    const sinceSlow = await read(`?since=${encodeURIComponent((await call('GET', `/api/chaos/experiments/${ids.slowAll}`)).body.created_at)}`);
    const app = await read(`?target=${encodeURIComponent(APP)}&limit=50`);
    const elsewhere = await read('?namespace=shop');

    expect(newest.experiments_read).toEqual({ count: 1, limit: 1, since: null });
    expect(newest.targets.map((t) => t.target)).toEqual([`sandbox:default/${named}`]);
    expect(sinceSlow.experiments_read).toMatchObject({ count: 2 });
    expect(app.targets.map((t) => t.target)).toEqual([APP]);
    expect(app.experiments_read).toMatchObject({ count: 2 });
    expect(elsewhere.targets).toEqual([]);
  });

  it('refuses bad query parameters with a 400 naming each field', async () => {
    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=51', 'limit'],
      ['limit=many', 'limit'],
      ['since=yesterday', 'since'],
      ['namespace=Not_A_Namespace', 'namespace'],
      ['region=mars', 'region'],
      ['cluster=bad%20name', 'cluster'],
      ['target=', 'target'],
      ['colour=red', 'colour'],
    ]) {
      const { status, body } = await call('GET', `${ROUTE}?${query}`);

      expect(status, query).toBe(400);
      expect(body.error.code, query).toBe('VALIDATION');
      expect(body.error.fields.map((f: { field: string }) => f.field), query).toEqual([field]);
    }
  });

  it('gives a running experiment’s values from its events, as soon as it measured them', async () => {
    await sandbox.awaitReady();
    const replica = sandbox.replicas().at(-1)?.labels.replica as string;
    const id = await submit({
      name: 'slow-one-long',
      chaos_type: 'network_latency',
      target: { provider: 'sandbox', pod_names: [replica] },
      parameters: { latency_ms: 50, duration_seconds: 50 },
      safety: { health_check_interval: 1, timeout_seconds: 60 },
      // Checked once, before the fault: the experiment then holds the replica for its whole window.
      probes: [{ ...probe('answers'), mode: 'sot' }],
    });
    try {
      const deadline = Date.now() + 60_000;
      let running: Target | undefined;
      while (!running) {
        running = (await read(`?target=${encodeURIComponent(`sandbox:default/${replica}`)}`)).targets[0];
        if (!running && Date.now() > deadline) throw new Error('the running experiment’s probe never showed');
        if (!running) await new Promise((resolve) => setTimeout(resolve, 100));
      }

      expect(running.probes).toEqual([expect.objectContaining({ name: 'answers', within_tolerance: true, phase: 'STEADY_STATE', when: 'before', experiment: expect.objectContaining({ id }) })]);
      expect(['pending', 'running']).toContain(running.probes[0]?.experiment.status);
    } finally {
      await call('POST', `/api/chaos/experiments/${id}/rollback`);
      await settled(id);
    }
  });

  it('names stored items that cannot be read, and answers with the rest (an unreadable journal: from the events)', async () => {
    runtime.store.db.prepare(`UPDATE experiments SET record = json_set(record, '$.status', 'exploded') WHERE id = ?`).run(ids.killOne);
    runtime.store.db.prepare(`UPDATE journals SET journal = '{"steady_states": ' WHERE experiment_id = ?`).run(ids.killNamed);

    const body = await read();

    expect(body.corrupt?.map((c) => c.key).sort()).toEqual([`EXP#${ids.killNamed}/JOURNAL`, `EXP#${ids.killOne}/META`].sort());
    expect(body.corrupt?.every((c) => c.message.includes('corrupt'))).toBe(true);
    const replica = body.targets.find((t) => t.target === `sandbox:default/${named}`);
    expect(replica?.probes).toEqual([expect.objectContaining({ name: 'answers', experiment: expect.objectContaining({ id: ids.killNamed }), phase: 'OBSERVE', when: 'after' })]);
    expect(body.targets.find((t) => t.target === APP)?.probes.every((p) => p.experiment.id === ids.slowAll)).toBe(true);
  });
});
