/**
 * network_latency, network_loss, cpu_stress, memory_stress on Kubernetes: an ephemeral chaos-agent container per pod,
 * against the FAKE API server (test/support/fake-kube-apiserver.ts), whose FAKE kubelet really runs the agent script
 * with /bin/sh and fake `tc` / `stress-ng` (test/support/fake-kubelet.ts). The real @kubernetes/client-node speaks
 * HTTP and the exec WebSocket protocol to it.
 *
 * Why a fake here: these tests need a kubelet — an agent that really runs, its log, exec reaching it — and the real
 * control plane of the other Kubernetes tests has none. What needs no kubelet (admission under Pod Security, RBAC,
 * the agent that never starts or cannot be pulled, pod_delete, the probe, the topology) is tested against the real
 * control plane in kubernetes-real-*.test.ts and kubernetes-probe.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime.js';
import { InjectionFailedError, ProviderUnavailableError, TargetRefusedError, ValidationError } from '../../shared/errors.js';
import type { FaultContext, FaultDriver, RollbackIntent } from '../../shared/faults/driver.js';
import { AGENT_SCRIPT } from '../../shared/faults/kubernetes/agent-script.js';
import { kubeClientsFromConfig } from '../../shared/faults/kubernetes/cluster.js';
import { createKubernetesDriver, type KubernetesDriverOptions } from '../../shared/faults/kubernetes/driver.js';
import type { ExperimentInput } from '../../shared/model/experiment.js';
import { parseExperiment } from '../../shared/model/parse.js';
import { runCli, startCli } from '../support/cli.js';
import { FakeKubeApiServer } from '../support/fake-kube-apiserver.js';
import { overrideEnv } from '../support/moto.js';

const IMAGE = 'registry.example/chaosduck-agent:1';

let fake: FakeKubeApiServer;
let driver: FaultDriver;
let runtime: LocalRuntime | undefined;

const options: KubernetesDriverOptions = { agentImage: IMAGE, pollIntervalMs: 25, agentStartTimeoutSeconds: 10, agentStopTimeoutSeconds: 10 };

beforeEach(async () => {
  fake = await FakeKubeApiServer.start({ recreateDelayMs: 50, readyDelayMs: 50 });
  driver = createKubernetesDriver(kubeClientsFromConfig(fake.kubeConfig()), options);
});
afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
  await fake.stop();
});

const context = (rollbackSeq = 1): FaultContext => ({ experimentId: 'exp-agent', rollbackSeq, signal: AbortSignal.timeout(20_000) });

function experiment(chaos_type: string, parameters: Record<string, unknown> = {}, target: Record<string, unknown> = {}): ExperimentInput {
  return {
    name: `k8s-${chaos_type}`,
    chaos_type,
    target: { namespace: 'shop', labels: { app: 'web' }, selection: 'COUNT(1)', ...target },
    parameters: { duration_seconds: 30, ...parameters },
    safety: { timeout_seconds: 120, max_blast_radius: 1, health_check_interval: 1 },
    probes: [],
  } as ExperimentInput;
}

/** resolve → prepare → apply, as INJECT runs them; returns the pod hit. */
async function inject(input: ExperimentInput) {
  const spec = parseExperiment(input);
  const [target] = await driver.resolve(spec, AbortSignal.timeout(5_000));
  const intent = await driver.prepare(spec, target!, AbortSignal.timeout(5_000));
  const applied = (await driver.apply(spec, intent, context())) as Record<string, unknown>;
  const pod = fake.get('pods', 'shop', String(intent.params.pod))!;
  return { spec, intent, applied, pod };
}

const writes = () => fake.requests.filter((r) => r.method !== 'GET');

