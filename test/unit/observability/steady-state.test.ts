/**
 * The steady state as last seen, from what the store and the topology sources gave: the target an experiment aimed
 * at, its probe results read from a journal or from events, the latest value of each probe per target, and the
 * sources' ready replicas and instance states, or why a source is unavailable.
 */
import { describe, expect, it } from 'vitest';
import type { ActivityRecord, JsonObject } from '../../../shared/journal/activity.js';
import { chaosToolkitSpecSchema, experimentSchema, type ExperimentSpec } from '../../../shared/model/experiment.js';
import type { ExperimentRecord, JournalEvent } from '../../../shared/model/lifecycle.js';
import { MAX_SERIES_FAILURES, MAX_SERIES_KEPT } from '../../../shared/probes/prometheus.js';
import {
  MAX_FAILURES_SHOWN,
  MAX_OUTPUT_CHARS,
  awsSignals,
  eventReadings,
  experimentTarget,
  journalReadings,
  kubernetesSignals,
  latestProbes,
  targetMatches,
  type ProbeReading,
} from '../../../shared/observability/steady-state.js';

const fault = (fields: Record<string, unknown>): ExperimentSpec => experimentSchema.parse({ name: 'exp', chaos_type: 'pod_delete', safety: { max_blast_radius: 1 }, ...fields });
const chaosToolkit = (settings: Record<string, unknown> = {}): ExperimentSpec =>
  chaosToolkitSpecSchema.parse({ format: 'chaostoolkit', name: 'ctk-checkout', experiment: { title: 'ctk-checkout' }, settings });

const record = (id: string, spec: ExperimentSpec, status: ExperimentRecord['status'] = 'completed'): ExperimentRecord => ({
  id,
  spec,
  status,
  createdAt: '2026-03-01T10:00:00.000Z',
  updatedAt: '2026-03-01T10:00:00.000Z',
});

const probe = (name: string, end: string, fields: Partial<ActivityRecord> = {}): ActivityRecord => ({
  activity: { type: 'probe', name, provider: { type: 'http', url: 'http://127.0.0.1/health' } },
  status: 'succeeded',
  start: end,
  end,
  duration: 0.012,
  output: { status: 200, latency_ms: 12, failures: [] },
  tolerance_met: true,
  ...fields,
});

const at = (second: number) => `2026-03-01T10:00:${String(second).padStart(2, '0')}.000Z`;
const reading = (record: unknown, when: ProbeReading['when'] = 'after'): ProbeReading => ({ phase: 'OBSERVE', when, record });

describe('the target an experiment aimed at', () => {
  it('is keyed by provider, where, and the selector sorted, whatever the selection: the same key for the same pool', () => {
    const one = experimentTarget(fault({ target: { provider: 'sandbox', labels: { tier: 'web', app: 'demo' }, selection: 'COUNT(1)' } }));
    const all = experimentTarget(fault({ target: { provider: 'sandbox', labels: { app: 'demo', tier: 'web' }, selection: 'ALL' } }));

    expect(one).toEqual({ key: 'sandbox:default/app=demo,tier=web', provider: 'sandbox', namespace: 'default' });
    expect(all.key).toBe(one.key);
  });

  it('names the cluster and namespace of a Kubernetes target, and pods named exactly', () => {
    const target = experimentTarget(fault({ target: { namespace: 'shop', cluster: 'eks-a', pod_names: ['web-2', 'web-1'] } }));

    expect(target).toEqual({ key: 'kubernetes:eks-a/shop/web-1,web-2', provider: 'kubernetes', namespace: 'shop', cluster: 'eks-a' });
  });

  it('names the account, region, kind and resources or tags of an AWS target', () => {
    const tagged = experimentTarget(fault({ chaos_type: 'ec2_stop', target: { tags: { tier: 'web' }, region: 'eu-west-1' } }));
    const cluster = experimentTarget(fault({ chaos_type: 'rds_failover', target: { db_cluster_identifier: 'orders' } }));
    const subnets = experimentTarget(
      fault({
        chaos_type: 'route_blackhole',
        target: { subnet_ids: ['subnet-0bbbbbbbbbbbbbbbb', 'subnet-0aaaaaaaaaaaaaaaa'], role_arn: 'arn:aws:iam::111122223333:role/chaos', region: 'us-east-1' },
      }),
    );

    expect(tagged).toEqual({ key: 'aws:eu-west-1/ec2:tier=web', provider: 'aws', region: 'eu-west-1' });
    expect(cluster).toEqual({ key: 'aws:rds:orders', provider: 'aws' });
    expect(subnets.key).toBe('aws:111122223333/us-east-1/network:subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb');
  });

  it('is a Chaos Toolkit experiment by its name', () => {
    expect(experimentTarget(chaosToolkit())).toEqual({ key: 'chaostoolkit:ctk-checkout', provider: 'chaostoolkit' });
  });

  it('still has a key when the stored spec lacks fields a newer version requires', () => {
    const stored = { name: 'old', chaos_type: 'pod_delete', target: { provider: 'kubernetes', selection: 'ALL' }, parameters: {}, safety: {}, probes: [] } as unknown as ExperimentSpec;

    expect(experimentTarget(stored)).toEqual({ key: 'kubernetes:default/', provider: 'kubernetes', namespace: 'default' });
  });

  it('matches a filter only when every field given matches', () => {
    const target = experimentTarget(fault({ target: { namespace: 'shop', cluster: 'eks-a', labels: { app: 'web' } } }));

    expect(targetMatches(target, {})).toBe(true);
    expect(targetMatches(target, { target: 'kubernetes:eks-a/shop/app=web', namespace: 'shop', cluster: 'eks-a' })).toBe(true);
    expect(targetMatches(target, { namespace: 'shop', cluster: 'eks-b' })).toBe(false);
    expect(targetMatches(target, { region: 'eu-west-1' })).toBe(false);
    expect(targetMatches(target, { target: 'kubernetes:shop/app=web' })).toBe(false);
  });
});

