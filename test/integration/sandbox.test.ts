/**
 * The sandbox's moving parts with real processes and real HTTP: supervised replicas behind the proxy, the proxy's
 * fault rules, and the detached stress workers.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isRunning } from '../../local/processes.js';
import { startProxy } from '../../local/sandbox/proxy.js';
import { startSandbox, type Sandbox } from '../../local/sandbox/sandbox.js';
import { findStressWorkers, spawnStressWorkers, stopStressWorkers, stressMarker } from '../../local/sandbox/stress.js';
import { pollUntil } from '../../local/wait.js';
import { commandLine, cpuTimeMs, rssBytes, timedGet, type TimedResponse } from '../support/sandbox-helpers.js';

const MIB = 1024 * 1024;

async function getMany(url: string, count: number): Promise<TimedResponse[]> {
  const responses: TimedResponse[] = [];
  for (let i = 0; i < count; i++) responses.push(await timedGet(url));
  return responses;
}

describe('sandbox service', () => {
  let sandbox: Sandbox;

  beforeAll(async () => {
    sandbox = await startSandbox({ restartDelayMs: 100 });
  });
  afterAll(async () => {
    await sandbox?.stop();
  });
  afterEach(async () => {
    for (const rule of sandbox.proxy.rules()) sandbox.proxy.removeRule(rule.id);
    await sandbox.awaitReady(15_000);
  });

  it('serves every replica through the proxy, round-robin', async () => {
    const ready = sandbox.supervisor.readyReplicas();
    expect(ready).toHaveLength(3);
    const responses = await getMany(sandbox.url, 6);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(new Set(responses.map((r) => r.replica))).toEqual(new Set(ready.map((r) => r.id)));
    for (const response of responses) {
      const body = JSON.parse(response.body) as { service: string; replica: string; pid: number };
      const replica = ready.find((r) => r.id === body.replica);
      expect(body).toEqual({ service: 'demo', replica: response.replica, pid: replica?.pid });
    }
    const health = await timedGet(`http://127.0.0.1:${ready[0]?.port}/health`);
    expect(JSON.parse(health.body)).toMatchObject({ replica: ready[0]?.id, pid: ready[0]?.pid });
  });

  it('lists its replicas as labelled targets', () => {
    const targets = sandbox.replicas();
    expect(targets).toHaveLength(3);
    for (const target of targets) {
      const replica = target.labels.replica;
      expect(target).toMatchObject({ provider: 'sandbox', id: `sandbox/demo/${replica}`, labels: { app: 'demo', replica } });
      expect(target.details).toMatchObject({ service: 'demo', ready: true, pid: expect.any(Number), port: expect.any(Number) });
    }
  });

  it('replaces a killed replica and records how long recovery took', async () => {
    const [victim] = sandbox.supervisor.readyReplicas();
    if (!victim) throw new Error('no replica');
    process.kill(victim.pid, 'SIGKILL');
    await pollUntil(() => sandbox.supervisor.exitOf(victim.pid)?.replacementReadyAt != null, { timeoutMs: 15_000, what: 'recovery' });
    const exit = sandbox.supervisor.exitOf(victim.pid);
    expect(exit).toMatchObject({ replica: victim.id, signal: 'SIGKILL', replacement: expect.stringMatching(/^replica-\d+$/) });
    const replacement = sandbox.supervisor.replicas().find((r) => r.id === exit?.replacement);
    expect(replacement?.pid).not.toBe(victim.pid);
    expect(replacement?.id).not.toBe(victim.id);
    expect((exit?.replacementReadyAt ?? 0) - (exit?.diedAt ?? 0)).toBeGreaterThanOrEqual(100);
    expect(isRunning(victim.pid)).toBe(false);
    await sandbox.awaitReady(15_000);
  });

  it('keeps answering while a replica dies, by retrying another', async () => {
    const [victim] = sandbox.supervisor.readyReplicas();
    if (!victim) throw new Error('no replica');
    process.kill(victim.pid, 'SIGKILL');
    const responses = await getMany(sandbox.url, 9);
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(responses.some((r) => r.replica === victim.id)).toBe(false);
  });

  it('delays only the replica a latency rule targets, until the rule is removed', async () => {
    const [slow] = sandbox.supervisor.readyReplicas();
    if (!slow) throw new Error('no replica');
    sandbox.proxy.addRule({ id: 'slow', replica: slow.id, kind: 'latency', latencyMs: 300, jitterMs: 0, expiresAt: Date.now() + 30_000 });
    const delayed = await getMany(sandbox.url, 6);
    for (const response of delayed) {
      if (response.replica === slow.id) expect(response.ms).toBeGreaterThan(250);
      else expect(response.ms).toBeLessThan(250);
    }
    expect(delayed.filter((r) => r.replica === slow.id)).toHaveLength(2);

    expect(sandbox.proxy.removeRule('slow')).toBe(true);
    expect(sandbox.proxy.removeRule('slow')).toBe(false);
    for (const response of await getMany(sandbox.url, 6)) expect(response.ms).toBeLessThan(250);
  });

  it('lets a latency rule expire by itself', async () => {
    const [slow] = sandbox.supervisor.readyReplicas();
    if (!slow) throw new Error('no replica');
    const expiresAt = Date.now() + 1500;
    sandbox.proxy.addRule({ id: 'short', replica: slow.id, kind: 'latency', latencyMs: 300, jitterMs: 50, expiresAt });
    expect(sandbox.proxy.rules(slow.id)).toHaveLength(1);
    await sleep(expiresAt - Date.now() + 50);
    expect(sandbox.proxy.rules()).toEqual([]);
    for (const response of await getMany(sandbox.url, 6)) expect(response.ms).toBeLessThan(250);
    expect(sandbox.proxy.removeRule('short')).toBe(false);
  });

  it('drops about the requested share of the requests to a lossy replica', async () => {
    const [lossy] = sandbox.supervisor.readyReplicas();
    if (!lossy) throw new Error('no replica');
    sandbox.proxy.addRule({ id: 'lossy', replica: lossy.id, kind: 'loss', lossPercent: 50, expiresAt: Date.now() + 30_000 });
    let dropped = 0;
    const served = new Map<string, number>();
    for (let i = 0; i < 180; i++) {
      try {
        const response = await timedGet(sandbox.url);
        served.set(response.replica ?? '', (served.get(response.replica ?? '') ?? 0) + 1);
      } catch {
        dropped++;
      }
    }
    // 60 requests reach the lossy replica; at 50 % the drops stay within ±4 standard deviations of 30.
    expect(dropped).toBeGreaterThanOrEqual(15);
    expect(dropped).toBeLessThanOrEqual(45);
    expect(served.get(lossy.id)).toBe(60 - dropped);
    for (const [replica, count] of served) if (replica !== lossy.id) expect(count).toBe(60);
  });
});

describe('sandbox proxy without the sandbox', () => {
  it('answers 503 when no replica is ready, and skips a replica that refuses connections', async () => {
    const live = createServer((_req, res) => res.end('live'));
    await new Promise<void>((resolve) => live.listen(0, '127.0.0.1', resolve));
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise((resolve) => dead.close(resolve));

    let upstreams = [
      { id: 'dead', port: deadPort },
      { id: 'live', port: (live.address() as AddressInfo).port },
    ];
    const proxy = await startProxy({ upstreams: () => upstreams });
    try {
      const responses = await getMany(proxy.url, 4);
      expect(responses.map((r) => [r.status, r.replica, r.body])).toEqual(Array(4).fill([200, 'live', 'live']));
      upstreams = [];
      expect((await timedGet(proxy.url)).status).toBe(503);
    } finally {
      await proxy.close();
      await new Promise((resolve) => live.close(resolve));
    }
  });
});

describe('sandbox stress workers', () => {
  const markers: string[] = [];
  const newMarker = (): string => {
    const marker = stressMarker(`stress-test-${process.pid}-${markers.length}`, 1);
    markers.push(marker);
    return marker;
  };
  afterEach(async () => {
    for (const marker of markers.splice(0)) await stopStressWorkers(marker, 10_000);
  });

  it('runs a cpu worker that carries its marker and burns cpu, until stopped; stopping twice is harmless', async () => {
    const marker = newMarker();
    const pids = spawnStressWorkers({
      marker,
      target: 'sandbox/demo/replica-1',
      endsAt: Date.now() + 20_000,
      load: { kind: 'cpu', workers: 1, loadPercent: 100 },
    });
    expect(pids).toHaveLength(1);
    const [pid] = pids as [number];
    expect(commandLine(pid)).toContain(`--chaosduck-stress=${marker}`);
    expect(findStressWorkers(marker)).toEqual([pid]);

    // Let tsx finish loading, then expect a real share of a core over a second: an idle process uses next to none,
    // and the bound stays loose for a busy machine.
    await sleep(1500);
    const before = cpuTimeMs(pid);
    await sleep(1000);
    expect(cpuTimeMs(pid) - before).toBeGreaterThan(150);

    expect(await stopStressWorkers(marker, 10_000)).toEqual([pid]);
    expect(isRunning(pid)).toBe(false);
    expect(await stopStressWorkers(marker, 10_000)).toEqual([]);
  });

  it('starts one worker per core asked for', async () => {
    const marker = newMarker();
    const pids = spawnStressWorkers({
      marker,
      target: 'sandbox/demo/replica-1',
      endsAt: Date.now() + 20_000,
      load: { kind: 'cpu', workers: 2, loadPercent: 10 },
    });
    expect(new Set(pids).size).toBe(2);
    expect(findStressWorkers(marker).sort()).toEqual([...pids].sort());
  });

  it('ends a worker by itself when its time is up', async () => {
    const marker = newMarker();
    const [pid] = spawnStressWorkers({
      marker,
      target: 'sandbox/demo/replica-1',
      endsAt: Date.now() + 1500,
      load: { kind: 'cpu', workers: 1, loadPercent: 100 },
    }) as [number];
    expect(isRunning(pid)).toBe(true);
    await pollUntil(() => !isRunning(pid), { timeoutMs: 10_000, what: 'the worker to end itself' });
    expect(findStressWorkers(marker)).toEqual([]);
  });

  it('holds about memory_mb of resident memory', async () => {
    const endsAt = Date.now() + 20_000;
    const [baseline] = spawnStressWorkers({ marker: newMarker(), target: 't', endsAt, load: { kind: 'memory', memoryMb: 1 } }) as [number];
    const [hog] = spawnStressWorkers({ marker: newMarker(), target: 't', endsAt, load: { kind: 'memory', memoryMb: 160 } }) as [number];
    await pollUntil(() => isRunning(hog) && rssBytes(hog) > 160 * MIB, { timeoutMs: 15_000, what: 'the memory worker to fill' });
    // Both workers are the same program, so the difference is the memory held.
    await sleep(300);
    const grown = (rssBytes(hog) - rssBytes(baseline)) / MIB;
    expect(grown).toBeGreaterThan(130);
    expect(grown).toBeLessThan(200);
  });
});
