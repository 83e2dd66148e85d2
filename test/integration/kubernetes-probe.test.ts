/**
 * The `k8s` probe and the Kubernetes topology routes against a REAL control plane (test/support/kube-control-plane.ts)
 * as the identity deploy/kubernetes/rbac.yaml binds, with a STAND-IN node (test/support/node-stand-in.ts) reporting
 * the pods Ready; a pod is made not Ready by writing its status, as a kubelet would after a failed readiness probe.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime.js';
import { startServer, type LocalServer } from '../../local/server.js';
import { kubeClientsFromConfig, type KubeClientResolver, type KubeClients } from '../../shared/faults/kubernetes/cluster.js';
import { probeSchema, type Probe } from '../../shared/model/experiment.js';
import { runProbe } from '../../shared/probes/index.js';
import { KUBE_BUILD_TIMEOUT_MS, startKubeControlPlane, type KubeControlPlane } from '../support/kube-control-plane.js';
import { Workloads, until } from '../support/kube-workloads.js';
import { apiClient } from '../support/api-client.js';
import { startNodeStandIn, type NodeStandIn } from '../support/node-stand-in.js';

const TOKEN = 'test-token-0123456789';
let plane: KubeControlPlane;
let node: NodeStandIn;
let admin: Workloads;
let chaosduck: KubeClients;
const kube: KubeClientResolver = async () => chaosduck;

beforeAll(async () => {
  plane = await startKubeControlPlane();
  node = await startNodeStandIn(plane.admin());
  admin = new Workloads(plane.admin());
  chaosduck = kubeClientsFromConfig(plane.chaosduck());
  for (const ns of ['shop', 'data']) await admin.namespace(ns);
  await admin.deployment('shop', 'web', 3);
  await admin.deployment('shop', 'api', 1);
  await admin.apps.createNamespacedStatefulSet({
    namespace: 'data',
    body: { metadata: { name: 'db' }, spec: { serviceName: 'db', replicas: 2, selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'db:1' }] } } } },
  });
  await until('db to be ready', async () => ((await admin.apps.readNamespacedStatefulSet({ name: 'db', namespace: 'data' })).status?.readyReplicas === 2 ? true : undefined));
  await admin.core.createNamespacedService({ namespace: 'shop', body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } } });
}, KUBE_BUILD_TIMEOUT_MS);

afterAll(async () => {
  await node?.stop();
  await plane?.stop();
});

/** Marks one pod of `app` not Ready, as its kubelet would; returns a function that makes it Ready again. */
async function notReady(ns: string, app: string, workload: () => Promise<number | undefined>, expected: number): Promise<() => Promise<void>> {
  const [pod] = (await admin.core.listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` })).items;
  const set = async (status: 'True' | 'False') => {
    const current = await admin.core.readNamespacedPod({ name: pod!.metadata!.name!, namespace: ns });
    current.status!.conditions = (current.status!.conditions ?? []).map((c) => (c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status, lastTransitionTime: new Date() } : c));
    await admin.core.replaceNamespacedPodStatus({ name: pod!.metadata!.name!, namespace: ns, body: current });
  };
  await set('False');
  await until(`${app} to count one pod less ready`, async () => ((await workload()) === expected - 1 ? true : undefined));
  return async () => {
    await set('True');
    await until(`${app} to be whole again`, async () => ((await workload()) === expected ? true : undefined));
  };
}

const k8sProbe = (properties: Record<string, unknown>): Probe => probeSchema.parse({ name: 'k8s-health', type: 'k8s', properties });
const run = (properties: Record<string, unknown>) => runProbe(k8sProbe(properties), { runtime: 'local', signal: AbortSignal.timeout(10_000), kube });

describe('k8s probe', () => {
  it('deployment: ok when all desired replicas are ready; not ok when one is not', async () => {
    plane.requests();
    const healthy = await run({ namespace: 'shop', kind: 'deployment', name: 'web' });
    const requests = plane.requests();
    const restore = await notReady('shop', 'web', async () => (await admin.apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' })).status?.readyReplicas, 3);
    const degraded = await run({ namespace: 'shop', kind: 'deployment', name: 'web' });
    const tolerant = await run({ namespace: 'shop', kind: 'deployment', name: 'web', min_ready_replicas: 2 });
    await restore();

    expect(healthy).toMatchObject({ status: 'succeeded', tolerance_met: true, output: { desired: 3, ready: 3, available: 3, failures: [] } });
    expect(degraded).toMatchObject({ status: 'failed', tolerance_met: false, output: { desired: 3, ready: 2 } });
    expect((degraded.output as { failures: string[] }).failures[0]).toContain('has 2 ready replicas, needs at least 3');
    expect(tolerant).toMatchObject({ tolerance_met: true, output: { ready: 2, min_ready_replicas: 2 } });
    expect(healthy.activity.provider).toEqual({ type: 'k8s', namespace: 'shop', kind: 'deployment', name: 'web' });
    expect(requests).toEqual([{ verb: 'get', uri: '/apis/apps/v1/namespaces/shop/deployments/web', code: 200 }]);
  });

  it('statefulset: ok at its desired replicas, not ok below min_ready_replicas', async () => {
    const healthy = await run({ namespace: 'data', kind: 'statefulset', name: 'db' });
    const restore = await notReady('data', 'db', async () => (await admin.apps.readNamespacedStatefulSet({ name: 'db', namespace: 'data' })).status?.readyReplicas, 2);
    const degraded = await run({ namespace: 'data', kind: 'statefulset', name: 'db', min_ready_replicas: 2 });
    await restore();

    expect(healthy).toMatchObject({ tolerance_met: true, output: { desired: 2, ready: 2 } });
    expect(degraded).toMatchObject({ tolerance_met: false, output: { desired: 2, ready: 1 } });
  });

  it('pods: counts pods by label in the expected phase and Ready against min_pods', async () => {
    // A pod with web's labels that no node can take: it stays Pending.
    await admin.core.createNamespacedPod({
      namespace: 'shop',
      body: { metadata: { name: 'web-pending', labels: { app: 'web' } }, spec: { nodeSelector: { nowhere: 'true' }, containers: [{ name: 'web', image: 'web:1' }] } },
    });
    plane.requests();

    const ok = await run({ namespace: 'shop', kind: 'pods', labels: { app: 'web' }, min_pods: 3 });
    const requests = plane.requests();
    const notOk = await run({ namespace: 'shop', kind: 'pods', labels: { app: 'web' }, min_pods: 4 });
    const pending = await run({ namespace: 'shop', kind: 'pods', labels: { app: 'web' }, expected_phase: 'Pending' });
    const none = await run({ namespace: 'shop', kind: 'pods', labels: { app: 'nothing' } });
    await admin.core.deleteNamespacedPod({ name: 'web-pending', namespace: 'shop', gracePeriodSeconds: 0 });

    expect(ok).toMatchObject({ tolerance_met: true, output: { total: 4, in_phase: 3, ready: 3, min_pods: 3, expected_phase: 'Running' } });
    expect(notOk).toMatchObject({ tolerance_met: false, output: { total: 4, in_phase: 3, ready: 3, min_pods: 4 } });
    expect(pending).toMatchObject({ tolerance_met: true, output: { total: 4, in_phase: 1, ready: 0 } });
    expect(none).toMatchObject({ tolerance_met: false, output: { total: 0, in_phase: 0, ready: 0, min_pods: 1 } });
    expect(requests).toEqual([{ verb: 'list', uri: '/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb&limit=500', code: 200 }]);
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

  const get = apiClient(() => server!.url, TOKEN);
  const call = async (path: string) => {
    const { status, body } = await get('GET', path);
    return { status, body };
  };

  it('GET /api/topology/k8s returns what the cluster holds, the cluster’s own marked protected; /combined has aws null', async () => {
    runtime = await LocalRuntime.start({ kube });
    server = await startServer({ runtime, token: TOKEN, port: 0 });

    const k8s = await call('/api/topology/k8s');
    const combined = await call('/api/topology/combined');
    const aws = await call('/api/topology/aws');

    expect(k8s.status).toBe(200);
    expect(k8s.body.namespaces.map((n: { name: string; protected: boolean }) => [n.name, n.protected])).toEqual([
      ['data', false],
      ['default', false],
      ['kube-node-lease', true],
      ['kube-public', true],
      ['kube-system', true],
      ['shop', false],
    ]);
    expect(k8s.body.deployments).toEqual([
      { kind: 'Deployment', namespace: 'shop', protected: false, name: 'api', labels: {}, selector: { app: 'api' }, replicas: 1, ready_replicas: 1, available_replicas: 1 },
      { kind: 'Deployment', namespace: 'shop', protected: false, name: 'web', labels: {}, selector: { app: 'web' }, replicas: 3, ready_replicas: 3, available_replicas: 3 },
    ]);
    expect(k8s.body.statefulsets).toMatchObject([{ namespace: 'data', name: 'db', replicas: 2, ready_replicas: 2 }]);
    const web = k8s.body.pods.filter((p: { namespace: string; labels: { app?: string } }) => p.namespace === 'shop' && p.labels.app === 'web');
    expect(web).toHaveLength(3);
    expect(web.every((p: Record<string, unknown>) => p.phase === 'Running' && p.ready === true && /^ReplicaSet\/web-/.test(String(p.owner)) && p.protected === false)).toBe(true);
    expect(k8s.body.services.find((s: { name: string; namespace: string }) => s.namespace === 'shop' && s.name === 'web')).toEqual({
      namespace: 'shop',
      name: 'web',
      type: 'ClusterIP',
      cluster_ip: expect.any(String),
      selector: { app: 'web' },
      ports: [{ name: null, protocol: 'TCP', port: 80, target_port: 8080 }],
    });
    expect(combined).toEqual({ status: 200, body: { aws: null, kubernetes: k8s.body } });
    expect(aws.status).toBe(404);
  });

  it('passes ?cluster= to the resolver, and reports a failing source in place in /combined', async () => {
    const asked: (string | undefined)[] = [];
    const resolver: KubeClientResolver = async (cluster) => {
      asked.push(cluster);
      if (cluster === 'gone') throw new Error('kubeconfig has no context "gone"');
      return chaosduck;
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

  it('GET /api/topology/steady-state gives ready against desired replicas per workload of the namespace asked for', async () => {
    runtime = await LocalRuntime.start({ kube });
    server = await startServer({ runtime, token: TOKEN, port: 0 });
    const restore = await notReady('shop', 'web', async () => (await admin.apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' })).status?.readyReplicas, 3);

    const degraded = await call('/api/topology/steady-state?namespace=shop');
    await restore();
    const whole = await call('/api/topology/steady-state?namespace=data');

    expect(degraded.status).toBe(200);
    expect(degraded.body.kubernetes).toEqual({
      available: true,
      cluster: null,
      deployments: [
        { namespace: 'shop', name: 'api', protected: false, replicas: 1, ready_replicas: 1, available_replicas: 1, all_ready: true },
        { namespace: 'shop', name: 'web', protected: false, replicas: 3, ready_replicas: 2, available_replicas: 2, all_ready: false },
      ],
      statefulsets: [],
    });
    expect(degraded.body.aws).toMatchObject({ available: false, error: { code: 'NOT_CONFIGURED' } });
    expect(whole.body.kubernetes).toMatchObject({ deployments: [], statefulsets: [{ namespace: 'data', name: 'db', replicas: 2, ready_replicas: 2, all_ready: true }] });
  });

  it('without Kubernetes access: /k8s is 404 and /combined has both null', async () => {
    runtime = await LocalRuntime.start({});
    server = await startServer({ runtime, token: TOKEN, port: 0 });

    expect((await call('/api/topology/k8s')).status).toBe(404);
    expect(await call('/api/topology/combined')).toEqual({ status: 200, body: { aws: null, kubernetes: null } });
  });
});