describe('probe results, from a journal or from events', () => {
  it('reads a fault journal: before in STEADY_STATE, each tick and after in OBSERVE', () => {
    const journal = {
      steady_states: {
        before: { steady_state_met: true, probes: [probe('home', at(1))] },
        during: [
          { tick: 1, probes: [probe('home', at(2))] },
          { tick: 2, probes: [probe('home', at(3))] },
        ],
        after: { steady_state_met: true, probes: [probe('home', at(4))] },
      },
    } as unknown as JsonObject;

    const readings = journalReadings(journal, fault({ target: { labels: { app: 'demo' } } }));

    expect(readings.map((r) => [r.phase, r.when, (r.record as ActivityRecord).end])).toEqual([
      ['STEADY_STATE', 'before', at(1)],
      ['OBSERVE', 'during', at(2)],
      ['OBSERVE', 'during', at(3)],
      ['OBSERVE', 'after', at(4)],
    ]);
  });

  it('reads a Chaos Toolkit journal, whose hypothesis is checked during the method in INJECT; a missing part reads as nothing', () => {
    const journal = { steady_states: { before: null, during: [{ steady_state_met: true, probes: [probe('home', at(2))] }], after: null } } as unknown as JsonObject;

    expect(journalReadings(journal, chaosToolkit()).map((r) => [r.phase, r.when])).toEqual([['INJECT', 'during']]);
    expect(journalReadings({}, chaosToolkit())).toEqual([]);
  });

  it('reads events: each probe result, and every probe of a hypothesis check, with the phase the event names', () => {
    const event = (type: JournalEvent['type'], phase: JournalEvent['phase'], detail: JsonObject): JournalEvent => ({ experimentId: 'exp-1', at: at(0), type, phase, detail });
    const events = [
      event('probe.result', 'STEADY_STATE', { when: 'before', record: probe('home', at(1)) as unknown as JsonObject }),
      event('phase.completed', 'STEADY_STATE', { met: true }),
      event('hypothesis.checked', 'INJECT', { when: 'during', steady_state_met: true, probes: [probe('a', at(2)), probe('b', at(2))] as unknown as JsonObject[] }),
      event('probe.result', 'OBSERVE', { when: 'sometime', record: probe('home', at(3)) as unknown as JsonObject }),
    ];

    expect(eventReadings(events).map((r) => [r.phase, r.when, (r.record as ActivityRecord).activity.name])).toEqual([
      ['STEADY_STATE', 'before', 'home'],
      ['INJECT', 'during', 'a'],
      ['INJECT', 'during', 'b'],
      ['OBSERVE', null, 'home'],
    ]);
  });
});

