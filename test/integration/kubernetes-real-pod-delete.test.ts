/**
 * The control plane's Kubernetes code against a REAL control plane (test/support/kube-control-plane.ts: etcd,
 * kube-apiserver, kube-controller-manager, kube-scheduler, built from the Go module proxy), acting as the identity that
 * deploy/kubernetes/rbac.yaml binds and nothing more: RBAC, pod_delete end to end with the real ReplicaSet,
 * Deployment and StatefulSet controllers (recovery, uid preconditions, grace periods, unmanaged pods, the exact
 * requests as the API server's audit log records them), the k8s probe and the topology.
 *
 * There is no kubelet: the node's part is played by a STAND-IN (test/support/node-stand-in.ts) that reports bound
 * pods Running and Ready and finalizes deletions after their grace period. What needs a running container (exec into
 * the chaos agent, its logs) stays with the fake API server's tests (kubernetes-agent-faults.test.ts).
 */
import { AuthorizationV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime.js';
import { startServer, type LocalServer } from '../../local/server.js';
import { InjectionFailedError, ValidationError } from '../../shared/errors.js';
import { kubeClientsFromConfig, type KubeClients } from '../../shared/faults/kubernetes/cluster.js';
import { createKubernetesDriver } from '../../shared/faults/kubernetes/driver.js';
import { RecoveryWatches } from '../../shared/faults/kubernetes/recovery-watch.js';
import { kubernetesTopology } from '../../shared/faults/kubernetes/topology.js';
import type { FaultDriver } from '../../shared/faults/driver.js';
import { parseExperiment } from '../../shared/model/parse.js';
import { runProbe } from '../../shared/probes/index.js';
import { KUBE_BUILD_TIMEOUT_MS, startKubeControlPlane, type KubeControlPlane } from '../support/kube-control-plane.js';
import { Workloads, until } from '../support/kube-workloads.js';
import { apiClient } from '../support/api-client.js';
import { startNodeStandIn, type NodeStandIn } from '../support/node-stand-in.js';

const TOKEN = 'real-kube-token';

let plane: KubeControlPlane;
let node: NodeStandIn;
let admin: Workloads;
let chaosduck: KubeClients;
let driver: FaultDriver;
let runtime: LocalRuntime;
let server: LocalServer;

beforeAll(async () => {
  plane = await startKubeControlPlane();
  node = await startNodeStandIn(plane.admin());
  admin = new Workloads(plane.admin());
  chaosduck = kubeClientsFromConfig(plane.chaosduck());
  driver = createKubernetesDriver(chaosduck, { pollIntervalMs: 100, waitTimeoutSeconds: 60, recoveryWatches: new RecoveryWatches() });
  runtime = await LocalRuntime.start({ drivers: [driver], kube: async () => chaosduck });
  server = await startServer({ runtime, token: TOKEN, port: 0 });
  // `kubectl create deployment nginx --replicas=3`, as the seed's kind cluster; and a neighbour that must stay whole.
  await deployment('default', 'nginx', 3);
  await deployment('default', 'redis', 2);
}, KUBE_BUILD_TIMEOUT_MS);

afterAll(async () => {
  await server?.close();
  await runtime?.stop();
  await node?.stop();
  await plane?.stop();
});

const namespace = (name: string) => admin.namespace(name);
const deployment = (ns: string, name: string, replicas: number) => admin.deployment(ns, name, replicas);
const readyReplicas = (ns: string, name: string, count: number) => admin.readyReplicas(ns, name, count);

const podsOf = async (ns: string, app: string) => (await admin.core.listNamespacedPod({ namespace: ns, labelSelector: `app=${app}` })).items;
const uids = (pods: V1Pod[]) => pods.map((p) => p.metadata?.uid as string).sort();

const call = apiClient(() => server.url, TOKEN);

describe('RBAC: deploy/kubernetes/rbac.yaml, as the API server reads it', () => {
  // Every call the control plane makes, by verb and resource.
  const needed: [string, string, string?][] = [
    ['list', 'pods'],
    ['watch', 'pods'],
    ['get', 'pods'],
    ['delete', 'pods'],
    ['create', 'pods'],
    ['get', 'pods', 'ephemeralcontainers'],
    ['update', 'pods', 'ephemeralcontainers'],
    // Exec over WebSocket is an HTTP GET that upgrades: both verbs are checked.
    ['get', 'pods', 'exec'],
    ['create', 'pods', 'exec'],
    ['get', 'pods', 'log'],
    ['list', 'namespaces'],
    ['list', 'services'],
    ['get', 'replicationcontrollers'],
    ['get', 'deployments', undefined],
    ['list', 'deployments', undefined],
    ['get', 'replicasets'],
    ['get', 'statefulsets'],
    ['list', 'statefulsets'],
    ['get', 'daemonsets'],
  ];
  const notNeeded: [string, string, string?][] = [
    ['delete', 'deployments'],
    ['update', 'deployments'],
    ['update', 'pods'],
    ['patch', 'pods'],
    ['delete', 'namespaces'],
    ['get', 'secrets'],
    ['list', 'secrets'],
    ['create', 'pods', 'eviction'],
    ['update', 'pods', 'status'],
  ];
  const allowed = async (verb: string, resource: string, subresource?: string) => {
    const review = await plane.chaosduck().makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
      body: {
        spec: {
          resourceAttributes: { verb, resource, ...(subresource ? { subresource } : {}), group: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'].includes(resource) ? 'apps' : '', namespace: 'shop' },
        },
      },
    });
    return review.status?.allowed ?? false;
  };

  it('allows every call the control plane makes', async () => {
    const denied = [];
    for (const [verb, resource, sub] of needed) if (!(await allowed(verb, resource, sub))) denied.push(`${verb} ${resource}${sub ? `/${sub}` : ''}`);
    expect(denied).toEqual([]);
  });

  it('forbids what it does not need, and a real call proves it', async () => {
    const granted = [];
    for (const [verb, resource, sub] of notNeeded) if (await allowed(verb, resource, sub)) granted.push(`${verb} ${resource}${sub ? `/${sub}` : ''}`);
    const deleteDeployment = await chaosduck.apps.deleteNamespacedDeployment({ name: 'redis', namespace: 'default' }).catch((error: { code?: number }) => error.code);

    expect(granted).toEqual([]);
    expect(deleteDeployment).toBe(403);
    expect((await admin.apps.readNamespacedDeployment({ name: 'redis', namespace: 'default' })).metadata?.name).toBe('redis');
  });
});

