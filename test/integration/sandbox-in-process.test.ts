/**
 * The sandbox with in-process replicas (one `node:http` server per replica in this process), with real HTTP through
 * the proxy and real faults through the driver: many replicas, a latency rule on one of them, a pod_delete that closes
 * one replica's server and has it replaced, all without touching the process that runs them.
 */
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FaultContext, FaultDriver, RollbackIntent, TargetRef } from '../../shared/faults/driver.js';
import type { FaultSpec, KUBERNETES_CHAOS_TYPES } from '../../shared/model/experiment.js';
import { parseExperiment } from '../../shared/model/parse.js';
import { isRunning } from '../../local/processes.js';
import { AWAIT_REPLICA_RECOVERY, REMOVE_PROXY_FAULT, createSandboxDriver, proxyRuleId } from '../../local/sandbox/driver.js';
import { startSandbox, type Sandbox } from '../../local/sandbox/sandbox.js';
import { timedGet, type TimedResponse } from '../support/sandbox-helpers.js';

const REPLICAS = 200;

function experiment(
  chaosType: (typeof KUBERNETES_CHAOS_TYPES)[number],
  parameters: Record<string, unknown>,
  labels: Record<string, string>,
): FaultSpec {
  return parseExperiment({
    name: `in-process ${chaosType}`,
    chaos_type: chaosType,
    target: { provider: 'sandbox', labels },
    parameters,
    safety: { timeout_seconds: 60, max_blast_radius: 1 },
  });
}

let runs = 0;
const newContext = (): FaultContext => ({
  experimentId: `in-process-test-${process.pid}-${++runs}`,
  rollbackSeq: 1,
  signal: new AbortController().signal,
});
const signal = new AbortController().signal;

/** Sequential GETs through the proxy: `count` of them reach `count` consecutive replicas of the round-robin. */
async function getMany(url: string, count: number): Promise<TimedResponse[]> {
  const responses: TimedResponse[] = [];
  for (let i = 0; i < count; i++) responses.push(await timedGet(url));
  return responses;
}

/** Whether a TCP connection to the port is accepted (false: refused, i.e. nothing listens there). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A connection to the port with a request in flight (its headers never finish, so a graceful close would wait for it),
 * and a promise that settles when the other side closes the connection.
 */
async function openConnection(port: number): Promise<{ closed: Promise<void>; destroy: () => void }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  socket.resume();
  return { closed, destroy: () => socket.destroy() };
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, new Promise<T>((_resolve, reject) => setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms))]);
}

