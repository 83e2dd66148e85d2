/**
 * The sandbox fault driver end to end: resolve → prepare → apply → revert for every workload chaos type, against real
 * replica processes, a real proxy and real stress workers, including a revert in a fresh sandbox after a crash.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, ProviderUnavailableError, ValidationError } from '../../shared/errors.js';
import type { FaultContext, FaultDriver, RollbackIntent, TargetRef } from '../../shared/faults/driver.js';
import type { FaultSpec, KUBERNETES_CHAOS_TYPES } from '../../shared/model/experiment.js';
import { parseExperiment } from '../../shared/model/parse.js';
import {
  AWAIT_REPLICA_RECOVERY,
  REMOVE_PROXY_FAULT,
  STOP_STRESS_WORKERS,
  createSandboxDriver,
  proxyRuleId,
} from '../../local/sandbox/driver.js';
import { isRunning, tsxImportUrl } from '../../local/processes.js';
import { startSandbox, type Sandbox } from '../../local/sandbox/sandbox.js';
import { findStressWorkers, stopStressWorkers, stressMarker } from '../../local/sandbox/stress.js';
import { pollUntil } from '../../local/wait.js';
import type { CrashHostReport } from '../support/sandbox-crash-host.js';
import { commandLine, timedGet } from '../support/sandbox-helpers.js';

const CRASH_HOST = fileURLToPath(new URL('../support/sandbox-crash-host.ts', import.meta.url));

function experiment(
  chaosType: (typeof KUBERNETES_CHAOS_TYPES)[number],
  parameters: Record<string, unknown> = {},
  labels: Record<string, string> = { app: 'demo' },
): FaultSpec {
  return parseExperiment({
    name: `sandbox ${chaosType}`,
    chaos_type: chaosType,
    target: { provider: 'sandbox', labels },
    parameters,
    safety: { timeout_seconds: 60, max_blast_radius: 1 },
  });
}

let runs = 0;
const contexts: FaultContext[] = [];
function newContext(signal = new AbortController().signal): FaultContext {
  const context = { experimentId: `driver-test-${process.pid}-${++runs}`, rollbackSeq: 1, signal };
  contexts.push(context);
  return context;
}

afterEach(async () => {
  for (const { experimentId, rollbackSeq } of contexts.splice(0)) await stopStressWorkers(stressMarker(experimentId, rollbackSeq), 10_000);
});

describe('sandbox fault driver', () => {
  let sandbox: Sandbox;
  let driver: FaultDriver;
  const signal = new AbortController().signal;

  /** Resolves and prepares against the first matching replica. */
  async function prepared(spec: FaultSpec): Promise<{ target: TargetRef; intent: RollbackIntent }> {
    const [target] = await driver.resolve(spec, signal);
    if (!target) throw new Error('nothing resolved');
    return { target, intent: await driver.prepare(spec, target, signal) };
  }

  /** Everything a fault could change: replica processes, proxy rules, stress workers. */
  function observable(context: FaultContext): unknown {
    return {
      replicas: sandbox.supervisor.replicas().map(({ id, pid, ready }) => ({ id, pid, ready })),
      rules: sandbox.proxy.rules(),
      workers: findStressWorkers(stressMarker(context.experimentId, context.rollbackSeq)),
    };
  }

  /** Sends requests through the proxy until `count` were routed to `replica`; a request that fails counts as failed. */
  async function requestsTo(replica: string, count: number): Promise<Array<{ ok: boolean; ms: number }>> {
    const results: Array<{ ok: boolean; ms: number }> = [];
    for (let sent = 0; results.length < count && sent < count * 10; sent++) {
      try {
        const response = await timedGet(sandbox.url);
        if (response.replica === replica) results.push({ ok: response.status === 200, ms: response.ms });
      } catch {
        results.push({ ok: false, ms: Number.NaN });
      }
    }
    return results;
  }

  beforeAll(async () => {
    sandbox = await startSandbox({ restartDelayMs: 100 });
    driver = createSandboxDriver(sandbox);
  });
  afterEach(async () => {
    for (const rule of sandbox.proxy.rules()) sandbox.proxy.removeRule(rule.id);
    await sandbox.awaitReady(15_000);
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  it('resolves the ready replicas whose labels match all of the selector', async () => {
    const all = await driver.resolve(experiment('pod_delete'), signal);
    expect(all.map((t) => t.id).sort()).toEqual(sandbox.replicas().map((t) => t.id).sort());
    const one = all[1] as TargetRef;
    const picked = await driver.resolve(experiment('pod_delete', {}, { app: 'demo', replica: one.labels.replica as string }), signal);
    expect(picked).toEqual([one]);
    expect(await driver.resolve(experiment('pod_delete', {}, { app: 'other' }), signal)).toEqual([]);
    expect(await driver.resolve(experiment('pod_delete', {}, { app: 'demo', tier: 'web' }), signal)).toEqual([]);
  });

  it('refuses chaos types it does not know', async () => {
    const ec2 = parseExperiment({ name: 'ec2', chaos_type: 'ec2_stop', target: { instance_ids: ['i-0123456789abcdef0'] } });
    await expect(driver.resolve(ec2, signal)).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(driver.chaosTypes).toEqual(['pod_delete', 'network_latency', 'network_loss', 'cpu_stress', 'memory_stress']);
  });

  it.each([
    ['pod_delete', AWAIT_REPLICA_RECOVERY],
    ['network_latency', REMOVE_PROXY_FAULT],
    ['network_loss', REMOVE_PROXY_FAULT],
    ['cpu_stress', STOP_STRESS_WORKERS],
    ['memory_stress', STOP_STRESS_WORKERS],
  ] as const)('prepares %s without changing anything, naming %s', async (chaosType, action) => {
    const context = newContext();
    const before = observable(context);
    const { target, intent } = await prepared(experiment(chaosType, {}));
    expect(observable(context)).toEqual(before);
    const replica = sandbox.supervisor.replicas().find((r) => sandbox.targetId(r.id) === target.id);
    expect(intent).toMatchObject({
      provider: 'sandbox',
      action,
      target,
      params: { chaos_type: chaosType, service: 'demo', replica: replica?.id, pid: replica?.pid },
      snapshot: { replica: replica?.id, pid: replica?.pid, port: replica?.port, desired_replicas: 3, ready_replicas: 3, proxy_rules: [] },
    });
    // The intent is stored as JSON and must survive that unchanged.
    expect(JSON.parse(JSON.stringify(intent))).toEqual(intent);
  });

  it('refuses in prepare a stress bigger than the machine', async () => {
    const cores = experiment('cpu_stress', { cpu_cores: 256 });
    await expect(prepared(cores)).rejects.toBeInstanceOf(ValidationError);
    const memory = experiment('memory_stress', { memory_mb: 1_048_576 });
    await expect(prepared(memory)).rejects.toBeInstanceOf(ValidationError);
  });

  it('refuses to prepare a target that is gone', async () => {
    const spec = experiment('pod_delete');
    const [target] = await driver.resolve(spec, signal);
    const gone = { ...(target as TargetRef), id: 'sandbox/demo/replica-999' };
    await expect(driver.prepare(spec, gone, signal)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('pod_delete: kills the replica, and revert waits for its replacement and reports the recovery time', async () => {
    const spec = experiment('pod_delete');
    const { intent } = await prepared(spec);
    const context = newContext();
    const victim = intent.params.pid as number;

    const applied = await driver.apply(spec, intent, context);
    expect(applied).toMatchObject({ replica: intent.params.replica, killed_pid: victim, signal: 'SIGKILL' });

    const reverted = await driver.revert(intent, context);
    expect(reverted).toMatchObject({ recovered: true, replica_died: true, pid: victim, ready_replicas: 3, desired_replicas: 3 });
    const { replacement, recovered_after_ms } = reverted as { replacement: string; recovered_after_ms: number };
    expect(replacement).not.toBe(intent.params.replica);
    expect(sandbox.supervisor.replicas().map((r) => r.id)).toContain(replacement);
    expect(recovered_after_ms).toBeGreaterThanOrEqual(100);
    expect(isRunning(victim)).toBe(false);

    expect(await driver.revert(intent, context)).toMatchObject({ recovered: true, replacement, recovered_after_ms });
  });

  it('pod_delete with a grace period: SIGTERM, a clean exit, then recovery', async () => {
    const spec = experiment('pod_delete', { grace_period_seconds: 5 });
    const { intent } = await prepared(spec);
    const context = newContext();
    expect(await driver.apply(spec, intent, context)).toMatchObject({ signal: 'SIGTERM', grace_period_seconds: 5 });
    expect(await driver.revert(intent, context)).toMatchObject({ recovered: true, replica_died: true });
    expect(sandbox.supervisor.exitOf(intent.params.pid as number)).toMatchObject({ exitCode: 0, signal: null });
  });

  it('reverting a fault that was never applied succeeds and does nothing', async () => {
    const context = newContext();
    for (const chaosType of ['pod_delete', 'network_latency', 'cpu_stress'] as const) {
      const { intent } = await prepared(experiment(chaosType));
      const before = observable(context);
      const reverted = await driver.revert(intent, context);
      expect(observable(context)).toEqual(before);
      if (chaosType === 'pod_delete') expect(reverted).toMatchObject({ recovered: true, replica_died: false, replacement: null });
      if (chaosType === 'network_latency') expect(reverted).toMatchObject({ removed: false });
      if (chaosType === 'cpu_stress') expect(reverted).toMatchObject({ killed: [] });
    }
  });

  it('network_latency: slows the target replica until reverted; the rule carries its own expiry', async () => {
    const spec = experiment('network_latency', { latency_ms: 300, duration_seconds: 20 });
    const { target, intent } = await prepared(spec);
    const context = newContext();
    const replica = intent.params.replica as string;
    const ruleId = proxyRuleId(context.experimentId, target.id, 'network_latency');

    const applied = (await driver.apply(spec, intent, context)) as { rule_id: string; expires_at: string };
    expect(applied).toMatchObject({ rule_id: ruleId, replica, kind: 'latency', latency_ms: 300, jitter_ms: 0 });
    expect(Date.parse(applied.expires_at) - Date.now()).toBeGreaterThan(15_000);
    expect(sandbox.proxy.rules(replica).map((r) => r.id)).toEqual([ruleId]);
    for (const result of await requestsTo(replica, 2)) expect(result.ms).toBeGreaterThan(250);

    expect(await driver.revert(intent, context)).toEqual({ rule_id: ruleId, removed: true });
    expect(await driver.revert(intent, context)).toEqual({ rule_id: ruleId, removed: false });
    for (const result of await requestsTo(replica, 2)) expect(result.ms).toBeLessThan(250);
  });

  it('network_loss: drops the target replica’s requests until reverted', async () => {
    const spec = experiment('network_loss', { loss_percent: 100, duration_seconds: 20 });
    const { intent } = await prepared(spec);
    const context = newContext();
    const replica = intent.params.replica as string;

    expect(await driver.apply(spec, intent, context)).toMatchObject({ replica, kind: 'loss', loss_percent: 100 });
    const during = await Promise.all(Array.from({ length: 6 }, () => timedGet(sandbox.url).then((r) => r.replica, () => 'dropped')));
    expect(during.filter((r) => r === 'dropped')).toHaveLength(2);
    expect(during).not.toContain(replica);

    expect(await driver.revert(intent, context)).toMatchObject({ removed: true });
    expect((await requestsTo(replica, 2)).every((r) => r.ok)).toBe(true);
  });

  it('cpu_stress: starts marked workers that revert kills; a second revert finds none', async () => {
    const spec = experiment('cpu_stress', { cpu_cores: 2, cpu_load_percent: 50, duration_seconds: 20 });
    const { intent } = await prepared(spec);
    const context = newContext();
    const marker = stressMarker(context.experimentId, context.rollbackSeq);

    const applied = (await driver.apply(spec, intent, context)) as { pids: number[] };
    expect(applied).toMatchObject({ marker, cpu_cores: 2, cpu_load_percent: 50 });
    expect(applied.pids).toHaveLength(2);
    for (const pid of applied.pids) expect(commandLine(pid)).toContain(`--chaosduck-stress=${marker}`);

    const reverted = (await driver.revert(intent, context)) as { killed: number[] };
    expect([...reverted.killed].sort()).toEqual([...applied.pids].sort());
    for (const pid of applied.pids) expect(isRunning(pid)).toBe(false);
    expect(await driver.revert(intent, context)).toEqual({ marker, killed: [] });
  });

  it('memory_stress: starts a marked worker that revert kills', async () => {
    const spec = experiment('memory_stress', { memory_mb: 32, duration_seconds: 20 });
    const { intent } = await prepared(spec);
    const context = newContext();
    const applied = (await driver.apply(spec, intent, context)) as { pids: number[] };
    expect(applied).toMatchObject({ memory_mb: 32, pids: [expect.any(Number)] });
    expect(await driver.revert(intent, context)).toMatchObject({ killed: applied.pids });
    expect(isRunning(applied.pids[0] as number)).toBe(false);
  });
});

describe('sandbox fault driver across processes', () => {
  it('stops waiting for recovery when the signal aborts', async () => {
    // A restart delay far beyond the test makes the recovery wait hang until aborted.
    const slow = await startSandbox({ replicas: 1, restartDelayMs: 60_000 });
    try {
      const driver = createSandboxDriver(slow);
      const spec = experiment('pod_delete');
      const [target] = await driver.resolve(spec, new AbortController().signal);
      const intent = await driver.prepare(spec, target as TargetRef, new AbortController().signal);
      await driver.apply(spec, intent, newContext());
      const started = Date.now();
      await expect(driver.revert(intent, newContext(AbortSignal.timeout(300)))).rejects.toThrow(/abort|timeout/i);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await slow.stop();
    }
  });

  it('a SIGKILLed control plane leaves no replica behind, and a new one reverts its stress from the stored intent', async () => {
    const experimentId = `crash-test-${process.pid}`;
    const host = fork(CRASH_HOST, [experimentId], {
      execArgv: ['--import', tsxImportUrl()],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const context: FaultContext = { experimentId, rollbackSeq: 1, signal: new AbortController().signal };
    contexts.push(context);
    try {
      const report = await new Promise<CrashHostReport>((resolve, reject) => {
        host.once('message', (message) => resolve(message as CrashHostReport));
        host.once('exit', (code) => reject(new Error(`crash host exited early (${code})`)));
      });
      const workers = (report.applied as { pids: number[] }).pids;
      expect(report.replicaPids).toHaveLength(2);
      expect(workers).toHaveLength(1);

      const exited = new Promise((resolve) => host.once('exit', resolve));
      host.kill('SIGKILL');
      await exited;
      await pollUntil(() => report.replicaPids.every((pid) => !isRunning(pid)), { timeoutMs: 10_000, what: 'orphaned replicas to exit' });
      // The stress worker is detached: it outlives the crash, as the fault must until it is reverted.
      expect(workers.every(isRunning)).toBe(true);

      const fresh = await startSandbox({ replicas: 1 });
      try {
        const intent = JSON.parse(JSON.stringify(report.intent)) as RollbackIntent;
        const reverted = await createSandboxDriver(fresh).revert(intent, context);
        expect(reverted).toEqual({ marker: stressMarker(experimentId, 1), killed: workers });
        expect(workers.some(isRunning)).toBe(false);
      } finally {
        await fresh.stop();
      }
    } finally {
      host.kill('SIGKILL');
    }
  });
});