describe('pod_delete against the real controllers', () => {
  it("runs the seed's pod-kill-nginx body as written: one nginx pod deleted, the Deployment whole again, recovery timed by watch", async () => {
    const nginxBefore = uids(await podsOf('default', 'nginx'));
    const redisBefore = uids(await podsOf('default', 'redis'));

    const created = await call('POST', '/api/chaos/experiments', {
      name: 'pod-kill-nginx',
      chaos_type: 'pod_delete',
      target: { namespace: 'default', labels: { app: 'nginx' } },
      safety: { timeout_seconds: 60, max_blast_radius: 1 },
      parameters: { duration_seconds: 3 },
    });
    expect(created.status).toBe(202);
    const record = await runtime.waitFor(created.body.id);
    const journal = (await runtime.journal(record.id)) as Record<string, any>;

    expect(record).toMatchObject({ status: 'completed', deviated: false });
    // The deleted one is gone, or still terminating through its default 30 s grace period.
    const nginxAfter = uids((await podsOf('default', 'nginx')).filter((p) => !p.metadata?.deletionTimestamp));
    expect(nginxBefore.filter((uid) => !nginxAfter.includes(uid))).toHaveLength(1);
    expect(uids(await podsOf('default', 'redis'))).toEqual(redisBefore);
    await readyReplicas('default', 'nginx', 3);
    // OBSERVE watched the owner come back and timed it, before the rollback did.
    expect(Object.values(journal.chaosduck.observed)[0]).toMatchObject({ recovered: true, replaced: true, owner: 'Deployment/nginx', recovered_after_ms: expect.any(Number) });
    const recovered = journal.rollbacks[0].output;
    expect(recovered).toMatchObject({ recovered: true, owner: 'Deployment/nginx', replaced: true, measured: expect.stringMatching(/^watch:/) });
    expect(recovered.recovered_after_ms).toBeGreaterThan(0);
    // The uid precondition went with the deletion, as the API server saw it.
    expect(journal.run[0].output).toMatchObject({ uid: expect.any(String), deleted_at: expect.any(String) });
  }, 120_000);

  it('selects Running pods by labels and field selectors; prepare only reads; apply deletes with the grace period and the uid precondition; revert only reads, twice alike', async () => {
    // Arrange: two Ready pods, an unrelated app, and a pod with the same labels that stays Pending (unschedulable).
    await namespace('shop');
    await deployment('shop', 'web', 2);
    await deployment('shop', 'api', 1);
    await admin.core.createNamespacedPod({
      namespace: 'shop',
      body: { metadata: { name: 'web-pending', labels: { app: 'web' } }, spec: { nodeSelector: { nowhere: 'true' }, containers: [{ name: 'web', image: 'web:1' }] } },
    });
    const ready = (await podsOf('shop', 'web')).filter((p) => p.status?.phase === 'Running');
    const spec = parseExperiment({
      name: 'exact',
      chaos_type: 'pod_delete',
      target: { namespace: 'shop', labels: { app: 'web' }, field_selectors: 'spec.nodeName=node-1' },
      parameters: { grace_period_seconds: 0, duration_seconds: 0 },
      safety: { max_blast_radius: 1 },
    });
    const context = { experimentId: 'exp-exact', rollbackSeq: 1, signal: AbortSignal.timeout(60_000) };
    plane.requests();

    // Act: the driver sequence the lifecycle runs, and what the API server saw of each step.
    const targets = await driver.resolve(spec, AbortSignal.timeout(10_000));
    const resolving = plane.requests();
    const intent = await driver.prepare(spec, targets[0]!, AbortSignal.timeout(10_000));
    const preparing = plane.requests();
    await driver.apply(spec, intent, context);
    const applying = plane.requests();
    const reverted = (await driver.revert(intent, context)) as Record<string, unknown>;
    const again = await driver.revert(intent, { ...context, rollbackSeq: 2 });
    const reverting = plane.requests();

    // Assess
    expect(targets.map((t) => t.id).sort()).toEqual(ready.map((p) => `shop/${p.metadata!.name}`).sort());
    expect(resolving).toEqual([{ verb: 'list', uri: '/api/v1/namespaces/shop/pods?fieldSelector=status.phase%3DRunning%2Cspec.nodeName%3Dnode-1&labelSelector=app%3Dweb', code: 200 }]);
    expect(preparing.map((r) => r.verb)).toEqual(expect.arrayContaining(['get']));
    expect(preparing.every((r) => r.verb === 'get')).toBe(true);
    expect(intent).toMatchObject({ action: 'await_owner_ready', params: { owner: { kind: 'Deployment', name: 'web' }, expected_ready: 2, grace_period_seconds: 0 } });
    const deletion = applying.find((r) => r.verb === 'delete');
    expect(deletion).toMatchObject({ uri: `/api/v1/namespaces/shop/pods/${intent.params.pod}?gracePeriodSeconds=0`, code: 200, body: { gracePeriodSeconds: 0, preconditions: { uid: intent.params.uid } } });
    expect(applying.filter((r) => r.verb !== 'watch' && r.verb !== 'list' && r.verb !== 'get')).toHaveLength(1);
    expect(reverted).toMatchObject({ recovered: true, replaced: true, owner: 'Deployment/web', ready_replicas: 2, measured: expect.stringMatching(/^watch:/) });
    expect(again).toMatchObject({ recovered: true, ready_replicas: 2 });
    expect(reverting.every((r) => ['get', 'list', 'watch'].includes(r.verb))).toBe(true);
  }, 120_000);

  it('reverting a fault that was never applied succeeds at once', async () => {
    const spec = parseExperiment({ name: 'never', chaos_type: 'pod_delete', target: { namespace: 'default', labels: { app: 'redis' } }, parameters: { duration_seconds: 0 }, safety: { max_blast_radius: 1 } });
    const [target] = await driver.resolve(spec, AbortSignal.timeout(10_000));
    const intent = await driver.prepare(spec, target!, AbortSignal.timeout(10_000));

    expect(await driver.revert(intent, { experimentId: 'exp-never', rollbackSeq: 1, signal: AbortSignal.timeout(10_000) })).toMatchObject({ recovered: true, replaced: false, ready_replicas: 2 });
  });

  it('recovers a StatefulSet pod, which the real controller brings back under the same name', async () => {
    await namespace('data');
    await admin.apps.createNamespacedStatefulSet({
      namespace: 'data',
      body: { metadata: { name: 'db' }, spec: { serviceName: 'db', replicas: 1, selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'db:1' }] } } } },
    });
    await until('db-0 to be ready', async () => ((await admin.apps.readNamespacedStatefulSet({ name: 'db', namespace: 'data' })).status?.readyReplicas === 1 ? true : undefined));
    const spec = parseExperiment({ name: 'db', chaos_type: 'pod_delete', target: { namespace: 'data', labels: { app: 'db' } }, parameters: { grace_period_seconds: 0, duration_seconds: 0 }, safety: { max_blast_radius: 1 } });
    const [target] = await driver.resolve(spec, AbortSignal.timeout(10_000));
    const intent = await driver.prepare(spec, target!, AbortSignal.timeout(10_000));
    const context = { experimentId: 'exp-db', rollbackSeq: 1, signal: AbortSignal.timeout(60_000) };

    await driver.apply(spec, intent, context);
    const reverted = await driver.revert(intent, context);

    expect(intent.snapshot.owners).toEqual([expect.objectContaining({ kind: 'StatefulSet', name: 'db' })]);
    expect(reverted).toMatchObject({ recovered: true, replaced: true, replacement: 'db-0', owner: 'StatefulSet/db' });
    expect((await admin.core.readNamespacedPod({ name: 'db-0', namespace: 'data' })).metadata?.uid).not.toBe(intent.params.uid);
  }, 120_000);

  it('deletes with the grace period: the pod terminates, and goes once the node confirms it', async () => {
    await namespace('grace');
    await deployment('grace', 'web', 2);
    const spec = parseExperiment({ name: 'grace', chaos_type: 'pod_delete', target: { namespace: 'grace', labels: { app: 'web' } }, parameters: { grace_period_seconds: 2, duration_seconds: 0 }, safety: { max_blast_radius: 1 } });
    const [target] = await driver.resolve(spec, AbortSignal.timeout(10_000));
    const intent = await driver.prepare(spec, target!, AbortSignal.timeout(10_000));

    await driver.apply(spec, intent, { experimentId: 'exp-grace', rollbackSeq: 1, signal: AbortSignal.timeout(10_000) });
    const terminating = await admin.core.readNamespacedPod({ name: String(intent.params.pod), namespace: 'grace' });
    const reverted = (await driver.revert(intent, { experimentId: 'exp-grace', rollbackSeq: 1, signal: AbortSignal.timeout(60_000) })) as Record<string, unknown>;

    expect(terminating.metadata?.deletionTimestamp).toBeDefined();
    expect(terminating.metadata?.deletionGracePeriodSeconds).toBe(2);
    expect(reverted).toMatchObject({ recovered: true, ready_replicas: 2 });
    await until('the terminating pod to go', async () => ((await podsOf('grace', 'web')).some((p) => p.metadata?.uid === intent.params.uid) ? undefined : true));
  }, 120_000);

  it('refuses an unmanaged pod unless allowed; allowed, deletes it and recreates it from its snapshot; a replaced namesake is never deleted', async () => {
    await namespace('solo');
    const solo = (uid?: string) => admin.core.createNamespacedPod({ namespace: 'solo', body: { metadata: { name: 'lonely', labels: { app: 'lonely' } }, spec: { containers: [{ name: 'app', image: 'lonely:1' }] } } }).then(() => uid);
    await solo();
    const running = () => until('lonely to run', async () => ((await podsOf('solo', 'lonely')).find((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp)));
    const original = await running();
    const input = (allow: boolean) => ({ name: 'lonely', chaos_type: 'pod_delete', target: { namespace: 'solo', labels: { app: 'lonely' } }, parameters: { allow_unmanaged: allow, duration_seconds: 0 }, safety: { max_blast_radius: 1 } });

    // Refused without allow_unmanaged.
    const [target] = await driver.resolve(parseExperiment(input(false)), AbortSignal.timeout(10_000));
    const refused = await driver.prepare(parseExperiment(input(false)), target!, AbortSignal.timeout(10_000)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).issues[0]?.field).toBe('parameters.allow_unmanaged');

    // A namesake replaced the snapshotted pod: the uid precondition keeps it from being deleted.
    const spec = parseExperiment(input(true));
    const intent = await driver.prepare(spec, target!, AbortSignal.timeout(10_000));
    await admin.core.deleteNamespacedPod({ name: 'lonely', namespace: 'solo', gracePeriodSeconds: 0 });
    await until('lonely to be gone', async () => ((await podsOf('solo', 'lonely')).length === 0 ? true : undefined));
    await solo();
    const namesake = await running();
    const stale = await driver.apply(spec, intent, { experimentId: 'exp-solo', rollbackSeq: 1, signal: AbortSignal.timeout(10_000) }).catch((error: unknown) => error);
    expect(stale).toBeInstanceOf(InjectionFailedError);
    expect((await podsOf('solo', 'lonely')).map((p) => p.metadata?.uid)).toEqual([namesake.metadata?.uid]);
    expect(namesake.metadata?.uid).not.toBe(original.metadata?.uid);

    // Allowed, on the current pod: deleted, then recreated from the snapshot by the rollback.
    const current = await driver.prepare(spec, (await driver.resolve(spec, AbortSignal.timeout(10_000)))[0]!, AbortSignal.timeout(10_000));
    await driver.apply(spec, current, { experimentId: 'exp-solo', rollbackSeq: 2, signal: AbortSignal.timeout(10_000) });
    const recreated = (await driver.revert(current, { experimentId: 'exp-solo', rollbackSeq: 2, signal: AbortSignal.timeout(60_000) })) as Record<string, unknown>;
    expect(recreated).toMatchObject({ recreated: true, pod: 'solo/lonely', untouched: false });
    expect((await running()).metadata?.uid).toBe(recreated.uid);
    // Once: a second revert (a recovery sweep's) finds it there and creates nothing.
    plane.requests();
    expect(await driver.revert(current, { experimentId: 'exp-solo', rollbackSeq: 2, signal: AbortSignal.timeout(60_000) })).toMatchObject({ recreated: false, pod: 'solo/lonely' });
    expect(plane.requests().filter((r) => r.verb === 'create')).toEqual([]);
  }, 120_000);

  it('kube-system and production-looking namespaces are refused before the cluster is asked, and nothing is deleted', async () => {
    const before = (await admin.core.listPodForAllNamespaces()).items.length;
    const kubeSystem = await call('POST', '/api/chaos/experiments', { name: 'sys', chaos_type: 'pod_delete', target: { namespace: 'kube-system', labels: { app: 'dns' } } });
    const production = await call('POST', '/api/chaos/experiments', { name: 'prod', chaos_type: 'pod_delete', target: { namespace: 'production', labels: { app: 'nginx' } } });

    expect(kubeSystem.status).toBe(400);
    expect(production.status).toBe(400);
    expect((await admin.core.listPodForAllNamespaces()).items.length).toBe(before);
  });
});

