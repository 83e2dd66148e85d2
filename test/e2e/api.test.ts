/**
 * The REST API over real HTTP against the local server: the embedded runtime (SQLite, the real ASL files and
 * handlers) behind the same API function Lambda runs, with the in-memory fault driver as the target.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime.js';
import { startServer, type LocalServer } from '../../local/server.js';
import { MemoryDriver } from '../support/memory-driver.js';
import { apiClient } from '../support/api-client.js';

const TOKEN = 'test-token-0123456789';
const SLOTS = 40;

describe('REST API on the local server', () => {
  let runtime: LocalRuntime;
  let server: LocalServer;
  let driver: MemoryDriver;
  let nextSlot = 0;

  beforeAll(async () => {
    driver = new MemoryDriver({ targets: SLOTS, labelsOf: (i) => ({ slot: String(i) }) });
    runtime = await LocalRuntime.start({ drivers: [driver] });
    server = await startServer({ runtime, token: TOKEN, port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await runtime?.stop();
  });

  const call = apiClient(() => server.url, TOKEN);
  /** An experiment on a target of its own, so tests never contend for a lease. */
  const experiment = (overrides: Record<string, unknown> = {}) => ({
    name: `api-${++nextSlot}`,
    chaos_type: 'pod_delete',
    target: { provider: 'memory', labels: { app: 'demo', slot: String(nextSlot) } },
    parameters: { duration_seconds: 0 },
    safety: { max_blast_radius: 1 },
    ...overrides,
  });
  const settled = async (id: string) => {
    for (;;) {
      const { body } = await call('GET', `/api/chaos/experiments/${id}`);
      if (!['pending', 'running'].includes(body.status)) return body;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it('answers /health without a token', async () => {
    const response = await fetch(`${server.url}/health`);

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', runtime: 'local', emergency_stop: { active: false } });
  });

  it('refuses every other route without the token, and changes nothing', async () => {
    const before = (await runtime.store.listExperiments({})).items.length;
    const response = await fetch(`${server.url}/api/chaos/experiments`, { method: 'POST', body: JSON.stringify(experiment()) });
    const wrong = await fetch(`${server.url}/emergency-stop`, { method: 'POST', headers: { authorization: 'Bearer nope' } });

    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(wrong.status).toBe(401);
    expect((await runtime.store.listExperiments({})).items.length).toBe(before);
    expect((await runtime.store.getEmergencyStop()).active).toBe(false);
  });

  it('creates an experiment (202 with its id and execution), which runs to completion with a journal', async () => {
    const created = await call('POST', '/api/chaos/experiments', experiment());

    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ status: 'pending', id: expect.stringMatching(/^exp-/), execution_arn: expect.stringContaining(':execution:') });
    const done = await settled(created.body.id);
    expect(done).toMatchObject({ status: 'completed', chaos_type: 'pod_delete', deviated: false });
    expect(done.phase_results.map((p: { phase: string }) => p.phase)).toEqual(['STEADY_STATE', 'HYPOTHESIS', 'INJECT', 'OBSERVE', 'ROLLBACK']);
    expect(done.journal.status).toBe('completed');
    expect(done.rollback_stack).toEqual([expect.objectContaining({ state: 'done' })]);
  });

  it('rejects bad input with 400 naming every bad field, storing nothing', async () => {
    const before = (await runtime.store.listExperiments({})).items.length;

    const bad = await call('POST', '/api/chaos/experiments', { name: 'x', chaos_type: 'network_latency', target: { labels: {} }, parameters: { latency_ms: -5 } });
    const notJson = await call('POST', '/api/chaos/experiments', '{"name": ');
    const empty = await call('POST', '/api/chaos/experiments', '');

    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION');
    expect(bad.body.error.fields.map((f: { field: string }) => f.field)).toEqual(expect.arrayContaining(['target.labels', 'parameters.latency_ms']));
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.fields[0].field).toBe('body');
    expect(empty.status).toBe(400);
    expect((await runtime.store.listExperiments({})).items.length).toBe(before);
  });

  it('honours Idempotency-Key: a replay returns the same experiment, a different body under the key is a conflict', async () => {
    const body = experiment();

    const first = await call('POST', '/api/chaos/experiments', body, { 'Idempotency-Key': 'key-1' });
    const replay = await call('POST', '/api/chaos/experiments', body, { 'Idempotency-Key': 'key-1' });
    const reused = await call('POST', '/api/chaos/experiments', { ...body, name: 'something-else' }, { 'Idempotency-Key': 'key-1' });

    expect(first.status).toBe(202);
    expect(replay.status).toBe(202);
    expect(replay.body.id).toBe(first.body.id);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(reused.status).toBe(409);
    expect(reused.body.error.message).toContain('Idempotency-Key');
    await settled(first.body.id);
    expect((await runtime.store.listExperiments({})).items.filter((r) => r.spec.name === body.name)).toHaveLength(1);
  });

  it('dry run returns the plan and stores and injects nothing', async () => {
    const before = (await runtime.store.listExperiments({})).items.length;
    const calls = driver.calls.length;

    const plan = await call('POST', '/api/chaos/dry-run', experiment());

    expect(plan.status).toBe(200);
    expect(plan.body).toMatchObject({ dry_run: true, fault: { chaos_type: 'pod_delete' }, rollback: [{ action: 'clear_fault' }] });
    expect(plan.body.targets).toHaveLength(1);
    expect((await runtime.store.listExperiments({})).items.length).toBe(before);
    expect(driver.calls.length).toBe(calls);
  });

  it('refuses a selection the blast radius allows none of with 409, naming safety.max_blast_radius and the value that would allow it', async () => {
    // One matching target: 0.5 of it allows none.
    const refused = await call('POST', '/api/chaos/dry-run', experiment({ safety: { max_blast_radius: 0.5 } }));

    expect(refused.status).toBe(409);
    expect(refused.body.error).toEqual({
      code: 'BLAST_RADIUS_EXCEEDED',
      message: 'max_blast_radius 0.5 of 1 matching target(s) allows none; raise safety.max_blast_radius to at least 1.00',
      fields: [{ field: 'safety.max_blast_radius', message: '0.5 of 1 matching target(s) allows none: 1.00 is the least that allows one' }],
    });
    // With the value it names, the same experiment is planned.
    expect((await call('POST', '/api/chaos/dry-run', experiment({ safety: { max_blast_radius: 1 } }))).status).toBe(200);
  });

  it('rolls back a running experiment on request, and refuses a second rollback once it has ended', async () => {
    const created = await call('POST', '/api/chaos/experiments', experiment({ parameters: { duration_seconds: 30 }, safety: { max_blast_radius: 1, health_check_interval: 1 } }));
    for (;;) {
      const { body } = await call('GET', `/api/chaos/experiments/${created.body.id}`);
      if (body.phase === 'OBSERVE') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const rollback = await call('POST', `/api/chaos/experiments/${created.body.id}/rollback`);
    const done = await settled(created.body.id);
    const again = await call('POST', `/api/chaos/experiments/${created.body.id}/rollback`);

    expect(rollback.status).toBe(202);
    expect(done).toMatchObject({ status: 'rolled_back', reason: 'manual_rollback' });
    expect(done.rollback_stack.every((e: { state: string }) => e.state === 'done')).toBe(true);
    expect(again.status).toBe(409);
  });

  it('lists experiments newest first, filtered by status and chaos type, a page at a time', async () => {
    const latency = await call('POST', '/api/chaos/experiments', experiment({ chaos_type: 'network_latency', parameters: { duration_seconds: 0 } }));
    await settled(latency.body.id);

    const byType = await call('GET', '/api/chaos/experiments?chaos_type=network_latency');
    const completed = await call('GET', '/api/chaos/experiments?status=completed&limit=1');
    const next = await call('GET', `/api/chaos/experiments?status=completed&limit=1&cursor=${completed.body.next_cursor}`);
    const badQuery = await call('GET', '/api/chaos/experiments?status=exploded&limit=1000');

    expect(byType.body.items.map((i: { id: string }) => i.id)).toEqual([latency.body.id]);
    expect(completed.body.items).toHaveLength(1);
    expect(completed.body.items[0].id).toBe(latency.body.id);
    expect(next.body.items).toHaveLength(1);
    expect(next.body.items[0].id).not.toBe(latency.body.id);
    expect(next.body.items[0].status).toBe('completed');
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.error.fields.map((f: { field: string }) => f.field).sort()).toEqual(['limit', 'status']);
  });

  it('answers 404 for an unknown experiment and an unknown route', async () => {
    expect((await call('GET', '/api/chaos/experiments/exp-nope')).status).toBe(404);
    expect((await call('GET', '/api/nothing-here')).status).toBe(404);
  });

  it('emergency stop: 20 running experiments end emergency_stopped with their rollback done; new ones get 503 until it is lifted', async () => {
    const running = [];
    for (let i = 0; i < 20; i++) {
      const created = await call('POST', '/api/chaos/experiments', experiment({ parameters: { duration_seconds: 60 }, safety: { max_blast_radius: 1, timeout_seconds: 120, health_check_interval: 1 } }));
      expect(created.status).toBe(202);
      running.push(created.body.id as string);
    }
    for (;;) {
      const page = await runtime.store.listExperiments({ status: 'running', limit: 100 });
      const injected = await Promise.all(running.map(async (id) => (await runtime.store.listRollback(id)).length > 0));
      if (page.items.length >= 20 && injected.every(Boolean)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const stop = await call('POST', '/emergency-stop', { reason: 'game day over' });
    const refused = await call('POST', '/api/chaos/experiments', experiment());
    const ended = await Promise.all(running.map(settled));
    const lifted = await call('DELETE', '/emergency-stop');
    const allowed = await call('POST', '/api/chaos/experiments', experiment());

    expect(stop.status).toBe(200);
    expect(stop.body).toMatchObject({ active: true, reason: 'game day over' });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('EMERGENCY_STOP_ACTIVE');
    expect(ended.map((e) => e.status)).toEqual(Array(20).fill('emergency_stopped'));
    expect(ended.every((e) => e.rollback_stack.length === 1 && e.rollback_stack[0].state === 'done')).toBe(true);
    expect(driver.faulted()).toEqual([]);
    expect(lifted.body).toEqual({ active: false });
    expect(allowed.status).toBe(202);
    expect((await settled(allowed.body.id)).status).toBe('completed');
  });

  it('a repeated emergency stop keeps its first time and reason, and still stops an experiment the first fan-out missed', async () => {
    // Arrange: a straggler runs although the flag is up, as one submitted while the stop was being raised would.
    const straggler = await call('POST', '/api/chaos/experiments', experiment({ parameters: { duration_seconds: 60 }, safety: { max_blast_radius: 1, timeout_seconds: 120 } }));
    for (;;) {
      if ((await runtime.store.listRollback(straggler.body.id)).length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const first = await runtime.store.setEmergencyStop(true, 'first reason');

    // Act
    const again = await call('POST', '/emergency-stop', { reason: 'second reason' });
    const ended = await settled(straggler.body.id);
    await call('DELETE', '/emergency-stop');

    // Assess
    expect(again.body).toEqual({ active: true, since: first.since, reason: 'first reason' });
    expect(ended).toMatchObject({ status: 'emergency_stopped' });
  });

  it('the emergency stop also stops an experiment whose rollback run is gone, though its phase says ROLLBACK', async () => {
    // Arrange: a run holding its fault whose record says ROLLBACK while no run is going (as a rollback run that died).
    const orphan = await call('POST', '/api/chaos/experiments', experiment({ parameters: { duration_seconds: 60 }, safety: { max_blast_radius: 1, timeout_seconds: 120 } }));
    const id = orphan.body.id as string;
    for (;;) {
      if ((await runtime.store.listRollback(id)).length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const { executionArn } = await runtime.store.getExperiment(id);
    await runtime.control.runner.stop(executionArn as string, 'test: the run dies');
    await runtime.store.updateExperiment(id, { phase: 'ROLLBACK' });

    // Act
    await call('POST', '/emergency-stop', { reason: 'dead rollback run' });
    const ended = await settled(id);
    await call('DELETE', '/emergency-stop');

    // Assess
    expect(ended).toMatchObject({ status: 'emergency_stopped' });
    expect(ended.rollback_stack).toMatchObject([{ state: 'done' }]);
  });

  it('Idempotency-Key: a request refused when planned leaves the key free for the corrected one; concurrent ones make one experiment', async () => {
    // A selection of two from one target allows none under a blast radius of 0.5: refused, nothing stored or bound.
    const refused = await call('POST', '/api/chaos/experiments', experiment({ safety: { max_blast_radius: 0.5 } }), { 'idempotency-key': 'fix-and-retry' });
    const corrected = await call('POST', '/api/chaos/experiments', experiment(), { 'idempotency-key': 'fix-and-retry' });
    const body = experiment();
    const racing = await Promise.all(Array.from({ length: 5 }, () => call('POST', '/api/chaos/experiments', body, { 'idempotency-key': 'racing' })));

    expect(refused.status).toBe(409);
    expect(corrected.status).toBe(202);
    expect(racing.map((r) => r.status)).toEqual(Array(5).fill(202));
    expect(new Set(racing.map((r) => r.body.id)).size).toBe(1);
    expect(racing.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(4);
    await settled(corrected.body.id);
    await settled(racing[0]?.body.id);
  });
});