describe(`in-process sandbox with ${REPLICAS} replicas`, () => {
  let sandbox: Sandbox;
  let driver: FaultDriver;
  let startupMs: number;

  async function prepared(spec: FaultSpec): Promise<{ target: TargetRef; intent: RollbackIntent }> {
    const targets = await driver.resolve(spec, signal);
    expect(targets).toHaveLength(1);
    const target = targets[0] as TargetRef;
    return { target, intent: await driver.prepare(spec, target, signal) };
  }

  beforeAll(async () => {
    const started = performance.now();
    sandbox = await startSandbox({ replicas: REPLICAS, replicaMode: 'in-process', restartDelayMs: 100 });
    startupMs = performance.now() - started;
    driver = createSandboxDriver(sandbox);
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const rule of sandbox.proxy.rules()) sandbox.proxy.removeRule(rule.id);
    await sandbox.awaitReady(15_000);
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  it('starts every replica quickly, each on its own port, all in this process', () => {
    // Typically well under a second; the bound only catches replicas started one after another, or as processes.
    expect(startupMs).toBeLessThan(10_000);
    expect(sandbox.replicaMode).toBe('in-process');
    const ready = sandbox.supervisor.readyReplicas();
    expect(ready).toHaveLength(REPLICAS);
    expect(new Set(ready.map((r) => r.port)).size).toBe(REPLICAS);
    expect(new Set(ready.map((r) => r.id)).size).toBe(REPLICAS);
    expect(ready.every((r) => r.pid === process.pid)).toBe(true);
    const target = sandbox.target('replica-7');
    expect(target).toMatchObject({
      id: 'sandbox/demo/replica-7',
      labels: { app: 'demo', replica: 'replica-7' },
      details: { mode: 'in-process', pid: process.pid, ready: true },
    });
  });

  it('serves every replica through the proxy, answering what a replica process answers', async () => {
    const responses = await getMany(sandbox.url, REPLICAS);
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(new Set(responses.map((r) => r.replica))).toEqual(new Set(sandbox.supervisor.readyReplicas().map((r) => r.id)));
    for (const response of responses) {
      expect(JSON.parse(response.body)).toEqual({ service: 'demo', replica: response.replica, pid: process.pid });
    }
    const replica = sandbox.supervisor.replica('replica-7');
    const health = await timedGet(`http://127.0.0.1:${replica?.port}/health?probe=1`);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ service: 'demo', replica: 'replica-7', pid: process.pid });
    expect((await timedGet(`http://127.0.0.1:${replica?.port}/nope`)).status).toBe(404);
  });

  it('network_latency on one replica delays only the requests it serves, until reverted', async () => {
    const spec = experiment('network_latency', { latency_ms: 500, duration_seconds: 30 }, { app: 'demo', replica: 'replica-7' });
    const { target, intent } = await prepared(spec);
    expect(target.id).toBe('sandbox/demo/replica-7');
    expect(intent).toMatchObject({ action: REMOVE_PROXY_FAULT, params: { replica: 'replica-7', pid: process.pid } });
    const context = newContext();
    const ruleId = proxyRuleId(context.experimentId, target.id, 'network_latency');
    expect(await driver.apply(spec, intent, context)).toMatchObject({ rule_id: ruleId, replica: 'replica-7', latency_ms: 500 });

    // One full round of the round-robin reaches every replica once.
    const during = await getMany(sandbox.url, REPLICAS);
    const slow = during.filter((r) => r.replica === 'replica-7');
    expect(slow).toHaveLength(1);
    expect(slow[0]?.ms).toBeGreaterThan(450);
    const others = during.filter((r) => r.replica !== 'replica-7');
    expect(others).toHaveLength(REPLICAS - 1);
    expect(Math.max(...others.map((r) => r.ms))).toBeLessThan(400);

    expect(await driver.revert(intent, context)).toEqual({ rule_id: ruleId, removed: true });
    expect(sandbox.proxy.rules()).toEqual([]);
    const after = await getMany(sandbox.url, REPLICAS);
    expect(after.find((r) => r.replica === 'replica-7')?.ms).toBeLessThan(400);
  });

  it('pod_delete closes the replica’s server and cuts its connections; the supervisor replaces it', async () => {
    const kill = vi.spyOn(process, 'kill');
    const spec = experiment('pod_delete', {}, { app: 'demo', replica: 'replica-3' });
    const { intent } = await prepared(spec);
    expect(intent).toMatchObject({ action: AWAIT_REPLICA_RECOVERY, params: { replica: 'replica-3', pid: process.pid } });
    const victimPort = sandbox.supervisor.replica('replica-3')?.port as number;
    const connection = await openConnection(victimPort);
    const context = newContext();

    try {
      const applied = await driver.apply(spec, intent, context);
      expect(applied).toMatchObject({ replica: 'replica-3', replica_mode: 'in-process', killed_pid: process.pid, signal: 'SIGKILL' });
      await within(connection.closed, 5000, 'close of the open connection');
    } finally {
      connection.destroy();
    }
    expect(sandbox.supervisor.replica('replica-3')).toBeUndefined();
    expect(await accepts(victimPort)).toBe(false);

    const reverted = await driver.revert(intent, context);
    expect(reverted).toMatchObject({
      recovered: true,
      replica: 'replica-3',
      replica_died: true,
      ready_replicas: REPLICAS,
      desired_replicas: REPLICAS,
    });
    const { replacement, recovered_after_ms } = reverted as { replacement: string; recovered_after_ms: number };
    expect(replacement).toMatch(/^replica-\d+$/);
    expect(replacement).not.toBe('replica-3');
    expect(recovered_after_ms).toBeGreaterThanOrEqual(100);
    expect(sandbox.supervisor.exitOfReplica('replica-3')).toMatchObject({
      pid: process.pid,
      signal: 'SIGKILL',
      exitCode: null,
      replacement,
      diedAt: expect.any(Number),
      replacementReadyAt: expect.any(Number),
    });
    const fresh = sandbox.supervisor.replica(replacement);
    expect(fresh).toMatchObject({ ready: true, pid: process.pid });
    expect(await accepts(fresh?.port as number)).toBe(true);

    // The sandbox's own process was never signalled, and it still serves every replica.
    expect(kill).not.toHaveBeenCalled();
    expect(isRunning(process.pid)).toBe(true);
    const responses = await getMany(sandbox.url, REPLICAS);
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(responses.map((r) => r.replica)).toContain(replacement);
    expect(responses.map((r) => r.replica)).not.toContain('replica-3');
  });

  it('pod_delete with a grace period kills a replica that has not drained when the period ends', async () => {
    const spec = experiment('pod_delete', { grace_period_seconds: 1 }, { app: 'demo', replica: 'replica-5' });
    const { intent } = await prepared(spec);
    const connection = await openConnection(sandbox.supervisor.replica('replica-5')?.port as number);
    const context = newContext();
    try {
      const started = performance.now();
      expect(await driver.apply(spec, intent, context)).toMatchObject({ replica: 'replica-5', signal: 'SIGKILL', grace_period_seconds: 1 });
      expect(performance.now() - started).toBeGreaterThanOrEqual(900);
      await within(connection.closed, 5000, 'close of the open connection');
    } finally {
      connection.destroy();
    }
    expect(await driver.revert(intent, context)).toMatchObject({ recovered: true, replica_died: true });
    expect(sandbox.supervisor.exitOfReplica('replica-5')).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
  });

  it('pod_delete with a grace period closes the server cleanly, then recovers', async () => {
    const spec = experiment('pod_delete', { grace_period_seconds: 5 }, { app: 'demo', replica: 'replica-4' });
    const { intent } = await prepared(spec);
    const context = newContext();
    expect(await driver.apply(spec, intent, context)).toMatchObject({ replica: 'replica-4', signal: 'SIGTERM', grace_period_seconds: 5 });
    expect(await driver.revert(intent, context)).toMatchObject({ recovered: true, replica_died: true });
    expect(sandbox.supervisor.exitOfReplica('replica-4')).toMatchObject({ exitCode: 0, signal: null });
  });
});

