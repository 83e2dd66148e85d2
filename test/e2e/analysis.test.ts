/**
 * The analysis API over real HTTP against the local server: resilience scores of experiments the embedded runtime ran
 * (stored when each ended), of journals sent as they are, and their trend by target, service and chaos type.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime.js';
import { createSandboxDriver } from '../../local/sandbox/driver.js';
import { startSandbox, type Sandbox } from '../../local/sandbox/sandbox.js';
import { startServer, type LocalServer } from '../../local/server.js';
import { apiClient } from '../support/api-client.js';
import { MemoryDriver } from '../support/memory-driver.js';

const TOKEN = 'test-token-analysis';

describe('analysis API on the local server', () => {
  let runtime: LocalRuntime;
  let server: LocalServer;
  const ran: { id: string; app: string; chaosType: string }[] = [];

  beforeAll(async () => {
    runtime = await LocalRuntime.start({
      drivers: [
        new MemoryDriver({ targets: 6, labelsOf: (i) => ({ app: i < 3 ? 'web' : 'api', slot: String(i) }) }),
        // Pods the Kubernetes planning sees, for the natural-language route's dry runs (the real driver's own
        // planning is tested against a real control plane elsewhere).
        new MemoryDriver({ provider: 'kubernetes', targets: 4, labels: { app: 'nginx' } }),
      ],
    });
    server = await startServer({ runtime, token: TOKEN, port: 0 });
    for (const [app, chaosType] of [
      ['web', 'pod_delete'],
      ['api', 'pod_delete'],
      ['web', 'network_latency'],
      ['web', 'pod_delete'],
    ] as const) {
      const record = await runtime.run({
        name: `${app}-${chaosType}`,
        chaos_type: chaosType,
        target: { provider: 'memory', labels: { app }, selection: 'COUNT(1)' },
        parameters: { duration_seconds: 0 },
        safety: { max_blast_radius: 1 },
      });
      ran.push({ id: record.id, app, chaosType });
    }
  });
  afterAll(async () => {
    await server?.close();
    await runtime?.stop();
  });

  const call = apiClient(() => server.url, TOKEN);

  /** A journal of an experiment whose probe failed once under the fault and came back, recovered by the fault in 6 s. */
  const journal = {
    experiment: { name: 'from-a-file', chaos_type: 'pod_delete', target: { provider: 'kubernetes', namespace: 'shop', labels: { app: 'cart' } }, safety: { health_check_interval: 2, health_check_failure_threshold: 2 } },
    status: 'completed',
    deviated: false,
    end: '2026-03-01T10:01:00.000Z',
    steady_states: {
      before: { steady_state_met: true, probes: [] },
      during: [
        { tick: 1, probes: [{ activity: { name: 'home' }, start: '2026-03-01T10:00:10.000Z', tolerance_met: false }] },
        { tick: 2, probes: [{ activity: { name: 'home' }, start: '2026-03-01T10:00:20.000Z', tolerance_met: true }] },
      ],
      after: { probes: [{ activity: { name: 'home' }, start: '2026-03-01T10:00:30.000Z', tolerance_met: true }] },
    },
    run: [{ activity: { type: 'action', name: 'pod_delete' }, status: 'succeeded' }],
    rollbacks: [{ status: 'succeeded', output: { recovered_after_ms: 6000 } }],
    chaosduck: { id: 'exp-from-a-file' },
  };

  it('scores experiments by id and journals as sent, with their mean, and lists what has no score with the reason', async () => {
    // S = 2/3 → 0.67, H = 1, R = 1 − (6 − 4)/8 = 0.75, C = 1: 100 × (0.268 + 0.2 + 0.15 + 0.2) = 81.8 → 82
    const { status, body } = await call('POST', '/api/analysis/resilience-score', { experiments: [ran[0]?.id, journal, 'exp-unknown', { id: ran[1]?.id, status: 'completed' }] });

    expect(status).toBe(200);
    expect(body.scores.map((s: { experiment_id: string; score: number }) => [s.experiment_id, s.score])).toEqual([
      [ran[0]?.id, 100],
      ['exp-from-a-file', 82],
      [ran[1]?.id, 100],
    ]);
    expect(body.scores[1]).toMatchObject({ target: 'kubernetes:shop/app=cart', service: 'cart', components: { steady_state: 0.67, recovery: 0.75 } });
    expect(body.mean).toBe(94);
    expect(body.unscored).toEqual([{ index: 2, experiment: 'exp-unknown', reason: 'experiment exp-unknown not found' }]);
  });

  it('refuses a body it cannot score, naming the field, and an empty list', async () => {
    const missing = await call('POST', '/api/analysis/resilience-score', {});
    const wrong = await call('POST', '/api/analysis/resilience-score', { experiments: [42] });
    const empty = await call('POST', '/api/analysis/resilience-score', { experiments: [] });
    const notJson = await call('POST', '/api/analysis/resilience-score', '{"experiments": [');

    for (const answer of [missing, wrong, empty, notJson]) expect(answer.status).toBe(400);
    expect(missing.body.error.fields[0].field).toBe('experiments');
    expect(wrong.body.error.fields[0]).toEqual({ field: 'experiments[0]', message: expect.stringContaining('an experiment id, an experiment record') });
    expect(empty.body.error.fields[0].field).toBe('experiments');
    expect(notJson.body.error.fields[0].field).toBe('body');
  });

  it('lists the trend in time order, by service and chaos type, a page at a time', async () => {
    const all = await call('GET', '/api/analysis/resilience-trend');
    const web = await call('GET', '/api/analysis/resilience-trend?service=web&chaos_type=pod_delete');
    const first = await call('GET', '/api/analysis/resilience-trend?limit=3');
    const rest = await call('GET', `/api/analysis/resilience-trend?limit=3&cursor=${encodeURIComponent(first.body.next_cursor)}`);

    expect(all.body.items.map((p: { experiment_id: string }) => p.experiment_id)).toEqual(ran.map((r) => r.id));
    expect(web.body.items.map((p: { experiment_id: string }) => p.experiment_id)).toEqual([ran[0]?.id, ran[3]?.id]);
    expect(web.body.items[0]).toMatchObject({ score: 100, service: 'web', chaos_type: 'pod_delete', target: 'memory:default/app=web' });
    expect([...first.body.items, ...rest.body.items].map((p: { experiment_id: string }) => p.experiment_id)).toEqual(ran.map((r) => r.id));
    expect(rest.body.next_cursor).toBeNull();
  });

  it('summarises the trend: count, latest, mean, change, worst, and the same per group', async () => {
    const { status, body } = await call('GET', '/api/analysis/resilience-trend/summary?chaos_type=pod_delete');

    expect(status).toBe(200);
    expect(body).toMatchObject({ count: 3, mean: 100, change: 0, latest: { experiment_id: ran[3]?.id }, worst: { score: 100 } });
    expect(Object.keys(body.by_service).sort()).toEqual(['api', 'web']);
    expect(body.by_service.web.count).toBe(2);
    expect(body.by_chaos_type).toEqual({ pod_delete: expect.objectContaining({ count: 3 }) });
  });

  it('refuses a bad filter, naming it, and a cursor of another filter', async () => {
    const since = await call('GET', '/api/analysis/resilience-trend?since=yesterday');
    const order = await call('GET', '/api/analysis/resilience-trend?since=2026-03-02T00:00:00Z&until=2026-03-01T00:00:00Z');
    const unknown = await call('GET', '/api/analysis/resilience-trend?team=sre');
    const { body: page } = await call('GET', '/api/analysis/resilience-trend?limit=1');
    const cursor = await call('GET', `/api/analysis/resilience-trend?service=web&cursor=${encodeURIComponent(page.next_cursor)}`);

    expect(since.status).toBe(400);
    expect(since.body.error.fields).toEqual([{ field: 'since', message: expect.stringContaining('ISO 8601') }]);
    expect(order.body.error.fields).toEqual([{ field: 'since', message: 'is after until (2026-03-01T00:00:00Z)' }]);
    expect(unknown.body.error.fields).toEqual([{ field: 'team', message: 'unknown field' }]);
    expect(cursor.status).toBe(400);
    expect(cursor.body.error.fields).toEqual([{ field: 'cursor', message: expect.stringContaining('the same filters') }]);
  });

  it('turns the seed\'s Korean prompt into a valid experiment and its dry-run plan, and submits nothing', async () => {
    const before = (await runtime.store.listExperiments({ limit: 100 })).items.length;

    const { status, body } = await call('POST', '/api/analysis/nl-experiment', { prompt: 'nginx pod 하나를 랜덤으로 죽이고 복구 시간 관찰' });

    expect(status).toBe(200);
    expect(body).toMatchObject({
      source: 'rules',
      model: null,
      usage: null,
      valid: true,
      submitted: false,
      experiment: { chaos_type: 'pod_delete', target: { provider: 'kubernetes', namespace: 'default', labels: { app: 'nginx' }, selection: 'COUNT(1)' }, parameters: { duration_seconds: 30 }, safety: { max_blast_radius: 0.3 } },
    });
    expect(body.understood).toContain('"죽이" → chaos_type pod_delete');
    expect(body.dry_run).toMatchObject({ dry_run: true, experiment: body.experiment.name });
    expect(JSON.stringify(body.dry_run)).toContain('nginx');
    expect((await runtime.store.listExperiments({ limit: 100 })).items).toHaveLength(before);
  });

  it('shows what a guardrail refuses in a proposed experiment, instead of a plan', async () => {
    const { status, body } = await call('POST', '/api/analysis/nl-experiment', { prompt: 'kill one nginx pod in namespace production' });

    expect(status).toBe(200);
    expect(body.experiment.target.namespace).toBe('production');
    expect(body.dry_run).toBeUndefined();
    expect(body.refused).toEqual({ code: expect.any(String), message: expect.stringContaining('require_confirmation') });
  });

  it('says what it could not understand in a prompt, naming the field', async () => {
    const vague = await call('POST', '/api/analysis/nl-experiment', { prompt: 'make it more resilient' });
    const missing = await call('POST', '/api/analysis/nl-experiment', {});

    expect(vague.status).toBe(400);
    expect(vague.body.error.fields).toEqual([{ field: 'prompt', message: expect.stringMatching(/^could not understand: which fault to inject/) }]);
    expect(missing.status).toBe(400);
    expect(missing.body.error.fields[0].field).toBe('prompt');
  });

  it('analyses a finished experiment: what happened, the hypothesis, its probes, findings and what to do next', async () => {
    const { status, body } = await call('POST', `/api/analysis/experiment/${ran[0]?.id}`);

    expect(status).toBe(200);
    expect(body).toMatchObject({ source: 'rules', model: null, usage: null });
    expect(body.analysis).toMatchObject({ experiment_id: ran[0]?.id, hypothesis: { held: true }, score: { score: 100 } });
    expect(body.analysis.summary).toContain('pod_delete was applied');
    expect(body.analysis.findings).toContainEqual(expect.objectContaining({ about: 'coverage' }));
    expect(body.analysis.recommendations.length).toBeGreaterThan(0);
  });

  it('answers 404 for an unknown experiment and 409 for one still running', async () => {
    const { id } = await runtime.submit({ name: 'still-running', chaos_type: 'pod_delete', target: { provider: 'memory', labels: { app: 'api' } }, parameters: { duration_seconds: 30 }, safety: { max_blast_radius: 1 } });

    const unknown = await call('POST', '/api/analysis/experiment/exp-nobody');
    const running = await call('POST', `/api/analysis/experiment/${id}`);
    await runtime.abort(id);

    expect(unknown.status).toBe(404);
    expect(running.status).toBe(409);
    expect(running.body.error.message).toMatch(/is still (pending|running): it can be analysed once it has ended/);
  });

  /** A cluster as the Kubernetes topology route describes it: the nginx pods the runtime's planning sees. */
  const cluster = {
    kubernetes: {
      deployments: [{ kind: 'Deployment', namespace: 'default', name: 'nginx', labels: { app: 'nginx' }, selector: { app: 'nginx' }, replicas: 4, ready_replicas: 4 }],
      statefulsets: [],
    },
  };

  it('proposes ranked failure hypotheses for a topology sent in the request, each with a valid experiment', async () => {
    const { status, body } = await call('POST', '/api/analysis/hypotheses', { topology: cluster, steady_state: { url: 'http://127.0.0.1:9/health' } });

    expect(status).toBe(200);
    expect(body).toMatchObject({ source: 'rules', topology_from: 'request' });
    expect(body.hypotheses.map((h: { title: string }) => h.title)).toEqual(['nginx loses one of 4 pods', 'nginx under network latency']);
    expect(body.hypotheses[0]).toMatchObject({ rank: 1, valid: true, experiment: { chaos_type: 'pod_delete', target: { labels: { app: 'nginx' } }, probes: [{ properties: { url: 'http://127.0.0.1:9/health' } }] } });
  });

  it('uses the control plane\'s own topology when the request has none', async () => {
    const { status, body } = await call('POST', '/api/analysis/hypotheses');

    expect(status).toBe(200);
    // This runtime has no cluster or AWS access configured, and no sandbox: nothing to hypothesise about.
    expect(body).toMatchObject({ topology_from: 'control plane', hypotheses: [] });
  });

  it('generates candidate experiments, each validated and dry-run, none submitted', async () => {
    const before = (await runtime.store.listExperiments({ limit: 100 })).items.length;

    const { status, body } = await call('POST', '/api/analysis/generate-experiments', { topology: cluster });

    expect(status).toBe(200);
    expect(body.submitted).toBe(false);
    expect(body.candidates).toHaveLength(2);
    for (const candidate of body.candidates) {
      expect(candidate).toMatchObject({ valid: true, dry_run: { dry_run: true } });
    }
    expect((await runtime.store.listExperiments({ limit: 100 })).items).toHaveLength(before);
  });

  it('refuses a topology that is not an object, naming the field', async () => {
    const { status, body } = await call('POST', '/api/analysis/hypotheses', { topology: 'my cluster' });

    expect(status).toBe(400);
    expect(body.error.fields[0].field).toBe('topology');
  });

  it('writes a narrative report of experiments as Markdown and as one self-contained HTML page', async () => {
    const { status, body } = await call('POST', '/api/analysis/report', { experiments: [ran[0]?.id, ran[2]?.id] });

    expect(status).toBe(200);
    expect(body).toMatchObject({ source: 'rules', title: 'Chaos experiments report: 2 experiments' });
    expect(body.conclusions[0]).toBe('2 of 2 hypotheses held; mean resilience 100/100.');
    expect(body.markdown).toContain('## Conclusions');
    expect(body.markdown).toContain('| web-pod_delete | pod_delete |');
    expect(body.markdown).toContain('## Recommendations');
    expect(body.html).toMatch(/^<!doctype html>/);
    expect(body.html).not.toMatch(/<script|https?:\/\/(?!127)/);
    expect(body.recommendations.length).toBeGreaterThan(0);
  });

  it('refuses a report on an unknown or unfinished experiment, naming which', async () => {
    const { status, body } = await call('POST', '/api/analysis/report', { experiments: [ran[0]?.id, 'exp-nobody'] });

    expect(status).toBe(400);
    expect(body.error.fields).toEqual([{ field: 'experiments[1]', message: 'experiment exp-nobody not found' }]);
  });

  it('predicts what an experiment would do, without running it; a bad one is refused naming its fields', async () => {
    const { status, body } = await call('POST', '/api/analysis/predict', { name: 'web-latency', chaos_type: 'network_latency', target: { provider: 'memory', labels: { app: 'web' } }, parameters: { latency_ms: 250 } });
    const bad = await call('POST', '/api/analysis/predict', { name: 'x', chaos_type: 'network_latency', target: { labels: {} } });

    expect(status).toBe(200);
    expect(body).toMatchObject({ source: 'rules', hypothesis: { statement: expect.stringContaining('250 ms of latency'), predicted_impact: expect.arrayContaining(['responses from the targets take 250 ms longer']) } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields[0].field).toBe('target.labels');
  });

  it("serves an experiment's report page through the analysis function, and refuses one still running with 409", async () => {
    const page = await fetch(`${server.url}/api/chaos/experiments/${ran[0]?.id}/report`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const { id } = await runtime.submit({
      name: 'still-running',
      chaos_type: 'pod_delete',
      target: { provider: 'memory', labels: { app: 'web' }, selection: 'COUNT(1)' },
      parameters: { duration_seconds: 60 },
      safety: { max_blast_radius: 1 },
    });
    const running = await call('GET', `/api/chaos/experiments/${id}/report`);
    await runtime.abort(id, 'test_done');

    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<svg id="x1-timeline"');
    expect(running.status).toBe(409);
    expect(running.body.error).toEqual({ code: 'CONFLICT', message: expect.stringMatching(new RegExp(`^experiment ${id} is still (pending|running): its report can be made once it has ended$`)) });
  });

  it('answers an unknown analysis route with 404', async () => {
    const { status, body } = await call('GET', '/api/analysis/nothing-here');

    expect(status).toBe(404);
    expect(body.error.code).toBe('NOT_FOUND');
  });
});

