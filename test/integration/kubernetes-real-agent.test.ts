/**
 * The chaos-agent faults (network_latency, network_loss, cpu_stress, memory_stress) against a REAL control plane
 * (test/support/kube-control-plane.ts), as the identity deploy/kubernetes/rbac.yaml binds: the server-side dry run of
 * the ephemeral container under every Pod Security level, admission refusals answered as 4xx with the server's
 * reason, and the paths where the agent never runs (an image that cannot be pulled, a container that never starts)
 * bounded by the experiment's timeout and rolled back cleanly. The exec the rollback needs is authorized as the API
 * server really authorizes it.
 *
 * The node is a STAND-IN (test/support/node-stand-in.ts): it reports pods Running, images it is told about as not
 * pullable, and runs nothing. A running agent (exec reaching it, its log, tc and stress-ng) is tested against the fake
 * API server and its fake kubelet in kubernetes-agent-faults.test.ts.
 */
import { RbacAuthorizationV1Api, type V1ClusterRole } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { LocalRuntime } from '../../local/runtime.js';
import { startServer, type LocalServer } from '../../local/server.js';
import { kubeClientsFromConfig, type KubeClients } from '../../shared/faults/kubernetes/cluster.js';
import { execInContainer } from '../../shared/faults/kubernetes/agent-faults.js';
import { createKubernetesDriver, type KubernetesDriverOptions } from '../../shared/faults/kubernetes/driver.js';
import { parseExperiment } from '../../shared/model/parse.js';
import { KUBE_BUILD_TIMEOUT_MS, startKubeControlPlane, type KubeControlPlane } from '../support/kube-control-plane.js';
import { Workloads, until } from '../support/kube-workloads.js';
import { apiClient } from '../support/api-client.js';
import { startNodeStandIn, type NodeStandIn } from '../support/node-stand-in.js';

const TOKEN = 'real-agent-token';
const IMAGE = 'registry.example/chaosduck-agent:1';
const UNPULLABLE = 'registry.example/unpullable-agent:1';
/** The old rule set: `create` only on pods/exec, as rbac.yaml had it. */
const LEGACY_USER = 'chaosduck-legacy';

let plane: KubeControlPlane;
let node: NodeStandIn;
let admin: Workloads;
let chaosduck: KubeClients;

beforeAll(async () => {
  plane = await startKubeControlPlane({ users: [{ name: LEGACY_USER, groups: ['chaosduck-legacy'] }] });
  node = await startNodeStandIn(plane.admin(), { unpullable: (image) => image === UNPULLABLE, reportRunning: (c) => c.name.startsWith('running-') });
  admin = new Workloads(plane.admin());
  chaosduck = kubeClientsFromConfig(plane.chaosduck());
  for (const level of ['privileged', 'baseline', 'restricted']) await workload(`psa-${level}`, { 'pod-security.kubernetes.io/enforce': level });
}, KUBE_BUILD_TIMEOUT_MS);

afterAll(async () => {
  await node?.stop();
  await plane?.stop();
});