describe('in-process sandbox with 1000 replicas', () => {
  it('starts fast, takes a latency fault on every replica and reverts them all, and stop closes every server', async () => {
    const started = performance.now();
    const sandbox = await startSandbox({ replicas: 1000, replicaMode: 'in-process' });
    const startupMs = performance.now() - started;
    let ports: number[] = [];
    try {
      if (process.env.SANDBOX_TIMINGS) console.log(`1000 in-process replicas ready after ${startupMs.toFixed(0)} ms`);
      expect(startupMs).toBeLessThan(10_000);
      expect(sandbox.supervisor.readyCount()).toBe(1000);
      ports = sandbox.supervisor.replicas().map((r) => r.port as number);
      expect(new Set(ports).size).toBe(1000);

      const driver = createSandboxDriver(sandbox);
      const context = newContext();
      const faults = await Promise.all(
        sandbox.replicas().map(async ({ labels }) => {
          const spec = experiment('network_latency', { latency_ms: 100, duration_seconds: 30 }, { app: 'demo', replica: labels.replica as string });
          const [target] = await driver.resolve(spec, signal);
          const intent = await driver.prepare(spec, target as TargetRef, signal);
          await driver.apply(spec, intent, context);
          return intent;
        }),
      );
      expect(sandbox.proxy.rules()).toHaveLength(1000);
      const reverted = await Promise.all(faults.map((intent) => driver.revert(intent, context)));
      expect(reverted.every((r) => (r as { removed: boolean }).removed)).toBe(true);
      expect(sandbox.proxy.rules()).toEqual([]);

      expect((await timedGet(sandbox.url)).status).toBe(200);
    } finally {
      const idle = ports[0] === undefined ? undefined : await openConnection(ports[0]);
      await sandbox.stop();
      if (idle) await within(idle.closed, 5000, 'close of an open connection on stop');
    }
    expect(sandbox.supervisor.replicas()).toEqual([]);
    const accepted = await Promise.all(ports.map(accepts));
    expect(accepted.filter(Boolean)).toHaveLength(0);
  });
});