describe('kubernetes agent faults against a fake API server and kubelet', () => {
  it('network_latency: dry run in prepare, the agent added by PUT, netem on eth0, then SIGTERM through exec and a verified undo', async () => {
    fake.addDeployment({ namespace: 'shop', name: 'web', replicas: 1, labels: { app: 'web' } });
    const spec = parseExperiment(experiment('network_latency', { latency_ms: 250, jitter_ms: 20 }));
    const [target] = await driver.resolve(spec, AbortSignal.timeout(5_000));

    // prepare: reads, and only a dry run of the change.
    const intent = await driver.prepare(spec, target!, AbortSignal.timeout(5_000));
    expect(writes()).toHaveLength(1);
    const dryRun = writes()[0]!;
    expect(dryRun).toMatchObject({ method: 'PUT', path: `/api/v1/namespaces/shop/pods/${intent.params.pod}/ephemeralcontainers`, query: { dryRun: 'All' } });
    const pod = fake.get('pods', 'shop', String(intent.params.pod))!;
    expect(pod.spec.ephemeralContainers).toBeUndefined();
    expect(intent).toMatchObject({ action: 'stop_agent', params: { chaos_type: 'network_latency', namespace: 'shop', uid: pod.metadata.uid, image: IMAGE, target_container: 'app' } });
    expect(String(intent.params.agent)).toMatch(/^chaosduck-[0-9a-f]{10}$/);

    // apply: the agent container as sent.
    const applied = (await driver.apply(spec, intent, context())) as Record<string, unknown>;
    const put = writes()[1]!;
    expect(put).toMatchObject({ method: 'PUT', path: `/api/v1/namespaces/shop/pods/${pod.metadata.name}/ephemeralcontainers`, query: {} });
    const body = put.body as { metadata: Record<string, string>; spec: { ephemeralContainers: Record<string, unknown>[] } };
    expect(body.metadata).toMatchObject({ name: pod.metadata.name, uid: pod.metadata.uid, resourceVersion: expect.any(String) });
    const [agent] = body.spec.ephemeralContainers;
    expect(agent).toMatchObject({
      name: intent.params.agent,
      image: IMAGE,
      command: ['/bin/sh', '-c', AGENT_SCRIPT, 'chaosduck-agent'],
      targetContainerName: 'app',
      securityContext: { runAsUser: 0, runAsNonRoot: false, capabilities: { add: ['NET_ADMIN'] } },
    });
    const env = Object.fromEntries((agent!.env as { name: string; value: string }[]).map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ CHAOSDUCK_FAULT: 'network_latency', CHAOSDUCK_LATENCY_MS: '250', CHAOSDUCK_JITTER_MS: '20', CHAOSDUCK_INTERFACE: 'eth0', CHAOSDUCK_DURATION_SECONDS: '30' });
    expect(Number(env.CHAOSDUCK_START_BY)).toBeGreaterThan(Date.now() / 1000);
    expect(applied).toMatchObject({ agent: intent.params.agent, applied: 'netem delay 250ms 20ms on eth0 for 30s' });
    expect(fake.kubelet.qdisc(pod)).toBe('qdisc netem 4c44: root refcnt 2 limit 1000 delay 250ms 20ms');

    // revert: SIGTERM through exec into the agent container, then its own verified undo.
    const reverted = (await driver.revert(intent, context())) as Record<string, unknown>;
    expect(fake.execs).toEqual([
      { namespace: 'shop', pod: pod.metadata.name, container: intent.params.agent, command: ['/bin/sh', '-c', 'kill -TERM "$(cat "$1/pid")"', 'chaosduck-stop', `/tmp/chaosduck-agent/${intent.params.agent}`] },
    ]);
    expect(reverted).toMatchObject({ undone: true, how: 'stopped', verified: true, agent_said: 'chaosduck-agent: undone (stopped by signal) and verified' });
    expect(fake.kubelet.qdisc(pod)).toBeUndefined();
    const status = fake.get('pods', 'shop', pod.metadata.name)!.status.ephemeralContainerStatuses[0];
    expect(status.state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });

    // Idempotent: a second revert sees the terminated agent and does not exec again.
    expect(await driver.revert(intent, context())).toMatchObject({ undone: true, verified: true });
    expect(fake.execs).toHaveLength(1);
  }, 30_000);

  it('network_loss on a chosen container and interface', async () => {
    fake.addPod({ namespace: 'shop', name: 'web-0', labels: { app: 'web' }, containers: ['sidecar', 'app'] });
    const { intent, pod } = await inject(experiment('network_loss', { loss_percent: 12.5, container: 'app', interface: 'lo' }));
    expect(intent.params.target_container).toBe('app');
    expect(fake.kubelet.qdisc(pod, 'lo')).toBe('qdisc netem 4c44: root refcnt 2 limit 1000 loss 12.5%');
    expect(fake.kubelet.qdisc(pod, 'eth0')).toBeUndefined();
    await driver.revert(intent, context());
    expect(fake.kubelet.qdisc(pod, 'lo')).toBeUndefined();
  }, 30_000);

  it('cpu_stress and memory_stress run stress-ng in the pod until the rollback stops it', async () => {
    fake.addDeployment({ namespace: 'shop', name: 'web', replicas: 2, labels: { app: 'web' } });
    const cpu = await inject(experiment('cpu_stress', { cpu_cores: 2, cpu_load_percent: 80 }));
    expect(fake.kubelet.stressors(cpu.pod)).toEqual(['--cpu 2 --cpu-load 80 --timeout 30s']);
    expect((writes()[1]!.body as { spec: { ephemeralContainers: Record<string, unknown>[] } }).spec.ephemeralContainers[0]!.securityContext).toBeUndefined();
    const mem = await inject(experiment('memory_stress', { memory_mb: 64 }));
    const memStress = fake.kubelet.stressors(mem.pod);
    expect(memStress).toContain('--vm 1 --vm-bytes 64M --vm-keep --timeout 30s');

    // LIFO, as ROLLBACK runs them.
    expect(await driver.revert(mem.intent, context(2))).toMatchObject({ undone: true, verified: true });
    expect(await driver.revert(cpu.intent, context(1))).toMatchObject({ undone: true, verified: true });
    expect(fake.kubelet.stressors(cpu.pod)).toEqual([]);
    expect(fake.kubelet.stressors(mem.pod)).toEqual([]);
  }, 30_000);

  it('the agent undoes the fault by itself when its duration ends, with no control plane', async () => {
    fake.addDeployment({ namespace: 'shop', name: 'web', replicas: 1, labels: { app: 'web' } });
    const { intent, pod } = await inject(experiment('network_latency', { duration_seconds: 1 }));
    expect(fake.kubelet.qdisc(pod)).toContain('netem');
    await expect.poll(() => fake.kubelet.qdisc(pod), { timeout: 5_000, interval: 50 }).toBeUndefined();
    // The later rollback finds it done and verified, without exec.
    expect(await driver.revert(intent, context())).toMatchObject({ undone: true, how: 'expired', verified: true });
    expect(fake.execs).toEqual([]);
  }, 30_000);

  it('a deleted pod takes its fault with it; the agent got SIGTERM from the kubelet', async () => {
    fake.addDeployment({ namespace: 'shop', name: 'web', replicas: 1, labels: { app: 'web' } });
    const { intent, pod } = await inject(experiment('cpu_stress'));
    fake.kubelet.stopPod(pod);
    await expect.poll(() => fake.kubelet.stressors(pod), { timeout: 5_000, interval: 50 }).toEqual([]);
    expect(await driver.revert(intent, context())).toMatchObject({ undone: true, verified: true });
  }, 30_000);

  it('refuses a second netem on the same interface: the agent exits 4 and nothing is injected', async () => {
    fake.addPod({ namespace: 'shop', name: 'web-0', labels: { app: 'web' } });
    const first = await inject(experiment('network_latency'));
    const spec = parseExperiment(experiment('network_loss'));
    const [target] = await driver.resolve(spec, AbortSignal.timeout(5_000));
    const intent = await driver.prepare(spec, target!, AbortSignal.timeout(5_000));
    const error = await driver.apply(spec, intent, context(2)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InjectionFailedError);
    expect((error as Error).message).toMatch(/exited 4 without applying the fault: chaosduck-agent: not applied: eth0 already has a netem qdisc/);
    expect(fake.kubelet.qdisc(first.pod)).toContain('delay 100ms');
    // Its rollback entry settles without touching anything; the first fault is still undone by its own.
    expect(await driver.revert(intent, context(2))).toMatchObject({ undone: true, how: 'never_applied' });
    expect(fake.kubelet.qdisc(first.pod)).toContain('delay 100ms');
    await driver.revert(first.intent, context(1));
    expect(fake.kubelet.qdisc(first.pod)).toBeUndefined();
  }, 30_000);

  it('names what stops a pod from taking the agent, before anything is written: Pod Security, hostNetwork, containers', async () => {
    fake.labelNamespace('shop', { 'pod-security.kubernetes.io/enforce': 'baseline' });
    fake.addPod({ namespace: 'shop', name: 'web-0', labels: { app: 'web' } });
    const spec = parseExperiment(experiment('network_latency'));
    const [target] = await driver.resolve(spec, AbortSignal.timeout(5_000));
    const refused = await driver.prepare(spec, target!, AbortSignal.timeout(5_000)).catch((e: unknown) => e);
    // Refused by the target, before anything was tried: a 409, not a failed injection.
    expect(refused).toBeInstanceOf(TargetRefusedError);
    expect((refused as Error).message).toMatch(/pod shop\/web-0 cannot take an ephemeral chaos-agent container: the namespace's Pod Security admission refuses it \(.*violates PodSecurity "baseline:latest".*NET_ADMIN/);
    // The same namespace allows a stress agent (no added capabilities).
    const cpu = parseExperiment(experiment('cpu_stress'));
    await expect(driver.prepare(cpu, target!, AbortSignal.timeout(5_000))).resolves.toMatchObject({ action: 'stop_agent' });

    fake.addPod({ namespace: 'edge', name: 'proxy-0', labels: { app: 'proxy' }, hostNetwork: true });
    const host = parseExperiment(experiment('network_loss', {}, { namespace: 'edge', labels: { app: 'proxy' } }));
    const [hostTarget] = await driver.resolve(host, AbortSignal.timeout(5_000));
    const hostError = await driver.prepare(host, hostTarget!, AbortSignal.timeout(5_000)).catch((e: unknown) => e);
    expect(hostError).toBeInstanceOf(ValidationError);
    expect((hostError as ValidationError).issues[0]).toMatchObject({ field: 'target.labels', message: expect.stringMatching(/hostNetwork: true/) });

    const wrong = parseExperiment(experiment('cpu_stress', { container: 'db' }));
    const containerError = await driver.prepare(wrong, target!, AbortSignal.timeout(5_000)).catch((e: unknown) => e);
    expect((containerError as ValidationError).issues[0]).toEqual({ field: 'parameters.container', message: 'pod shop/web-0 has no container "db" (has: app)' });

    // Nothing but dry runs was written, and no container was added.
    expect(writes().every((r) => r.query.dryRun === 'All')).toBe(true);
    expect(fake.get('pods', 'shop', 'web-0')!.spec.ephemeralContainers).toBeUndefined();
  }, 30_000);

  it('without an agent image configured, says how to configure one', async () => {
    fake.addPod({ namespace: 'shop', name: 'web-0', labels: { app: 'web' } });
    const bare = createKubernetesDriver(kubeClientsFromConfig(fake.kubeConfig()), { pollIntervalMs: 25 });
    const restore = overrideEnv({ CHAOSDUCK_AGENT_IMAGE: undefined });
    try {
      const spec = parseExperiment(experiment('cpu_stress'));
      const [target] = await bare.resolve(spec, AbortSignal.timeout(5_000));
      const error = await bare.prepare(spec, target!, AbortSignal.timeout(5_000)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect((error as Error).message).toMatch(/set CHAOSDUCK_AGENT_IMAGE .*agent\/Dockerfile/);
    } finally {
      restore();
    }
  });

  it('an agent image that cannot be pulled fails the injection with the kubelet reason; the rollback waits out its deadline', async () => {
    fake.failImagePull(IMAGE);
    fake.addPod({ namespace: 'shop', name: 'web-0', labels: { app: 'web' } });
    const quick = createKubernetesDriver(kubeClientsFromConfig(fake.kubeConfig()), { ...options, agentStartTimeoutSeconds: 1 });
    const spec = parseExperiment(experiment('network_latency'));
    const [target] = await quick.resolve(spec, AbortSignal.timeout(5_000));
    const intent: RollbackIntent = await quick.prepare(spec, target!, AbortSignal.timeout(5_000));
    const error = await quick.apply(spec, intent, context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InjectionFailedError);
    expect((error as Error).message).toMatch(/cannot start: ErrImagePull: failed to pull and unpack image "registry.example\/chaosduck-agent:1"/);
    const reverted = (await quick.revert(intent, context())) as Record<string, unknown>;
    expect(reverted).toMatchObject({ undone: true, how: 'never_started' });
    expect(fake.execs).toEqual([]);
  }, 30_000);

  it('retries the PUT when the pod changed between read and write (409 on resourceVersion)', async () => {
    fake.addPod({ namespace: 'shop', name: 'web-0', labels: { app: 'web' } });
    const spec = parseExperiment(experiment('cpu_stress'));
    const [target] = await driver.resolve(spec, AbortSignal.timeout(5_000));
    const intent = await driver.prepare(spec, target!, AbortSignal.timeout(5_000));
    // Somebody else adds a debug container between our read and our write.
    const path = '/api/v1/namespaces/shop/pods/web-0/ephemeralcontainers';
    fake.beforeNext('PUT', path, () => fake.addEphemeralContainer('shop', 'web-0', { name: 'debugger', image: 'busybox', command: ['sleep', '30'] }));
    await driver.apply(spec, intent, context());
    const puts = fake.requests.filter((r) => r.method === 'PUT' && r.path === path && r.query.dryRun === undefined);
    // At least one retry; on a busy machine the fake kubelet's status update of the debugger can bump the version
    // once more between a re-read and its write, and the driver rightly retries again.
    expect(puts.length).toBeGreaterThanOrEqual(2);
    // Each retry carries a newer resourceVersion, and the one that landed keeps the other client's container.
    const versions = puts.map((r) => Number((r.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion));
    for (let i = 1; i < versions.length; i++) expect(versions[i]).toBeGreaterThan(versions[i - 1]!);
    expect((puts.at(-1)!.body as { spec: { ephemeralContainers: { name: string }[] } }).spec.ephemeralContainers.map((c) => c.name)).toEqual(['debugger', intent.params.agent]);
    const names = fake.get('pods', 'shop', 'web-0')!.spec.ephemeralContainers.map((c: { name: string }) => c.name);
    expect(names).toEqual(['debugger', intent.params.agent]);
    await driver.revert(intent, context());
  }, 30_000);

  it('runs a whole network_latency experiment through the embedded runtime: completed, the qdisc gone afterwards', async () => {
    fake.addDeployment({ namespace: 'shop', name: 'web', replicas: 2, labels: { app: 'web' } });
    runtime = await LocalRuntime.start({ drivers: [driver] });

    const record = await runtime.run(experiment('network_latency', { duration_seconds: 1, latency_ms: 300 }, { selection: 'ALL' }));

    expect(record).toMatchObject({ status: 'completed', deviated: false });
    const pods = fake.pods('shop');
    expect(pods.every((p) => fake.kubelet.qdisc(p) === undefined)).toBe(true);
    expect(pods.every((p) => p.status.ephemeralContainerStatuses?.[0]?.state?.terminated?.exitCode === 0)).toBe(true);
    const journal = (await runtime.journal(record.id)) as { run: { output: Record<string, unknown> }[]; rollbacks: { status: string; output: Record<string, unknown> }[] };
    expect(journal.rollbacks).toHaveLength(2);
    expect(journal.rollbacks.every((r) => r.status === 'succeeded' && r.output.undone === true)).toBe(true);
    // Last change first: the agents were added in one order and undone in the other.
    const added = writes()
      .filter((r) => r.method === 'PUT' && r.query.dryRun === undefined)
      .map((r) => `shop/${r.path.split('/')[6]}`);
    expect(journal.rollbacks.map((r) => r.output.pod)).toEqual([...added].reverse());
    const starts = (journal.rollbacks as unknown as { start: string }[]).map((r) => Date.parse(r.start));
    expect(starts[0]).toBeLessThanOrEqual(starts[1]!);
  }, 60_000);
});

describe('kubernetes agent faults: guardrails and crashes', () => {
  it('a namespace that looks like production is refused without require_confirmation, and allowed with it', async () => {
    fake.addDeployment({ namespace: 'payments-prod', name: 'web', replicas: 1, labels: { app: 'web' } });
    runtime = await LocalRuntime.start({ drivers: [driver] });

    const refused = await runtime.run(experiment('cpu_stress', { duration_seconds: 1 }, { namespace: 'payments-prod' })).catch((error: unknown) => error);

    // Refused when validated, before the cluster is asked anything, naming the field and the word.
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).issues).toEqual([{ field: 'target.namespace', message: expect.stringContaining('"payments-prod" looks like production ("prod"') }]);
    expect(fake.requests).toEqual([]);
    expect(writes()).toEqual([]);

    const confirmed = experiment('cpu_stress', { duration_seconds: 1 }, { namespace: 'payments-prod' });
    (confirmed.safety as Record<string, unknown>).require_confirmation = true;
    const record = await runtime.run(confirmed);
    expect(record).toMatchObject({ status: 'completed' });
    expect(fake.pods('payments-prod')[0]!.status.ephemeralContainerStatuses[0].state.terminated.exitCode).toBe(0);
  }, 60_000);

  it('a CLI killed while the agent holds the fault leaves it bounded by its duration, and `chaosduck recover` stops it', async () => {
    const { pods } = fake.addDeployment({ namespace: 'shop', name: 'web', replicas: 1, labels: { app: 'web' } });
    const cwd = mkdtempSync(join(tmpdir(), 'chaosduck-k8s-crash-'));
    try {
      const kubeconfig = join(cwd, 'kubeconfig');
      writeFileSync(kubeconfig, fake.kubeConfig().exportConfig());
      const env = { KUBECONFIG: kubeconfig, CHAOSDUCK_AGENT_IMAGE: IMAGE };
      const file = join(cwd, 'slow.yaml');
      writeFileSync(
        file,
        [
          'name: slow-web',
          'chaos_type: network_latency',
          'target: {namespace: shop, labels: {app: web}}',
          'parameters: {latency_ms: 400, duration_seconds: 120}',
          'safety: {timeout_seconds: 300, max_blast_radius: 1}',
        ].join('\n'),
      );
      const run = startCli(['run', file], { cwd, env });
      const output = await run.waitForOutput(/INJECT\s+✓ phase done/);
      const id = /experiment (exp-[\w-]+)/.exec(output)?.[1] ?? '';
      expect(fake.kubelet.qdisc(pods[0]!)).toContain('delay 400ms');

      run.child.kill('SIGKILL');
      await run.done;
      // The agent belongs to the pod, not to the control plane: the fault is still there, with its own end.
      expect(fake.kubelet.qdisc(pods[0]!)).toContain('delay 400ms');

      const recovery = await runCli(['recover'], { cwd, env });
      expect(recovery.code, recovery.stdout + recovery.stderr).toBe(0);
      expect(fake.kubelet.qdisc(pods[0]!)).toBeUndefined();
      expect(fake.execs).toHaveLength(1);
      const journal = JSON.parse((await runCli(['journal', id], { cwd, env })).stdout) as { status: string; chaosduck: { reason: string }; rollbacks: { status: string; output: Record<string, unknown> }[] };
      expect(journal).toMatchObject({ status: 'rolled_back', chaosduck: { reason: 'recovered_after_crash' } });
      expect(journal.rollbacks.map((r) => r.output)).toEqual([expect.objectContaining({ undone: true, how: 'stopped', verified: true })]);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 120_000);
});
