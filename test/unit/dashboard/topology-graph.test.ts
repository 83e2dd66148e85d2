/**
 * The Topology tab's model (dashboard/src/topology-graph.ts): the combined topology and the steady state, as the
 * routes answer them, made into nodes and edges (the sandbox as the local server shows it, read from a real in-process
 * sandbox; a cluster's and an account's resources in the shapes their topology functions answer), each node's state
 * in words and its latest probe readings (from a real run's journal, through the steady-state route's own functions);
 * and the experiment target that selected nodes stand for, taken by the API's own experiment schema.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_NODES, parseTargetKey, targetOf, topologyGraph, type GraphNode } from '../../../dashboard/src/topology-graph.js';
import { sandboxTopology } from '../../../local/topology.js';
import { startSandbox, type Sandbox } from '../../../local/sandbox/sandbox.js';
import type { JsonObject } from '../../../shared/journal/activity.js';
import { experimentSchema, type ExperimentSpec } from '../../../shared/model/experiment.js';
import { awsSignals, experimentTarget, journalReadings, kubernetesSignals, latestProbes } from '../../../shared/observability/steady-state.js';

const podDeleteJournal = JSON.parse(readFileSync('test/support/fixtures/journals/sandbox-pod-delete.json', 'utf8')) as JsonObject;
/** The run's experiment (the journal adds Chaos Toolkit's `title`), aimed at `target` when given. */
function podDeleteSpec(target?: unknown): ExperimentSpec {
  const { title: _title, ...experiment } = podDeleteJournal.experiment as JsonObject;
  return experimentSchema.parse({ ...experiment, ...(target ? { target } : {}) });
}

/** A cluster as kubernetesTopology answers it: a protected namespace, a deployment with two pods, a service selecting them. */
const kubernetes: JsonObject = {
  cluster: null,
  namespaces: [
    { name: 'kube-system', phase: 'Active', protected: true },
    { name: 'shop', phase: 'Active', protected: false },
  ],
  deployments: [
    { kind: 'Deployment', namespace: 'kube-system', protected: true, name: 'coredns', labels: {}, selector: { 'k8s-app': 'kube-dns' }, replicas: 1, ready_replicas: 1, available_replicas: 1 },
    { kind: 'Deployment', namespace: 'shop', protected: false, name: 'web', labels: { app: 'web' }, selector: { app: 'web' }, replicas: 2, ready_replicas: 1, available_replicas: 1 },
  ],
  statefulsets: [],
  pods: [
    { namespace: 'shop', protected: false, name: 'web-7f9c-a', labels: { app: 'web', 'pod-template-hash': '7f9c' }, phase: 'Running', ready: true, node: 'n1', owner: 'ReplicaSet/web-7f9c', chaos_agents: [] },
    { namespace: 'shop', protected: false, name: 'web-7f9c-b', labels: { app: 'web', 'pod-template-hash': '7f9c' }, phase: 'Pending', ready: false, node: null, owner: 'ReplicaSet/web-7f9c', chaos_agents: [] },
  ],
  services: [{ namespace: 'shop', name: 'web', type: 'ClusterIP', cluster_ip: '10.0.0.10', selector: { app: 'web' }, ports: [] }],
};

/** An account as awsTopology answers it: a VPC, a subnet, an instance in it, a DB cluster. */
const aws: JsonObject = {
  tag: 'chaos-ready=true',
  region: 'eu-west-1',
  instances: [{ instance_id: 'i-0123456789abcdef0', state: 'running', type: 't3.micro', az: 'eu-west-1a', vpc_id: 'vpc-1', subnet_id: 'subnet-0aaaaaaaaaaaaaaaa', tags: { Name: 'web-1' } }],
  db_clusters: [{ db_cluster_identifier: 'orders', engine: 'aurora-postgresql', status: 'available', writer: 'orders-1', members: ['orders-1', 'orders-2'], tags: {} }],
  vpcs: [{ vpc_id: 'vpc-1', cidr: '10.0.0.0/16', tags: {} }],
  subnets: [{ subnet_id: 'subnet-0aaaaaaaaaaaaaaaa', vpc_id: 'vpc-1', cidr: '10.0.1.0/24', az: 'eu-west-1a', tags: {} }],
  route_tables: [{ route_table_id: 'rtb-0aaaaaaaaaaaaaaaa', vpc_id: 'vpc-1', subnet_ids: ['subnet-0aaaaaaaaaaaaaaaa'], main: false, tags: {} }],
};