describe('the k8s probe and the topology', () => {
  it('reads ready replicas and pods in phase as the control plane', async () => {
    const env = { runtime: 'local' as const, signal: AbortSignal.timeout(10_000), kube: async () => chaosduck };
    const deploymentProbe = await runProbe({ name: 'nginx', type: 'k8s', mode: 'continuous', properties: { namespace: 'default', kind: 'deployment', name: 'nginx' } }, env);
    const podsProbe = await runProbe({ name: 'redis', type: 'k8s', mode: 'continuous', properties: { namespace: 'default', kind: 'pods', labels: { app: 'redis' }, expected_phase: 'Running', min_pods: 2 } }, env);

    expect(deploymentProbe).toMatchObject({ status: 'succeeded', tolerance_met: true });
    expect(podsProbe).toMatchObject({ status: 'succeeded', tolerance_met: true });
  });

  it('lists what can be targeted, and marks the cluster’s own namespaces protected', async () => {
    const topology = (await kubernetesTopology(async () => chaosduck)) as Record<string, any>;

    const namespaces = Object.fromEntries(topology.namespaces.map((n: { name: string; protected: boolean }) => [n.name, n.protected]));
    expect(namespaces).toMatchObject({ default: false, 'kube-system': true, 'kube-node-lease': true, 'kube-public': true });
    expect(topology.deployments.find((d: { name: string }) => d.name === 'nginx')).toMatchObject({ namespace: 'default', protected: false, ready_replicas: 3 });
    expect(topology.pods.filter((p: { namespace: string }) => p.namespace === 'default').every((p: { protected: boolean; chaos_agents: string[] }) => !p.protected && Array.isArray(p.chaos_agents))).toBe(true);
  });
});