/** A namespace with a one-replica Deployment `web`, Ready, and restricted-compliant so every level admits it. */
async function workload(ns: string, labels: Record<string, string> = {}) {
  await admin.namespace(ns, labels);
  await admin.deployment(ns, 'web', 1, {
    securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{ name: 'web', image: 'web:1', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
  });
}

const webPod = async (ns: string) => (await admin.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' })).items.find((p) => !p.metadata?.deletionTimestamp)!;

/** A runtime and local server whose kubernetes driver acts as `chaosduck`, for one test. */
async function controlPlane(options: KubernetesDriverOptions = {}) {
  const driver = createKubernetesDriver(chaosduck, { agentImage: IMAGE, pollIntervalMs: 100, agentStopTimeoutSeconds: 5, ...options });
  const runtime = await LocalRuntime.start({ drivers: [driver] });
  const server: LocalServer = await startServer({ runtime, token: TOKEN, port: 0 });
  return {
    driver,
    runtime,
    call: apiClient(() => server.url, TOKEN),
    stop: async () => {
      await server.close();
      await runtime.stop();
    },
  };
}

const agentFault = (chaos_type: string, ns: string, fields: Record<string, unknown> = {}) => ({
  name: `${chaos_type}-${ns}`,
  chaos_type,
  target: { namespace: ns, labels: { app: 'web' } },
  parameters: { duration_seconds: 5 },
  safety: { max_blast_radius: 1, timeout_seconds: 15 },
  ...fields,
});

describe('the server-side dry run of the agent under every Pod Security level', () => {
  it.each([
    ['privileged', 'network_latency', 200],
    ['privileged', 'cpu_stress', 200],
    ['baseline', 'network_latency', 409],
    ['baseline', 'cpu_stress', 200],
    ['restricted', 'network_latency', 409],
    ['restricted', 'memory_stress', 409],
  ])('%s namespace, %s: %i, and nothing is written', async (level, chaosType, status) => {
    const cp = await controlPlane();
    try {
      const answer = await cp.call('POST', '/api/chaos/dry-run', agentFault(chaosType, `psa-${level}`));

      expect(answer.status, JSON.stringify(answer.body)).toBe(status);
      if (status === 409) {
        expect(answer.body.error).toMatchObject({ code: 'TARGET_REFUSED', message: expect.stringContaining(`violates PodSecurity "${level}:latest"`) });
        expect(answer.body.error.message).toContain('nothing was injected');
      } else {
        expect(answer.body).toMatchObject({ dry_run: true, rollback: [{ action: 'stop_agent' }] });
      }
      expect((await webPod(`psa-${level}`)).spec?.ephemeralContainers ?? []).toEqual([]);
    } finally {
      await cp.stop();
    }
  });

  it('a refusal that needed the cluster is answered at submission; one met only at INJECT is recorded as INJECT’s', async () => {
    const cp = await controlPlane();
    try {
      const refused = await cp.call('POST', '/api/chaos/experiments', agentFault('network_latency', 'psa-baseline'));
      const atInject = await cp.runtime.run(agentFault('network_latency', 'psa-baseline'), { plan: false });

      expect(refused).toMatchObject({ status: 409, body: { error: { code: 'TARGET_REFUSED' } } });
      expect(atInject).toMatchObject({ status: 'aborted', reason: 'TargetRefusedError', phase: 'INJECT' });
      const phases = await cp.runtime.store.listPhaseResults(atInject.id);
      expect(phases.find((p) => p.phase === 'INJECT')).toMatchObject({ status: 'failed', detail: { error: expect.stringContaining('violates PodSecurity') } });
    } finally {
      await cp.stop();
    }
  });
});

describe('an agent that never runs, bounded by the experiment', () => {
  it('an image that cannot be pulled fails the injection at once; the rollback waits out the agent’s start-by time and ends rolled_back', async () => {
    const cp = await controlPlane({ agentImage: UNPULLABLE });
    try {
      const record = await cp.runtime.run(agentFault('cpu_stress', 'psa-privileged'));
      const journal = (await cp.runtime.journal(record.id)) as Record<string, any>;

      expect(record).toMatchObject({ status: 'rolled_back', reason: 'InjectionFailedError' });
      expect(record.error).toContain('ErrImagePull');
      expect(journal.rollbacks[0].output).toMatchObject({ undone: true, how: 'never_started', reason: 'ErrImagePull', ephemeral_containers_in_pod: expect.arrayContaining([expect.stringMatching(/^chaosduck-/)]) });
    } finally {
      await cp.stop();
    }
  }, 120_000);

  it('a container that never starts is waited for no longer than safety.timeout_seconds allows, then rolled back cleanly', async () => {
    const cp = await controlPlane({ agentStartTimeoutSeconds: 600 });
    try {
      const record = await cp.runtime.run(agentFault('memory_stress', 'psa-privileged', { safety: { max_blast_radius: 1, timeout_seconds: 10 } }));
      const pod = await webPod('psa-privileged');
      const agent = (pod.spec?.ephemeralContainers ?? []).at(-1);
      const startBy = Number(agent?.env?.find((e) => e.name === 'CHAOSDUCK_START_BY')?.value);

      expect(record).toMatchObject({ status: 'rolled_back', reason: 'InjectionFailedError' });
      // The agent may not start applying later than the experiment's own deadline (10 s after it started).
      expect(startBy * 1000).toBeLessThanOrEqual(Date.parse(record.startedAt as string) + 10_000 + 1000);
      const journal = (await cp.runtime.journal(record.id)) as Record<string, any>;
      expect(journal.rollbacks[0].output).toMatchObject({ undone: true, how: 'never_started' });
    } finally {
      await cp.stop();
    }
  }, 120_000);
});

describe('the exec that stops the agent, as the API server authorizes it', () => {
  beforeAll(async () => {
    // The ClusterRole rbac.yaml had before: `create` only on pods/exec.
    const [role] = parseAllDocuments(readFileSync('deploy/kubernetes/rbac.yaml', 'utf8')).map((d) => d.toJS() as V1ClusterRole);
    const legacy: V1ClusterRole = {
      ...role,
      metadata: { name: LEGACY_USER },
      rules: role!.rules!.map((rule) => (rule.resources?.includes('pods/exec') ? { ...rule, verbs: ['create'] } : rule)),
    };
    const rbac = plane.admin().makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRole({ body: legacy });
    await rbac.createClusterRoleBinding({
      body: { metadata: { name: LEGACY_USER }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: LEGACY_USER }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'chaosduck-legacy' }] },
    });
  });

  it('with create only, the rollback says at once that pods/exec needs get and create, instead of timing out', async () => {
    // Arrange: an agent the node reports running, added as INJECT adds it, and its rollback entry.
    const legacy = kubeClientsFromConfig(plane.as(LEGACY_USER));
    const driver = createKubernetesDriver(legacy, { agentImage: IMAGE, pollIntervalMs: 100, agentStopTimeoutSeconds: 30 });
    const spec = parseExperiment(agentFault('cpu_stress', 'psa-privileged'));
    const [target] = await driver.resolve(spec, AbortSignal.timeout(10_000));
    const intent = await driver.prepare(spec, target!, AbortSignal.timeout(10_000));
    intent.params.agent = `running-${String(intent.params.agent)}`;
    const pod = await webPod('psa-privileged');
    await admin.core.replaceNamespacedPodEphemeralcontainers({
      name: pod.metadata!.name!,
      namespace: 'psa-privileged',
      body: { ...pod, spec: { ...pod.spec!, ephemeralContainers: [...(pod.spec?.ephemeralContainers ?? []), { name: String(intent.params.agent), image: IMAGE, command: ['sleep', '60'] }] } },
    });
    await until('the agent to be reported running', async () => ((await webPod('psa-privileged')).status?.ephemeralContainerStatuses ?? []).find((s) => s.name === intent.params.agent && s.state?.running));

    // Act
    const failure = await driver.revert(intent, { experimentId: 'exp-legacy', rollbackSeq: 1, signal: AbortSignal.timeout(30_000) }).catch((error: unknown) => error);
    // The same exec as today's identity passes authorization (and then fails only for want of a kubelet here).
    const current = await execInContainer(chaosduck, 'psa-privileged', pod.metadata!.name!, String(intent.params.agent), ['true'], AbortSignal.timeout(10_000)).catch((error: unknown) => error);

    // Assess
    expect((failure as Error).message).toMatch(/may not exec into pod psa-privileged\/.* pods\/exec needs both get and create/);
    expect(String((current as Error)?.message ?? current)).not.toMatch(/\b403\b/);
  }, 60_000);
});