/** The steady-state route's answer: the latest probe values of the given experiments, and the sources' signals. */
function steadyStateOf(experiments: { id: string; spec: ExperimentSpec; journal: JsonObject }[], sources: { kubernetes?: JsonObject | null; aws?: JsonObject | null } = {}) {
  const { targets } = latestProbes(
    experiments.map(({ id, spec, journal }) => ({
      record: { id, spec, status: 'completed', createdAt: '2026-12-02T05:32:00.000Z', updatedAt: '2026-12-02T05:32:20.000Z' },
      readings: journalReadings(journal, spec),
    })),
  );
  return { targets, kubernetes: kubernetesSignals(sources.kubernetes ?? null), aws: awsSignals(sources.aws ?? null) };
}

const node = (nodes: GraphNode[], id: string) => {
  const found = nodes.find((n) => n.id === id);
  if (!found) throw new Error(`no node ${id} among ${nodes.map((n) => n.id).join(', ')}`);
  return found;
};
/** What a node's target is, as the API takes it in an experiment of `chaosType`. */
const taken = (target: unknown, chaosType: string) => experimentSchema.safeParse({ name: 'from-the-graph', chaos_type: chaosType, target }).success;

describe('the topology as a graph', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ replicas: 3, replicaMode: 'in-process' });
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  it('draws the sandbox the local server shows: its service, each replica under it, ready, with the steady state a run read', () => {
    const spec = podDeleteSpec();
    const graph = topologyGraph({ aws: null, kubernetes: null, sandbox: sandboxTopology(sandbox) }, steadyStateOf([{ id: 'exp-1', spec, journal: podDeleteJournal }]));

    expect(graph.sources).toEqual([
      { name: 'sandbox', state: 'shown' },
      { name: 'kubernetes', state: 'not configured' },
      { name: 'aws', state: 'not configured' },
    ]);
    expect(graph.nodes.map((n) => n.id)).toEqual(['sandbox:demo', 'sandbox/demo/replica-1', 'sandbox/demo/replica-2', 'sandbox/demo/replica-3']);
    expect(graph.edges).toEqual(['replica-1', 'replica-2', 'replica-3'].map((id) => ({ source: 'sandbox:demo', target: `sandbox/demo/${id}` })));
    const service = node(graph.nodes, 'sandbox:demo');
    expect(service.status).toEqual({ tone: 'good', text: '3 of 3 ready' });
    expect(service.target).toEqual({ provider: 'sandbox', labels: { app: 'demo' } });
    expect(service.targetIds).toEqual(['sandbox/demo/replica-1', 'sandbox/demo/replica-2', 'sandbox/demo/replica-3']);
    // The run aimed at app=demo: its readings are the service's, judged from before and after the fault.
    expect(service.steadyState).toBe(true);
    expect(service.signals.map((s) => [s.probe, s.type, s.within, s.experiment.id])).toContainEqual(['demo-answers', 'http', true, 'exp-1']);
    expect(service.signals.find((s) => s.when === 'after')?.reading).toMatch(/^HTTP 200 in \d+ ms$/);
    const replica = node(graph.nodes, 'sandbox/demo/replica-2');
    expect(replica).toMatchObject({ kind: 'sandbox-replica', name: 'replica-2', status: { tone: 'good', text: 'ready' }, target: { provider: 'sandbox', pod_names: ['replica-2'] } });
    expect(replica.signals).toEqual([]);
    expect(graph.unplaced).toEqual([]);
  });

  it('places readings of a replica named exactly on that replica, and keeps readings of what is not drawn apart', () => {
    const spec = podDeleteSpec;
    const graph = topologyGraph(
      { aws: null, kubernetes: null, sandbox: sandboxTopology(sandbox) },
      steadyStateOf([
        { id: 'exp-named', spec: spec({ provider: 'sandbox', pod_names: ['replica-3'] }), journal: podDeleteJournal },
        { id: 'exp-elsewhere', spec: spec({ provider: 'kubernetes', namespace: 'shop', labels: { app: 'web' } }), journal: podDeleteJournal },
      ]),
    );

    expect(node(graph.nodes, 'sandbox/demo/replica-3').signals.map((s) => [s.experiment.id, s.when])).toEqual([['exp-named', 'after']]);
    expect(node(graph.nodes, 'sandbox:demo').signals).toEqual([]);
    expect(graph.unplaced.map((u) => [u.target, u.steadyState])).toEqual([['kubernetes:shop/app=web', true]]);
  });

  it('draws a cluster: namespaces, workloads with their ready replicas, pods under what selects them; protected ones never targets', () => {
    const spec = podDeleteSpec({ provider: 'kubernetes', namespace: 'shop', labels: { app: 'web' } });
    const graph = topologyGraph({ aws: null, kubernetes }, steadyStateOf([{ id: 'exp-web', spec, journal: podDeleteJournal }], { kubernetes }));

    expect(graph.sources.map((s) => [s.name, s.state])).toEqual([
      ['sandbox', 'not configured'],
      ['kubernetes', 'shown'],
      ['aws', 'not configured'],
    ]);
    const web = node(graph.nodes, 'k8s/deployments/shop/web');
    expect(web.status).toEqual({ tone: 'warn', text: '1 of 2 ready' });
    expect(web.target).toEqual({ provider: 'kubernetes', namespace: 'shop', labels: { app: 'web' } });
    expect(web.targetIds).toEqual(['shop/web-7f9c-a', 'shop/web-7f9c-b']);
    expect(web.steadyState).toBe(true);
    expect(web.signals.length).toBeGreaterThan(0);
    expect(node(graph.nodes, 'k8s/deployments/kube-system/coredns').target).toBeUndefined();
    expect(node(graph.nodes, 'k8s/ns/kube-system').status).toEqual({ tone: 'neutral', text: 'protected' });
    expect(node(graph.nodes, 'k8s/pod/shop/web-7f9c-b')).toMatchObject({ status: { tone: 'warn', text: 'pending' }, target: { provider: 'kubernetes', namespace: 'shop', pod_names: ['web-7f9c-b'] } });
    expect(node(graph.nodes, 'k8s/service/shop/web').target).toEqual({ provider: 'kubernetes', namespace: 'shop', labels: { app: 'web' } });
    expect(graph.edges).toEqual(
      expect.arrayContaining([
        { source: 'k8s', target: 'k8s/ns/shop' },
        { source: 'k8s/ns/shop', target: 'k8s/deployments/shop/web' },
        { source: 'k8s/deployments/shop/web', target: 'k8s/pod/shop/web-7f9c-a' },
        { source: 'k8s/service/shop/web', target: 'k8s/pod/shop/web-7f9c-a' },
      ]),
    );
  });

  it('draws an account: VPC, subnet, instance and route table under it, the DB cluster, each state from the steady state', () => {
    const stopped = { ...aws, instances: [{ ...(aws.instances as JsonObject[])[0], state: 'stopped' }] };
    const graph = topologyGraph({ aws, kubernetes: null }, steadyStateOf([], { aws: stopped }));

    // The steady-state route read the instance after the topology did: its state is the newer one.
    expect(node(graph.nodes, 'aws/instance/i-0123456789abcdef0')).toMatchObject({
      name: 'web-1',
      status: { tone: 'bad', text: 'stopped' },
      target: { provider: 'aws', instance_ids: ['i-0123456789abcdef0'], region: 'eu-west-1' },
    });
    expect(node(graph.nodes, 'aws/db/orders')).toMatchObject({ status: { tone: 'good', text: 'available' }, target: { provider: 'aws', db_cluster_identifier: 'orders', region: 'eu-west-1' } });
    expect(graph.edges).toEqual(
      expect.arrayContaining([
        { source: 'aws', target: 'aws/vpc/vpc-1' },
        { source: 'aws/vpc/vpc-1', target: 'aws/subnet/subnet-0aaaaaaaaaaaaaaaa' },
        { source: 'aws/subnet/subnet-0aaaaaaaaaaaaaaaa', target: 'aws/instance/i-0123456789abcdef0' },
        { source: 'aws/vpc/vpc-1', target: 'aws/rtb/rtb-0aaaaaaaaaaaaaaaa' },
        { source: 'aws', target: 'aws/db/orders' },
      ]),
    );
  });

  it('says which source failed and why, and draws the others', () => {
    const graph = topologyGraph({ aws: { error: { code: 'SOURCE_UNAVAILABLE', message: 'CredentialsProviderError: Could not load credentials' } }, kubernetes }, {});

    expect(graph.sources.find((s) => s.name === 'aws')).toEqual({ name: 'aws', state: 'unavailable', message: 'CredentialsProviderError: Could not load credentials' });
    expect(graph.nodes.some((n) => n.id === 'k8s/deployments/shop/web')).toBe(true);
  });

  it('leaves pods and replicas out of a graph too large to read, saying so, and their workloads still stand for them', () => {
    const pods = Array.from({ length: MAX_NODES }, (_, i) => ({ namespace: 'shop', name: `web-${i}`, labels: { app: 'web' }, phase: 'Running', ready: true }));
    const graph = topologyGraph({ aws: null, kubernetes: { ...kubernetes, pods } }, {});

    expect(graph.nodes.every((n) => n.kind !== 'pod')).toBe(true);
    expect(graph.leftOut).toEqual([`${MAX_NODES} pods (select their workload or service instead)`]);
    expect(node(graph.nodes, 'k8s/deployments/shop/web').targetIds).toHaveLength(MAX_NODES);
    expect(graph.edges.every((edge) => graph.nodes.some((n) => n.id === edge.target))).toBe(true);
  });
});