describe('analysis of a fresh install: the sandbox with its 3 replicas', () => {
  let sandbox: Sandbox;
  let runtime: LocalRuntime;
  let server: LocalServer;

  beforeAll(async () => {
    sandbox = await startSandbox({ replicas: 3, replicaMode: 'in-process', restartDelayMs: 100 });
    runtime = await LocalRuntime.start({ drivers: [createSandboxDriver(sandbox)] });
    server = await startServer({ runtime, token: TOKEN, port: 0, sandbox });
  });
  afterAll(async () => {
    await server?.close();
    await runtime?.stop();
    await sandbox?.stop();
  });

  const call = apiClient(() => server.url, TOKEN);

  it("turns the README's sentence into an experiment its dry run accepts, with the blast radius one of 3 replicas needs", async () => {
    const { status, body } = await call('POST', '/api/analysis/nl-experiment', { prompt: 'add 300ms latency to one sandbox replica for 5 seconds' });

    expect(status).toBe(200);
    expect(body).toMatchObject({
      source: 'rules',
      valid: true,
      experiment: { chaos_type: 'network_latency', target: { provider: 'sandbox', labels: { app: 'demo' }, selection: 'COUNT(1)' }, parameters: { latency_ms: 300, duration_seconds: 5 }, safety: { max_blast_radius: 0.34 } },
    });
    expect(body.assumptions).toContain('safety.max_blast_radius 0.34: 1 of the 3 matching target(s) the topology shows (the default 0.3 allows 0)');
    expect(body.refused).toBeUndefined();
    expect(body.dry_run.targets).toHaveLength(1);
  });

  it('proposes sandbox hypotheses whose experiments its dry runs accept', async () => {
    const { status, body } = await call('POST', '/api/analysis/generate-experiments', {});

    expect(status).toBe(200);
    const sandboxCandidates = (body.candidates as { experiment: { target: { provider: string } }; refused?: unknown; dry_run?: unknown }[]).filter(
      (candidate) => candidate.experiment.target.provider === 'sandbox',
    );
    expect(sandboxCandidates.length).toBeGreaterThan(0);
    for (const candidate of sandboxCandidates) {
      expect(candidate.refused, JSON.stringify(candidate)).toBeUndefined();
      expect(candidate.dry_run).toBeDefined();
    }
  });

  it("says beside safety.max_blast_radius what a proposal with the default needs, in the dry run's refusal", async () => {
    const refused = await call('POST', '/api/chaos/dry-run', {
      name: 'default-radius',
      chaos_type: 'pod_delete',
      target: { provider: 'sandbox', labels: { app: 'demo' } },
    });

    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('BLAST_RADIUS_EXCEEDED');
    expect(refused.body.error.fields).toEqual([{ field: 'safety.max_blast_radius', message: expect.stringContaining('0.34 is the least that allows one') }]);
  });
});
