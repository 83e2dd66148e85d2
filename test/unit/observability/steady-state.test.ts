/**
 * The steady state as last seen, from what the store and the topology sources gave: the target an experiment aimed
 * at, its probe results read from a journal or from events, the latest value of each probe per target, and the
 * sources' ready replicas and instance states, or why a source is unavailable.
 */
import { describe, expect, it } from 'vitest';
import type { ActivityRecord, JsonObject } from '../../../shared/journal/activity.js';
import { chaosToolkitSpecSchema, experimentSchema, type ExperimentSpec } from '../../../shared/model/experiment.js';
import type { ExperimentRecord, JournalEvent } from '../../../shared/model/lifecycle.js';
import {
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

  it('takes each probe’s latest result across experiments, groups by target, and puts the latest first', () => {
    // Newest experiment first, as the store lists them.
    const { targets, unreadable } = latestProbes([
      { record: record('exp-3', named), readings: [reading(probe('answers', at(30)))] },
      {
        record: record('exp-2', slow, 'rolled_back'),
        readings: [
          reading(probe('answers', at(20)), 'before'),
          reading(probe('fast', at(21), { status: 'failed', tolerance_met: false, output: { status: 200, latency_ms: 640, failures: ['latency 640 ms exceeds max_latency_ms 300'] } }), 'during'),
          reading(probe('answers', at(21)), 'during'),
        ],
      },
      { record: record('exp-1', demo), readings: [reading(probe('answers', at(10))), reading(probe('home', at(11)))] },
    ]);

    expect(unreadable).toEqual([]);
    expect(targets.map((t) => t.target)).toEqual(['sandbox:default/replica-1', 'sandbox:default/app=demo']);
    const [replica, app] = targets as [JsonObject, JsonObject & { probes: JsonObject[] }];
    expect(replica).toMatchObject({ provider: 'sandbox', namespace: 'default', steady_state_met: true, latest_at: at(30) });
    expect(app.steady_state_met).toBe(false);
    expect(app.latest_at).toBe(at(21));
    expect(app.probes.map((p) => [p.name, p.measured_at, (p.experiment as JsonObject).id])).toEqual([
      ['answers', at(21), 'exp-2'],
      ['fast', at(21), 'exp-2'],
      ['home', at(11), 'exp-1'],
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

  it('keeps the newer experiment’s result of the same instant, and a probe that failed to run with its exception', () => {
    const failed = probe('answers', at(5), { status: 'failed', tolerance_met: false, output: undefined, exception: ['Error: connect ECONNREFUSED'] });
    const { targets } = latestProbes([
      { record: record('exp-new', demo), readings: [reading(failed)] },
      { record: record('exp-old', demo), readings: [reading(probe('answers', at(5)))] },
    ]);

    const [only] = (targets[0] as { probes: JsonObject[] }).probes;
    expect(only).toMatchObject({ experiment: { id: 'exp-new' }, within_tolerance: false, output: null, exception: ['Error: connect ECONNREFUSED'] });
  });

  it('counts what does not read as a probe result, shows none of it, and leaves a large output to the experiment', () => {
    const large = probe('body', at(2), { output: { body: 'x'.repeat(MAX_OUTPUT_CHARS) } });
    const { targets, unreadable } = latestProbes([
      {
        record: record('exp-1', demo),
        readings: [reading(large), reading({ activity: { type: 'probe', name: 'no-end' }, status: 'succeeded' }), reading('garbage'), reading({ ...probe('action', at(3)), activity: { type: 'action', name: 'kill', provider: {} } })],
      },
    ]);

    expect(unreadable).toEqual([{ experimentId: 'exp-1', count: 3, problem: expect.stringContaining('end') }]);
    const [body] = (targets[0] as { probes: JsonObject[] }).probes;
    expect(body).toMatchObject({ name: 'body', output: null, output_omitted: expect.stringContaining('GET /api/chaos/experiments/exp-1') });
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
