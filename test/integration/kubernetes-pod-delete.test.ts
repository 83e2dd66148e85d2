/**
 * pod_delete against a FAKE Kubernetes API server (test/support/fake-kube-apiserver.ts) spoken to by the real
 * @kubernetes/client-node over HTTP: the exact requests, recovery, the guardrails, unmanaged pods, and one full run
 * through the embedded runtime.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime.js';
import { InjectionFailedError, ValidationError } from '../../shared/errors.js';
import type { FaultContext, FaultDriver } from '../../shared/faults/driver.js';
import { kubeClientsFromConfig } from '../../shared/faults/kubernetes/cluster.js';
import { createKubernetesDriver } from '../../shared/faults/kubernetes/driver.js';
import type { ExperimentInput } from '../../shared/model/experiment.js';
import { parseExperiment } from '../../shared/model/parse.js';
import { FakeKubeApiServer } from '../support/fake-kube-apiserver.js';

let fake: FakeKubeApiServer;
let driver: FaultDriver;
let runtime: LocalRuntime | undefined;

beforeEach(async () => {
  fake = await FakeKubeApiServer.start({ recreateDelayMs: 50, readyDelayMs: 100 });
  driver = createKubernetesDriver(kubeClientsFromConfig(fake.kubeConfig()), { pollIntervalMs: 25, waitTimeoutSeconds: 10 });
});
afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
  await fake.stop();
});

const context = (rollbackSeq = 1): FaultContext => ({ experimentId: 'exp-k8s', rollbackSeq, signal: AbortSignal.timeout(15_000) });

function podDelete(overrides: { target?: Record<string, unknown>; parameters?: Record<string, unknown> } = {}): ExperimentInput {
  return {
    name: 'k8s-pod-delete',
    chaos_type: 'pod_delete',
    target: { namespace: 'shop', labels: { app: 'web' }, selection: 'COUNT(1)', ...overrides.target },
    parameters: { duration_seconds: 1, ...overrides.parameters },
    safety: { timeout_seconds: 60, max_blast_radius: 1, health_check_interval: 1 },
    probes: [],
  } as ExperimentInput;
}

describe('kubernetes pod_delete against a fake API server', () => {
  it('selects Running pods by label and phase, deletes with the grace period, and waits for the Deployment to recover', async () => {
    // Prepare: a Deployment of two Ready pods, an unrelated app, and a Pending pod with the same labels.
    const { pods, replicaSet } = fake.addDeployment({ namespace: 'shop', name: 'web', replicas: 2, labels: { app: 'web' } });
    fake.addDeployment({ namespace: 'shop', name: 'api', replicas: 1, labels: { app: 'api' } });
    fake.addPod({ namespace: 'shop', name: 'web-pending', labels: { app: 'web' }, phase: 'Pending' });
    const spec = parseExperiment(podDelete({ target: { field_selectors: 'spec.nodeName=node-1' }, parameters: { grace_period_seconds: 5 } }));

    // Act: the driver sequence the lifecycle runs.
    const targets = await driver.resolve(spec, AbortSignal.timeout(5_000));
    const intent = await driver.prepare(spec, targets[0]!, AbortSignal.timeout(5_000));
    const applied = await driver.apply(spec, intent, context());
    const reverted = (await driver.revert(intent, context())) as Record<string, unknown>;

    // Assess: selection.
    expect(targets.map((t) => t.id).sort()).toEqual(pods.map((p) => `shop/${p.metadata.name}`).sort());
    expect(targets[0]).toMatchObject({ provider: 'kubernetes', details: { namespace: 'shop', owner: `ReplicaSet/${replicaSet.metadata.name}` } });
    const list = fake.requests[0]!;
    expect(list).toMatchObject({ method: 'GET', path: '/api/v1/namespaces/shop/pods' });
    expect(list.query).toEqual({ labelSelector: 'app=web', fieldSelector: 'status.phase=Running,spec.nodeName=node-1' });
    // The intent: owner chain and ready count, the pod's uid.
    const victim = pods.find((p) => `shop/${p.metadata.name}` === targets[0]!.id)!;
    expect(intent).toMatchObject({
      action: 'await_owner_ready',
      params: { namespace: 'shop', pod: victim.metadata.name, uid: victim.metadata.uid, owner: { kind: 'Deployment', name: 'web' }, expected_ready: 2, grace_period_seconds: 5 },
      snapshot: {
        pod: { name: victim.metadata.name, uid: victim.metadata.uid, node: 'node-1' },
        owners: [
          { kind: 'ReplicaSet', name: replicaSet.metadata.name },
          { kind: 'Deployment', name: 'web' },
        ],
        owner_ready_replicas: 2,
      },
    });
    // prepare only read; apply deleted with the grace period and the uid precondition.
    const deletes = fake.requests.filter((r) => r.method !== 'GET');
    expect(deletes).toHaveLength(1);
    expect(deletes[0]).toMatchObject({
      method: 'DELETE',
      path: `/api/v1/namespaces/shop/pods/${victim.metadata.name}`,
      query: { gracePeriodSeconds: '5' },
      body: { gracePeriodSeconds: 5, preconditions: { uid: victim.metadata.uid } },
    });
    expect(applied).toMatchObject({ deleted: [`shop/${victim.metadata.name}`], grace_period_seconds: 5 });
    // Recovery: a replacement is Ready, the deployment is back to 2, the time is recorded.
    expect(reverted).toMatchObject({ recovered: true, replaced: true, owner: 'Deployment/web', ready_replicas: 2 });
    expect(reverted.recovered_after_ms).toEqual(expect.any(Number));
    expect(reverted.recovered_after_ms as number).toBeGreaterThanOrEqual(0);
    expect(reverted.recovered_after_ms as number).toBeLessThan(5_000);
    expect(fake.get('pods', 'shop', victim.metadata.name)).toBeUndefined();
    expect(fake.get('deployments', 'shop', 'web')!.status.readyReplicas).toBe(2);
    // Revert only reads.
    expect(fake.requests.filter((r) => r.method !== 'GET')).toHaveLength(1);

    // Reverting again (e.g. in the recovery sweep) is fine and changes nothing.
    const again = await driver.revert(intent, context());
    expect(again).toMatchObject({ recovered: true, ready_replicas: 2 });
    expect(fake.requests.filter((r) => r.method !== 'GET')).toHaveLength(1);
  });

  it('reverting a fault that was never applied succeeds at once', async () => {
    fake.addDeployment({ namespace: 'shop', name: 'web', replicas: 1, labels: { app: 'web' } });
    const spec = parseExperiment(podDelete());
    const [target] = await driver.resolve(spec, AbortSignal.timeout(5_000));
    const intent = await driver.prepare(spec, target!, AbortSignal.timeout(5_000));
    expect(await driver.revert(intent, context())).toMatchObject({ recovered: true, replaced: false, ready_replicas: 1 });
  });

  it('recovers a StatefulSet pod, which comes back under the same name', async () => {
    fake.addStatefulSet({ namespace: 'shop', name: 'db', replicas: 1, labels: { app: 'db' } });
    const spec = parseExperiment(podDelete({ target: { labels: { app: 'db' } } }));
    const [target] = await driver.resolve(spec, AbortSignal.timeout(5_000));
    const intent = await driver.prepare(spec, target!, AbortSignal.timeout(5_000));
    expect(intent.snapshot.owners).toEqual([expect.objectContaining({ kind: 'StatefulSet', name: 'db' })]);
    await driver.apply(spec, intent, context());
    expect(await driver.revert(intent, context())).toMatchObject({ recovered: true, replaced: true, replacement: 'db-0', owner: 'StatefulSet/db' });
    expect(fake.get('pods', 'shop', 'db-0')!.metadata.uid).not.toBe(intent.params.uid);
  });

  it('refuses kube-system before asking the cluster anything', async () => {
    fake.addDeployment({ namespace: 'kube-system', name: 'coredns', replicas: 2, labels: { app: 'coredns' } });
    const spec = parseExperiment(podDelete({ target: { namespace: 'kube-system', labels: { app: 'coredns' } } }));
    const refusal = await driver.resolve(spec, AbortSignal.timeout(5_000)).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ValidationError);
    expect((refusal as ValidationError).issues).toEqual([{ field: 'target.namespace', message: expect.stringContaining('kube-system is protected') }]);
    expect(fake.requests).toEqual([]);
  });

  it('refuses a pod without a controller unless allow_unmanaged', async () => {
    fake.addPod({ namespace: 'shop', name: 'lonely', labels: { app: 'web' } });
    const spec = parseExperiment(podDelete());
    const [target] = await driver.resolve(spec, AbortSignal.timeout(5_000));
    const refusal = await driver.prepare(spec, target!, AbortSignal.timeout(5_000)).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ValidationError);
    expect((refusal as ValidationError).issues[0]).toMatchObject({ field: 'parameters.allow_unmanaged', message: expect.stringContaining('shop/lonely has no controller') });
    expect(fake.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('with allow_unmanaged, deletes the bare pod and recreates it from the snapshot on rollback, once', async () => {
    const original = fake.addPod({ namespace: 'shop', name: 'lonely', labels: { app: 'web', tier: 'front' } });
    const spec = parseExperiment(podDelete({ parameters: { allow_unmanaged: true, grace_period_seconds: 0 } }));
    const [target] = await driver.resolve(spec, AbortSignal.timeout(5_000));
    const intent = await driver.prepare(spec, target!, AbortSignal.timeout(5_000));
    expect(intent).toMatchObject({
      action: 'recreate_pod',
      snapshot: { manifest: { kind: 'Pod', metadata: { name: 'lonely', namespace: 'shop', labels: { app: 'web', tier: 'front' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } } },
    });
    expect((intent.snapshot.manifest as { spec: Record<string, unknown> }).spec).not.toHaveProperty('nodeName');

    await driver.apply(spec, intent, context());
    expect(fake.get('pods', 'shop', 'lonely')).toBeUndefined();
    const first = await driver.revert(intent, context());
    const second = await driver.revert(intent, context());

    expect(first).toMatchObject({ recreated: true, pod: 'shop/lonely', untouched: false, recovered_after_ms: expect.any(Number) });
    expect(second).toMatchObject({ recreated: false, pod: 'shop/lonely' });
    const posts = fake.requests.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatchObject({ path: '/api/v1/namespaces/shop/pods', body: { metadata: { name: 'lonely', labels: { app: 'web', tier: 'front' } } } });
    const recreated = fake.get('pods', 'shop', 'lonely')!;
    expect(recreated.metadata.uid).not.toBe(original.metadata.uid);
    expect(recreated.status.phase).toBe('Running');
    expect(fake.requests.find((r) => r.method === 'DELETE')).toMatchObject({ query: { gracePeriodSeconds: '0' }, body: { gracePeriodSeconds: 0 } });
  });

  it('apply fails cleanly when the pod was replaced since prepare (uid precondition)', async () => {
    fake.addPod({ namespace: 'shop', name: 'lonely', labels: { app: 'web' } });
    const spec = parseExperiment(podDelete({ parameters: { allow_unmanaged: true } }));
    const [target] = await driver.resolve(spec, AbortSignal.timeout(5_000));
    const intent = await driver.prepare(spec, target!, AbortSignal.timeout(5_000));
    const stale = { ...intent, params: { ...intent.params, uid: 'not-the-uid' } };
    await expect(driver.apply(spec, stale, context())).rejects.toBeInstanceOf(InjectionFailedError);
    expect(fake.get('pods', 'shop', 'lonely')).toBeDefined();
  });

  it('runs a whole experiment through the embedded runtime: completed, the pod replaced', async () => {
    const { pods } = fake.addDeployment({ namespace: 'shop', name: 'web', replicas: 2, labels: { app: 'web' } });
    runtime = await LocalRuntime.start({ drivers: [driver] });

    const record = await runtime.run(podDelete({ parameters: { grace_period_seconds: 1 } }));

    expect(record).toMatchObject({ status: 'completed', reason: 'hypothesis_held', deviated: false });
    const deletes = fake.requests.filter((r) => r.method === 'DELETE');
    expect(deletes).toHaveLength(1);
    const deleted = deletes[0]!.path.split('/').pop()!;
    expect(pods.map((p) => p.metadata.name)).toContain(deleted);
    expect(fake.get('pods', 'shop', deleted)).toBeUndefined();
    const now = fake.pods('shop').filter((p) => p.metadata.labels.app === 'web');
    expect(now).toHaveLength(2);
    expect(now.every((p) => p.status.phase === 'Running')).toBe(true);
    expect(fake.get('deployments', 'shop', 'web')!.status.readyReplicas).toBe(2);
    const journal = (await runtime.journal(record.id)) as {
      rollbacks: { status: string; output: Record<string, unknown> }[];
      chaosduck: { observed: Record<string, Record<string, unknown>> };
    };
    // OBSERVE watched the owner come back and timed it, before the rollback did.
    expect(journal.chaosduck.observed[`shop/${deleted}`]).toMatchObject({ recovered: true, replaced: true, owner: 'Deployment/web', recovered_after_ms: expect.any(Number) });
    expect(journal.rollbacks).toHaveLength(1);
    expect(journal.rollbacks[0]).toMatchObject({ status: 'succeeded', output: { recovered: true, replaced: true, owner: 'Deployment/web' } });
    expect(journal.rollbacks[0]!.output.recovered_after_ms).toEqual(expect.any(Number));
  }, 60_000);
});