describe('the latest value of each probe per target', () => {
  const demo = fault({ name: 'kill-one', target: { provider: 'sandbox', labels: { app: 'demo' } } });
  const slow = fault({ name: 'slow-all', chaos_type: 'network_latency', target: { provider: 'sandbox', labels: { app: 'demo' }, selection: 'ALL' } });
  const named = fault({ name: 'kill-named', target: { provider: 'sandbox', pod_names: ['replica-1'] } });

  const slowAnswer = (s: number) => probe('fast', at(s), { status: 'failed', tolerance_met: false, output: { status: 200, latency_ms: 640, failures: ['latency 640 ms exceeds max_latency_ms 300'] } });

  it('takes each probe’s latest result across experiments, groups by target, and puts the latest first', () => {
    // Newest experiment first, as the store lists them.
    const { targets, unreadable } = latestProbes([
      { record: record('exp-3', named), readings: [reading(probe('answers', at(30)))] },
      {
        record: record('exp-2', slow, 'rolled_back'),
        readings: [reading(probe('answers', at(20)), 'before'), reading(slowAnswer(21), 'during'), reading(probe('answers', at(21)), 'during')],
      },
      { record: record('exp-1', demo), readings: [reading(probe('answers', at(10))), reading(probe('home', at(11)))] },
    ]);

    expect(unreadable).toEqual([]);
    expect(targets.map((t) => t.target)).toEqual(['sandbox:default/replica-1', 'sandbox:default/app=demo']);
    const [replica, app] = targets as [JsonObject, JsonObject & { probes: JsonObject[] }];
    expect(replica).toMatchObject({ provider: 'sandbox', namespace: 'default', steady_state_met: true, latest_at: at(30) });
    expect(app.latest_at).toBe(at(21));
    // Each probe's latest reading outside the fault, and beside it its newer one under the fault.
    expect(app.probes.map((p) => [p.name, p.when, p.measured_at, (p.experiment as JsonObject).id])).toEqual([
      ['answers', 'during', at(21), 'exp-2'],
      ['fast', 'during', at(21), 'exp-2'],
      ['answers', 'before', at(20), 'exp-2'],
      ['home', 'after', at(11), 'exp-1'],
    ]);
    expect(app.probes[1]).toEqual({
      name: 'fast',
      type: 'http',
      within_tolerance: false,
      status: 'failed',
      output: { status: 200, latency_ms: 640, failures: ['latency 640 ms exceeds max_latency_ms 300'] },
      duration: 0.012,
      measured_at: at(21),
      experiment: { id: 'exp-2', name: 'slow-all', status: 'rolled_back' },
      phase: 'OBSERVE',
      when: 'during',
    });
  });

  it('judges the steady state from the readings before and after a fault: degrading under it does not count', () => {
    const { targets } = latestProbes([
      {
        record: record('exp-2', slow, 'completed'),
        // An on_chaos probe slow under the fault, as expected; every reading before and after within tolerance.
        readings: [reading(probe('answers', at(20)), 'before'), reading(slowAnswer(21), 'during'), reading(slowAnswer(22), 'during'), reading(probe('answers', at(23)), 'after')],
      },
    ]);

    const [app] = targets as [JsonObject & { probes: JsonObject[] }];
    expect(app.steady_state_met).toBe(true);
    expect(app).not.toHaveProperty('steady_state_unknown');
    // Only the latest reading under the fault is shown, marked as such.
    expect(app.probes.map((p) => [p.name, p.when, p.within_tolerance, p.measured_at])).toEqual([
      ['answers', 'after', true, at(23)],
      ['fast', 'during', false, at(22)],
    ]);
  });

  it('is not met when a reading after the fault is out of tolerance, and shows no older reading under the fault', () => {
    const notRecovered = probe('answers', at(23), { status: 'failed', tolerance_met: false, output: { status: 503, latency_ms: 3, failures: ['status 503'] } });
    const { targets } = latestProbes([
      { record: record('exp-2', slow), readings: [reading(probe('answers', at(20)), 'before'), reading(probe('answers', at(21)), 'during'), reading(notRecovered, 'after')] },
    ]);

    const [app] = targets as [JsonObject & { probes: JsonObject[] }];
    expect(app.steady_state_met).toBe(false);
    expect(app.probes.map((p) => [p.name, p.when])).toEqual([['answers', 'after']]);
  });

  it('has no verdict, saying why, for a target whose probes were read only during a fault', () => {
    // A run still under its fault whose only probe is on_chaos; and one whose readings do not say when they were taken.
    const { targets } = latestProbes([
      { record: record('exp-2', slow, 'running'), readings: [reading(slowAnswer(21), 'during')] },
      { record: record('exp-1', named), readings: [reading(probe('answers', at(5)), null)] },
    ]);

    expect(targets.map((t) => [t.target, t.steady_state_met])).toEqual([
      ['sandbox:default/app=demo', null],
      ['sandbox:default/replica-1', null],
    ]);
    expect(targets[0]?.steady_state_unknown).toMatch(/^no probe of this target was read before or after a fault/);
    expect((targets[0]?.probes as JsonObject[]).map((p) => [p.name, p.when, p.within_tolerance])).toEqual([['fast', 'during', false]]);
  });

  it('keeps the newer experiment’s result of the same instant, and a probe that failed to run with its exception', () => {
    const failed = probe('answers', at(5), { status: 'failed', tolerance_met: false, output: undefined, exception: ['Error: connect ECONNREFUSED'] });
    const { targets } = latestProbes([
      { record: record('exp-new', demo), readings: [reading(failed)] },
      { record: record('exp-old', demo), readings: [reading(probe('answers', at(5)))] },
    ]);

    const [only] = (targets[0] as { probes: JsonObject[] }).probes;
    expect(only).toMatchObject({ experiment: { id: 'exp-new' }, within_tolerance: false, output: null, exception: ['Error: connect ECONNREFUSED'] });
  });

  it('counts what does not read as a probe result, and shows none of it', () => {
    const large = probe('body', at(2), { output: { body: 'x'.repeat(MAX_OUTPUT_CHARS) } });
    const { targets, unreadable } = latestProbes([
      {
        record: record('exp-1', demo),
        readings: [reading(large), reading({ activity: { type: 'probe', name: 'no-end' }, status: 'succeeded' }), reading('garbage'), reading({ ...probe('action', at(3)), activity: { type: 'action', name: 'kill', provider: {} } })],
      },
    ]);

    expect(unreadable).toEqual([{ experimentId: 'exp-1', count: 3, problem: expect.stringContaining('end') }]);
    expect((targets[0] as { probes: JsonObject[] }).probes.map((p) => p.name)).toEqual(['body']);
  });

  describe('an output too large to show whole', () => {
    const shown = (output: unknown) => {
      const { targets } = latestProbes([{ record: record('exp-1', demo), readings: [reading(probe('big', at(2), { output: output as ActivityRecord['output'] }))] }]);
      return (targets[0] as { probes: JsonObject[] }).probes[0] as JsonObject;
    };

    it('keeps what a prometheus probe measured (value, tolerance, series count, the first failures) and leaves out its series', () => {
      // As the probe writes it for a latency query over 37 routes, 23 of them out of tolerance.
      const labels = (n: number) => ({ __name__: 'http_request_duration_seconds', instance: `10.0.0.${n}:9102`, job: 'checkout-api', route: `/api/v1/orders/${n}/items` });
      const selector = (n: number) => `http_request_duration_seconds{instance="10.0.0.${n}:9102", job="checkout-api", route="/api/v1/orders/${n}/items"}`;
      const output = {
        result_type: 'vector',
        value: 0.93,
        series: Array.from({ length: MAX_SERIES_KEPT }, (_, n) => ({ labels: labels(n), value: 0.93 - n / 100, within_tolerance: false })),
        series_count: 37,
        tolerance: { lt: 0.5 },
        failures: [...Array.from({ length: MAX_SERIES_FAILURES }, (_, n) => `${selector(n)} = ${0.93 - n / 100}, expected < 0.5`), 'and 13 more series out of tolerance'],
      };
      const size = JSON.stringify(output).length;
      expect(size).toBeGreaterThan(MAX_OUTPUT_CHARS);

      const big = shown(output);

      expect(big.output).toEqual({
        result_type: 'vector',
        value: 0.93,
        series_count: 37,
        tolerance: { lt: 0.5 },
        failures: output.failures.slice(0, MAX_FAILURES_SHOWN),
      });
      expect(big.output_omitted).toEqual({ characters: size, fields: ['series'], failures: 6, whole_output: 'GET /api/chaos/experiments/exp-1' });
      expect(JSON.stringify(big.output).length).toBeLessThanOrEqual(MAX_OUTPUT_CHARS);
    });

    it('keeps an http answer’s status and headers, and leaves out its large body; a long failure is cut', () => {
      // A Chaos Toolkit http probe keeps the whole body it read.
      const output = { status: 503, headers: { 'content-type': 'text/html', 'retry-after': '5' }, body: '<html>'.padEnd(9000, 'x'), failures: [`status 503: ${'y'.repeat(400)}`] };

      const big = shown(output);

      expect(big.output).toEqual({ status: 503, headers: output.headers, failures: [`status 503: ${'y'.repeat(188)}…`] });
      expect(big.output_omitted).toEqual({ characters: JSON.stringify(output).length, fields: ['body'], whole_output: 'GET /api/chaos/experiments/exp-1' });
    });

    it('leaves out a large output that has no fields to keep', () => {
      const big = shown('z'.repeat(MAX_OUTPUT_CHARS + 1));

      expect(big.output).toBeNull();
      expect(big.output_omitted).toEqual({ characters: MAX_OUTPUT_CHARS + 3, whole_output: 'GET /api/chaos/experiments/exp-1' });
    });
  });

  it('leaves out a Chaos Toolkit experiment whose probes ran dry (nothing was measured) and experiments with no results', () => {
    const { targets } = latestProbes([
      { record: record('exp-dry', chaosToolkit({ dry: 'probes' })), readings: [reading(probe('home', at(1)))] },
      { record: record('exp-none', demo), readings: [] },
      { record: record('exp-ctk', chaosToolkit({ dry: 'actions' })), readings: [reading(probe('home', at(2)))] },
    ]);

    expect(targets.map((t) => t.target)).toEqual(['chaostoolkit:ctk-checkout']);
  });
});

