/**
 * The `k8s` probe and the Kubernetes topology routes against the FAKE Kubernetes API server
 * (test/support/fake-kube-apiserver.ts), spoken to by the real @kubernetes/client-node over HTTP.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime.js';
import { startServer, type LocalServer } from '../../local/server.js';
import { kubeClientsFromConfig, type KubeClientResolver } from '../../shared/faults/kubernetes/cluster.js';
import { probeSchema, type Probe } from '../../shared/model/experiment.js';
import { runProbe } from '../../shared/probes/index.js';
import { FakeKubeApiServer } from '../support/fake-kube-apiserver.js';

const TOKEN = 'test-token-0123456789';
let fake: FakeKubeApiServer;
let kube: KubeClientResolver;

beforeEach(async () => {
  fake = await FakeKubeApiServer.start({ recreateDelayMs: 10_000, readyDelayMs: 10_000 });
  const clients = kubeClientsFromConfig(fake.kubeConfig());
  kube = async () => clients;
});
afterEach(async () => {
  await fake.stop();
});

const k8sProbe = (properties: Record<string, unknown>): Probe => probeSchema.parse({ name: 'k8s-health', type: 'k8s', properties });
const run = (properties: Record<string, unknown>) => runProbe(k8sProbe(properties), { runtime: 'local', signal: AbortSignal.timeout(5_000), kube });

describe('k8s probe', () => {
  it('deployment: ok when all desired replicas are ready; not ok when one is lost', async () => {
    const { pods } = fake.addDeployment({ namespace: 'shop', name: 'web', replicas: 3, labels: { app: 'web' } });

    const healthy = await run({ namespace: 'shop', kind: 'deployment', name: 'web' });
    await fetch(`${fake.url}/api/v1/namespaces/shop/pods/${pods[0]!.metadata.name}`, { method: 'DELETE' });
    const degraded = await run({ namespace: 'shop', kind: 'deployment', name: 'web' });
    const tolerant = await run({ namespace: 'shop', kind: 'deployment', name: 'web', min_ready_replicas: 2 });

    expect(healthy).toMatchObject({ status: 'succeeded', tolerance_met: true, output: { desired: 3, ready: 3, available: 3, failures: [] } });
    expect(degraded).toMatchObject({ status: 'failed', tolerance_met: false, output: { desired: 3, ready: 2, available: 2 } });
    expect((degraded.output as { failures: string[] }).failures[0]).toContain('has 2 ready replicas, needs at least 3');
    expect(tolerant).toMatchObject({ tolerance_met: true, output: { ready: 2, min_ready_replicas: 2 } });
    expect(healthy.activity.provider).toEqual({ type: 'k8s', namespace: 'shop', kind: 'deployment', name: 'web' });
    expect(fake.requestLines('/apis/apps/v1')).toContain('GET /apis/apps/v1/namespaces/shop/deployments/web');
  });

  it('statefulset: ok at its desired replicas, not ok below min_ready_replicas', async () => {
    const { pods } = fake.addStatefulSet({ namespace: 'data', name: 'db', replicas: 2, labels: { app: 'db' } });

    const healthy = await run({ namespace: 'data', kind: 'statefulset', name: 'db' });
    await fetch(`${fake.url}/api/v1/namespaces/data/pods/${pods[1]!.metadata.name}`, { method: 'DELETE' });
    const degraded = await run({ namespace: 'data', kind: 'statefulset', name: 'db', min_ready_replicas: 2 });

    expect(healthy).toMatchObject({ tolerance_met: true, output: { desired: 2, ready: 2, available: 2 } });
    expect(degraded).toMatchObject({ tolerance_met: false, output: { desired: 2, ready: 1 } });
  });

  it('pods: counts pods by label in the expected phase and Ready against min_pods', async () => {
    fake.addDeployment({ namespace: 'shop', name: 'web', replicas: 2, labels: { app: 'web' } });
    fake.addPod({ namespace: 'shop', name: 'web-pending', labels: { app: 'web' }, phase: 'Pending' });
    fake.addDeployment({ namespace: 'shop', name: 'api', replicas: 1, labels: { app: 'api' } });

    const ok = await run({ namespace: 'shop', kind: 'pods', labels: { app: 'web' }, min_pods: 2 });
    const notOk = await run({ namespace: 'shop', kind: 'pods', labels: { app: 'web' }, min_pods: 3 });
    const pending = await run({ namespace: 'shop', kind: 'pods', labels: { app: 'web' }, expected_phase: 'Pending' });
    const none = await run({ namespace: 'shop', kind: 'pods', labels: { app: 'nothing' } });

    expect(ok).toMatchObject({ tolerance_met: true, output: { total: 3, in_phase: 2, ready: 2, min_pods: 2, expected_phase: 'Running' } });
    expect(notOk).toMatchObject({ tolerance_met: false, output: { total: 3, in_phase: 2, ready: 2, min_pods: 3 } });
    expect(pending).toMatchObject({ tolerance_met: true, output: { total: 3, in_phase: 1, ready: 0 } });
    expect(none).toMatchObject({ tolerance_met: false, output: { total: 0, in_phase: 0, ready: 0, min_pods: 1 } });
    expect(fake.requestLines('/api/v1/namespaces/shop/pods')[0]).toBe('GET /api/v1/namespaces/shop/pods?labelSelector=app=web&limit=500');
  });

  it('a missing deployment is a failed outcome naming it, not a crash', async () => {
    const record = await run({ namespace: 'shop', kind: 'deployment', name: 'ghost' });
    const sts = await run({ namespace: 'shop', kind: 'statefulset', name: 'ghost-db' });

    expect(record).toMatchObject({ status: 'failed', tolerance_met: false, output: { kind: 'deployment', namespace: 'shop' } });
    expect((record.output as { failures: string[] }).failures).toEqual(['no deployment "ghost" in namespace "shop"']);
    expect((sts.output as { failures: string[] }).failures).toEqual(['no statefulset "ghost-db" in namespace "shop"']);
  });

  it('an unreachable cluster is a failed outcome that says why', async () => {
    const broken: KubeClientResolver = async () => {
      throw new Error('kubeconfig has no context "nope"');
    };
    const record = await runProbe(k8sProbe({ namespace: 'shop', kind: 'deployment', name: 'web', cluster: 'nope' }), {
      runtime: 'local',
      signal: AbortSignal.timeout(5_000),
      kube: broken,
    });
    expect(record).toMatchObject({ status: 'failed', tolerance_met: false, output: { cluster: 'nope' } });
    expect((record.output as { failures: string[] }).failures[0]).toContain('kubeconfig has no context "nope"');
  });
});

describe('k8s probe schema', () => {
  const issues = (properties: Record<string, unknown>) => {
    const result = probeSchema.safeParse({ name: 'p', type: 'k8s', properties });
    return result.success ? [] : result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  };

  it('names the field a kind needs or does not take', () => {
    expect(issues({ namespace: 'shop', kind: 'deployment' })).toEqual([{ path: 'properties.name', message: 'kind "deployment" needs the name of the deployment' }]);
    expect(issues({ namespace: 'shop', kind: 'statefulset', labels: { app: 'db' } }).map((i) => i.path)).toEqual(['properties.name', 'properties.labels']);
    expect(issues({ namespace: 'shop', kind: 'pods' })).toEqual([{ path: 'properties.labels', message: 'kind "pods" needs labels to select the pods' }]);
    expect(issues({ namespace: 'shop', kind: 'pods', labels: { app: 'web' }, name: 'web', min_ready_replicas: 1 }).map((i) => i.path)).toEqual([
      'properties.name',
      'properties.min_ready_replicas',
    ]);
    expect(issues({ namespace: 'shop', kind: 'deployment', name: 'web', min_pods: 1 }).map((i) => i.path)).toEqual(['properties.min_pods']);
  });

  it('rejects unknown keys and unknown kinds', () => {
    expect(issues({ namespace: 'shop', kind: 'deployment', name: 'web', replicas: 2 }).map((i) => i.path)).toEqual(['properties']);
    expect(issues({ namespace: 'shop', kind: 'daemonset', name: 'x' }).map((i) => i.path)).toEqual(['properties.kind']);
    expect(issues({ namespace: 'Shop!', kind: 'pods', labels: { app: 'web' } }).map((i) => i.path)).toEqual(['properties.namespace']);
  });

  it('accepts the documented shapes', () => {
    expect(issues({ namespace: 'shop', kind: 'deployment', name: 'web', min_ready_replicas: 1, cluster: 'prod-eu' })).toEqual([]);
    expect(issues({ namespace: 'shop', kind: 'pods', labels: { app: 'web' }, expected_phase: 'Running', min_pods: 2 })).toEqual([]);
  });
});

describe('topology routes on the local server', () => {
  let runtime: LocalRuntime | undefined;
  let server: LocalServer | undefined;
  afterEach(async () => {
    await server?.close();
    await runtime?.stop();
    server = undefined;
    runtime = undefined;
  });

  const call = async (path: string) => {
    const response = await fetch(`${server!.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  it('GET /api/topology/k8s returns what the cluster holds; /combined has aws null', async () => {
    fake.addDeployment({ namespace: 'shop', name: 'web', replicas: 2, labels: { app: 'web' } });
    fake.addStatefulSet({ namespace: 'data', name: 'db', replicas: 1, labels: { app: 'db' } });
    fake.addService({ namespace: 'shop', name: 'web', selector: { app: 'web' }, port: 80, targetPort: 8080 });
    runtime = await LocalRuntime.start({ kube });
    server = await startServer({ runtime, token: TOKEN, port: 0 });

    const k8s = await call('/api/topology/k8s');
    const combined = await call('/api/topology/combined');
    const aws = await call('/api/topology/aws');

    expect(k8s.status).toBe(200);
    expect(k8s.body.namespaces.map((n: { name: string; protected: boolean }) => [n.name, n.protected])).toEqual([
      ['data', false],
      ['default', false],
      ['kube-system', true],
      ['shop', false],
    ]);
    expect(k8s.body.deployments).toEqual([
      { kind: 'Deployment', namespace: 'shop', protected: false, name: 'web', labels: { app: 'web' }, selector: { app: 'web' }, replicas: 2, ready_replicas: 2, available_replicas: 2 },
    ]);
    expect(k8s.body.statefulsets).toMatchObject([{ namespace: 'data', name: 'db', replicas: 1, ready_replicas: 1 }]);
    expect(k8s.body.pods).toHaveLength(3);
    expect(k8s.body.pods.filter((p: { namespace: string }) => p.namespace === 'shop')).toEqual(
      fake
        .pods('shop')
        .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
        .map((p) => expect.objectContaining({ name: p.metadata.name, phase: 'Running', ready: true, owner: expect.stringMatching(/^ReplicaSet\/web-/), protected: false, chaos_agents: [] })),
    );
    expect(k8s.body.services).toEqual([
      { namespace: 'shop', name: 'web', type: 'ClusterIP', cluster_ip: expect.any(String), selector: { app: 'web' }, ports: [{ name: null, protocol: 'TCP', port: 80, target_port: 8080 }] },
    ]);
    expect(fake.requestLines()).toEqual(
      expect.arrayContaining(['GET /api/v1/namespaces?limit=500', 'GET /apis/apps/v1/deployments?limit=500', 'GET /api/v1/pods?limit=500', 'GET /api/v1/services?limit=500']),
    );
    expect(combined).toEqual({ status: 200, body: { aws: null, kubernetes: k8s.body } });
    expect(aws.status).toBe(404);
  });

  it('passes ?cluster= to the resolver, and reports a failing source in place in /combined', async () => {
    const clients = kubeClientsFromConfig(fake.kubeConfig());
    const asked: (string | undefined)[] = [];
    const resolver: KubeClientResolver = async (cluster) => {
      asked.push(cluster);
      if (cluster === 'gone') throw new Error('kubeconfig has no context "gone"');
      return clients;
    };
    runtime = await LocalRuntime.start({ kube: resolver });
    server = await startServer({ runtime, token: TOKEN, port: 0 });

    const named = await call('/api/topology/k8s?cluster=kind-local');
    const combined = await call('/api/topology/combined?cluster=gone');
    const invalid = await call('/api/topology/k8s?cluster=bad%20name');

    expect(named.status).toBe(200);
    expect(named.body.cluster).toBe('kind-local');
    expect(asked).toEqual(['kind-local', 'gone']);
    expect(combined.status).toBe(200);
    expect(combined.body).toEqual({ aws: null, kubernetes: { error: { code: 'SOURCE_UNAVAILABLE', message: 'Error: kubeconfig has no context "gone"' } } });
    expect(invalid.status).toBe(400);
  });

  it('without Kubernetes access: /k8s is 404 and /combined has both null', async () => {
    runtime = await LocalRuntime.start({});
    server = await startServer({ runtime, token: TOKEN, port: 0 });

    expect((await call('/api/topology/k8s')).status).toBe(404);
    expect(await call('/api/topology/combined')).toEqual({ status: 200, body: { aws: null, kubernetes: null } });
  });
});