describe('Chaos Toolkit: the chaosk8s functions run natively', () => {
  const k8s = (func: string, args: Record<string, unknown>, kind = 'probes') => ({ type: 'python', module: `chaosk8s.pod.${kind}`, func, arguments: args });

  it('terminate_pods is a pod_delete fault, its rollback written ahead; pods_in_phase and count_pods read the pods as chaosk8s does', async () => {
    await namespace('ctk-shop');
    await deployment('ctk-shop', 'shop', 3);
    const before = uids(await podsOf('ctk-shop', 'shop'));

    const record = await runtime.run({
      format: 'chaostoolkit',
      experiment: {
        title: 'shop survives losing a pod',
        description: 'chaosk8s names, run natively',
        'steady-state-hypothesis': {
          title: 'all running',
          probes: [
            { type: 'probe', name: 'running', tolerance: true, provider: k8s('pods_in_phase', { label_selector: 'app=shop', ns: 'ctk-shop' }) },
            { type: 'probe', name: 'three', tolerance: 3, provider: k8s('count_pods', { label_selector: 'app=shop', ns: 'ctk-shop', phase: 'Running' }) },
          ],
        },
        method: [{ type: 'action', name: 'kill-one', provider: k8s('terminate_pods', { label_selector: 'app=shop', ns: 'ctk-shop', rand: true }, 'actions') }],
        // One pod of three is above the default blast radius (0.3): the file says how far it may go.
        extensions: [{ name: 'chaosduck', safety: { max_blast_radius: 0.5 } }],
      },
      settings: { hypothesis_strategy: 'before-method-only' },
    });

    const journal = (await runtime.journal(record.id)) as Record<string, any>;
    expect(record.status, JSON.stringify(journal.chaosduck?.error)).toBe('completed');
    expect(journal.status).toBe('completed');
    expect(journal.steady_states.before.probes.map((p: Record<string, any>) => [p.output, p.tolerance_met])).toEqual([
      [true, true],
      [3, true],
    ]);
    expect(journal.run).toHaveLength(1);
    expect(journal.run[0].activity.name).toBe('kill-one');
    expect(journal.run[0].output).toHaveLength(1);
    // The automatic rollback (waiting for the Deployment to be whole again) ran and is journaled.
    expect(journal.rollbacks).toHaveLength(1);
    expect(journal.rollbacks[0].status).toBe('succeeded');
    await readyReplicas('ctk-shop', 'shop', 3);
    const after = uids(await podsOf('ctk-shop', 'shop'));
    expect(after.filter((uid) => !before.includes(uid))).toHaveLength(1);
  });

  it('refuses what chaosk8s would do that ChaosDuck does not, before anything runs: no selector, name_pattern, the blast radius', async () => {
    const document = (args: Record<string, unknown>, extensions: unknown[] = []) => ({
      title: 'too broad',
      description: 'refused',
      method: [{ type: 'action', name: 'kill', provider: k8s('terminate_pods', args, 'actions') }],
      extensions,
    });
    const noSelector = await call('POST', '/api/chaos/experiments', document({ ns: 'default' }));
    const pattern = await call('POST', '/api/chaos/experiments', document({ ns: 'default', label_selector: 'app=nginx', name_pattern: 'nginx-.*' }));
    const tooMany = await call('POST', '/api/chaos/experiments', document({ ns: 'default', label_selector: 'app=nginx', all: true }));

    expect(noSelector.status).toBe(400);
    expect(noSelector.body.error.fields[0].field).toBe('method[0].provider.arguments.label_selector');
    expect(pattern.body.error.fields[0]).toMatchObject({ field: 'method[0].provider.arguments.name_pattern', message: expect.stringContaining('name_pattern is not supported') });
    expect(tooMany.status).toBe(409);
    expect(tooMany.body.error.message).toMatch(/^method\[0\] \(activity 'kill'\): max_blast_radius 0\.3 .*raise safety\.max_blast_radius.*extensions: \[\{name: chaosduck, safety/);
    expect(uids(await podsOf('default', 'nginx'))).toHaveLength(3);
  });
});