describe('the topology sources', () => {
  const workload = (namespace: string, name: string, replicas: number, ready: number) => ({
    kind: 'Deployment',
    namespace,
    protected: namespace === 'kube-system',
    name,
    labels: {},
    selector: { app: name },
    replicas,
    ready_replicas: ready,
    available_replicas: ready,
  });

  it('gives ready against desired replicas per workload, in the namespace asked for', () => {
    const topology = { cluster: null, namespaces: [], deployments: [workload('shop', 'web', 3, 2), workload('kube-system', 'coredns', 2, 2)], statefulsets: [workload('shop', 'db', 1, 1)], pods: [], services: [] };

    const all = kubernetesSignals(topology);
    const shop = kubernetesSignals(topology, { namespace: 'shop' });

    expect(all).toMatchObject({ available: true, cluster: null });
    expect(all.deployments).toEqual([
      { namespace: 'shop', name: 'web', protected: false, replicas: 3, ready_replicas: 2, available_replicas: 2, all_ready: false },
      { namespace: 'kube-system', name: 'coredns', protected: true, replicas: 2, ready_replicas: 2, available_replicas: 2, all_ready: true },
    ]);
    expect(shop.deployments).toEqual([expect.objectContaining({ name: 'web' })]);
    expect(shop.statefulsets).toEqual([expect.objectContaining({ name: 'db', all_ready: true })]);
  });

  it('gives each instance’s state and each DB cluster’s status', () => {
    const topology = {
      tag: 'chaosduck:target=true',
      region: 'eu-west-1',
      instances: [{ instance_id: 'i-0123456789abcdef0', state: 'stopped', type: 't3.micro', az: 'eu-west-1a', vpc_id: 'vpc-1', subnet_id: 'subnet-1', tags: { tier: 'web' } }],
      db_clusters: [{ db_cluster_identifier: 'orders', engine: 'aurora-postgresql', status: 'failing-over', writer: 'orders-2', members: ['orders-1', 'orders-2'], tags: {} }],
      vpcs: [],
      subnets: [],
      route_tables: [],
    };

    expect(awsSignals(topology)).toEqual({
      available: true,
      tag: 'chaosduck:target=true',
      region: 'eu-west-1',
      instances: [{ instance_id: 'i-0123456789abcdef0', state: 'stopped', type: 't3.micro', az: 'eu-west-1a', tags: { tier: 'web' } }],
      db_clusters: [{ db_cluster_identifier: 'orders', engine: 'aurora-postgresql', status: 'failing-over', writer: 'orders-2', members: ['orders-1', 'orders-2'] }],
    });
  });

  it('says why a source is unavailable: not configured, failed (as the source reported it), or an answer it cannot read', () => {
    const failed = { error: { code: 'SOURCE_UNAVAILABLE', message: 'Error: connect ECONNREFUSED 127.0.0.1:6443' } };

    expect(kubernetesSignals(null)).toEqual({ available: false, error: { code: 'NOT_CONFIGURED', message: 'this control plane has no Kubernetes access configured' } });
    expect(awsSignals(null)).toEqual({ available: false, error: { code: 'NOT_CONFIGURED', message: 'this control plane has no AWS access configured' } });
    expect(kubernetesSignals(failed)).toEqual({ available: false, ...failed });
    expect(awsSignals({ instances: 'none' })).toMatchObject({ available: false, error: { code: 'SOURCE_UNAVAILABLE', message: expect.stringContaining('instances') } });
  });
});