describe('a target key read back', () => {
  it('gives the labels and names each kind of key selects by, as experimentTarget wrote them', () => {
    const key = (chaosType: string, target: unknown) => {
      const { key: written, ...where } = experimentTarget(experimentSchema.parse({ name: 'k', chaos_type: chaosType, target, safety: { max_blast_radius: 1 } }));
      return parseTargetKey({ target: written, ...where });
    };

    expect(key('pod_delete', { provider: 'sandbox', labels: { app: 'demo', tier: 'web' } })).toEqual({ provider: 'sandbox', labels: { app: 'demo', tier: 'web' }, names: [] });
    expect(key('pod_delete', { namespace: 'shop', cluster: 'arn:aws:eks:eu-west-1:111122223333:cluster/a', pod_names: ['web-1'] })).toEqual({ provider: 'kubernetes', labels: {}, names: ['web-1'] });
    expect(key('pod_delete', { namespace: 'shop', labels: { 'app.kubernetes.io/name': 'web' } })).toEqual({ provider: 'kubernetes', labels: { 'app.kubernetes.io/name': 'web' }, names: [] });
    expect(key('ec2_stop', { instance_ids: ['i-0123456789abcdef0'], tags: { tier: 'web' }, region: 'eu-west-1' })).toEqual({
      provider: 'aws',
      kind: 'ec2',
      labels: { tier: 'web' },
      names: ['i-0123456789abcdef0'],
    });
  });
});

describe('the target of the selected nodes', () => {
  let sandbox: Sandbox;
  let graph: ReturnType<typeof topologyGraph>;
  beforeAll(async () => {
    sandbox = await startSandbox({ replicas: 3, replicaMode: 'in-process' });
    graph = topologyGraph({ aws, kubernetes, sandbox: sandboxTopology(sandbox) }, {});
  });
  afterAll(async () => {
    await sandbox?.stop();
  });
  const of = (...ids: string[]) => targetOf(ids.map((id) => node(graph.nodes, id)));

  it('is the node’s own for one node, in a shape the API takes', () => {
    for (const [id, chaosType] of [
      ['sandbox:demo', 'pod_delete'],
      ['sandbox/demo/replica-1', 'network_latency'],
      ['k8s/deployments/shop/web', 'cpu_stress'],
      ['k8s/service/shop/web', 'pod_delete'],
      ['k8s/pod/shop/web-7f9c-a', 'pod_delete'],
      ['aws/instance/i-0123456789abcdef0', 'ec2_stop'],
      ['aws/db/orders', 'rds_failover'],
      ['aws/subnet/subnet-0aaaaaaaaaaaaaaaa', 'route_blackhole'],
      ['aws/rtb/rtb-0aaaaaaaaaaaaaaaa', 'route_blackhole'],
    ] as const) {
      const chosen = of(id);
      expect('target' in chosen, id).toBe(true);
      if ('target' in chosen) expect(taken(chosen.target, chaosType), `${id}: ${JSON.stringify(chosen.target)}`).toBe(true);
    }
  });

  it('names several replicas or pods of one namespace in one list, every one of them hit', () => {
    const replicas = of('sandbox/demo/replica-1', 'sandbox/demo/replica-3');
    expect(replicas).toEqual({ target: { provider: 'sandbox', pod_names: ['replica-1', 'replica-3'], selection: 'ALL' } });
    expect(of('k8s/pod/shop/web-7f9c-a', 'k8s/pod/shop/web-7f9c-b')).toEqual({ target: { provider: 'kubernetes', namespace: 'shop', pod_names: ['web-7f9c-a', 'web-7f9c-b'], selection: 'ALL' } });
    expect('target' in replicas && taken(replicas.target, 'pod_delete')).toBe(true);
  });

  it('refuses to make one target of different kinds, or of what cannot be targeted, saying why', () => {
    expect(of('sandbox/demo/replica-1', 'k8s/pod/shop/web-7f9c-a')).toEqual({ problem: expect.stringMatching(/one kind of thing in one place/) });
    expect(of('k8s/deployments/shop/web', 'k8s/service/shop/web')).toEqual({ problem: expect.stringMatching(/one kind of thing/) });
    expect(of('k8s/ns/shop')).toEqual({ problem: 'namespace shop cannot be targeted' });
    expect(targetOf([])).toEqual({ problem: 'nothing is selected' });
  });
});
