/**
 * The experiment lifecycle end to end: the real ASL files (the orchestrator and its five phase machines as child
 * executions) run by the embedded runtime, with the real handlers, SQLite, the in-memory fault driver, and a real
 * HTTP service on loopback for the probes to judge.
 *
 * Determinism: target selection is made repeatable by giving the runtime a `random` that never swaps (so targets
 * are picked in id order); anything that must happen "mid-phase" is sequenced by holding a probe's HTTP request open
 * until the test has done its part, never by sleeping.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalRuntime } from '../../local/runtime.js';
import {
  BlastRadiusExceededError,
  EmergencyStopActiveError,
  ProductionGuardError,
  ShuttingDownError,
  TargetLeasedError,
  ValidationError,
} from '../../shared/errors.js';
import type { JsonObject } from '../../shared/journal/activity.js';
import type { ExperimentRecord, PhaseResult, RollbackEntry } from '../../shared/model/lifecycle.js';
import { parseExperiment } from '../../shared/model/parse.js';
import { MemoryDriver } from '../support/memory-driver.js';
import { httpProbe, memoryExperiment, nextEvent, startHealthServer, tapExecutions, type HealthServer } from './support.js';

let server: HealthServer;
let runtime: LocalRuntime | undefined;

beforeEach(async () => {
  server = await startHealthServer();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await runtime?.stop();
  runtime = undefined;
  await server.close();
});

/** A fresh runtime (SQLite in memory) driving `driver`; targets are selected in id order. */
async function start(driver: MemoryDriver, options: Parameters<typeof LocalRuntime.start>[0] = {}): Promise<LocalRuntime> {
  runtime = await LocalRuntime.start({ drivers: [driver], ...options });
  // Fisher-Yates with random() just below 1 swaps every element with itself: replica-1, replica-2, … in order.
  runtime.deps.random = () => 0.999_999;
  return runtime;
}

const calls = (driver: MemoryDriver) => driver.calls.map((c) => `${c.op} ${c.target} #${c.seq}`);
const phasesOf = (phases: PhaseResult[]) => phases.map((p) => `${p.phase}:${p.status}`);
const stackOf = (stack: RollbackEntry[]) => stack.map((e) => `#${e.seq} ${e.target.id} ${e.state}`);

async function journalOf(rt: LocalRuntime, id: string): Promise<JsonObject> {
  const journal = await rt.journal(id);
  if (!journal) throw new Error(`experiment ${id} has no journal`);
  return journal;
}

/** Every lease the experiment took is gone from the store. */
async function expectLeasesReleased(rt: LocalRuntime, record: ExperimentRecord): Promise<void> {
  for (const target of record.leases ?? []) expect(await rt.store.getLease(target), target).toBeUndefined();
}

describe('experiment lifecycle on the real state machines', () => {
  it('completes a healthy run: every phase recorded, faults applied then reverted newest first, leases released', async () => {
    // Prepare: one probe per mode, each on its own path so the hits tell which phase ran which probe.
    const driver = new MemoryDriver();
    const rt = await start(driver);
    const probes = [
      httpProbe('before-only', server.url('/sot'), 'sot'),
      httpProbe('after-only', server.url('/eot'), 'eot'),
      httpProbe('always', server.url('/continuous'), 'continuous'),
      httpProbe('while-faulted', server.url('/on-chaos'), 'on_chaos'),
    ];

    // Act
    const record = await rt.run(
      memoryExperiment({ selection: 'COUNT(2)', durationSeconds: 2, safety: { health_check_interval: 1 }, probes }),
    );

    // Assess: the record.
    expect(record).toMatchObject({ status: 'completed', reason: 'hypothesis_held', deviated: false, leases: ['memory:replica-1', 'memory:replica-2'] });
    // Every phase stored, in lifecycle order.
    const phases = await rt.store.listPhaseResults(record.id);
    expect(phasesOf(phases)).toEqual(['STEADY_STATE:succeeded', 'HYPOTHESIS:succeeded', 'INJECT:succeeded', 'OBSERVE:succeeded', 'ROLLBACK:succeeded']);
    const ticks = Number(phases.find((p) => p.phase === 'OBSERVE')?.detail.ticks);
    expect(ticks).toBeGreaterThanOrEqual(1);
    // Probe modes: sot before the fault, on_chaos on every tick, eot after the window, continuous all three.
    expect(Object.fromEntries(server.hits)).toEqual({ '/sot': 1, '/eot': 1, '/on-chaos': ticks, '/continuous': ticks + 2 });
    // Write-ahead then LIFO: two faults, reverted newest first, nothing left faulted.
    expect(calls(driver)).toEqual(['apply replica-1 #1', 'apply replica-2 #2', 'revert replica-2 #2', 'revert replica-1 #1']);
    expect(driver.faulted()).toEqual([]);
    expect(stackOf(await rt.store.listRollback(record.id))).toEqual(['#2 replica-2 done', '#1 replica-1 done']);
    await expectLeasesReleased(rt, record);

    // The journal: Chaos Toolkit layout with ChaosDuck's record beside it.
    const journal = await journalOf(rt, record.id);
    expect(journal).toMatchObject({
      status: 'completed',
      deviated: false,
      steady_states: {
        before: { steady_state_met: true, probes: [{ activity: { name: 'before-only' } }, { activity: { name: 'always' } }] },
        after: { steady_state_met: true, probes: [{ activity: { name: 'after-only' } }, { activity: { name: 'always' } }] },
      },
      chaosduck: { id: record.id, status: 'completed', reason: 'hypothesis_held', failed_rollbacks: [] },
    });
    const steady = journal.steady_states as { during: { tick: number; steady_state_met: boolean }[] };
    expect(steady.during.map((d) => [d.tick, d.steady_state_met])).toEqual(Array.from({ length: ticks }, (_, i) => [i + 1, true]));
    expect((journal.run as { activity: { type: string }; status: string }[]).map((r) => [r.activity.type, r.status])).toEqual([
      ['action', 'succeeded'],
      ['action', 'succeeded'],
    ]);
    expect((journal.rollbacks as { activity: { name: string }; status: string }[]).map((r) => [r.activity.name, r.status])).toEqual([
      ['rollback clear_fault replica-2', 'succeeded'],
      ['rollback clear_fault replica-1', 'succeeded'],
    ]);
    const chaosduck = journal.chaosduck as unknown as { phases: PhaseResult[]; plan: { targets: { id: string }[] }; hypothesis: { statement: string } };
    expect(phasesOf(chaosduck.phases)).toEqual(phasesOf(phases));
    expect(chaosduck.plan.targets.map((t) => t.id)).toEqual(['replica-1', 'replica-2']);
    expect(chaosduck.hypothesis.statement).toContain('selected replicas are deleted');
  });

  it('rolls back what was written ahead when an injection fails, including the failed fault', async () => {
    // Prepare: three targets, all selected; the second one refuses its fault.
    const driver = new MemoryDriver({ failApply: new Set(['replica-2']) });
    const rt = await start(driver);

    // Act
    const record = await rt.run(memoryExperiment({ selection: 'COUNT(3)', safety: { max_blast_radius: 1 } }));

    // Assess: injection stopped at the failure; both written entries were reverted, newest first.
    expect(record).toMatchObject({ status: 'rolled_back', reason: 'InjectionFailedError' });
    expect(calls(driver)).toEqual(['apply replica-1 #1', 'apply replica-2 #2', 'revert replica-2 #2', 'revert replica-1 #1']);
    expect(driver.faulted()).toEqual([]);
    expect(stackOf(await rt.store.listRollback(record.id))).toEqual(['#2 replica-2 done', '#1 replica-1 done']);
    const phases = await rt.store.listPhaseResults(record.id);
    expect(phasesOf(phases)).toEqual(['STEADY_STATE:succeeded', 'HYPOTHESIS:succeeded', 'INJECT:failed', 'ROLLBACK:succeeded']);
    expect(String(phases.find((p) => p.phase === 'INJECT')?.detail.error)).toMatch(/^InjectionFailedError: .*cannot fault replica-2/);
    const journal = await journalOf(rt, record.id);
    expect((journal.run as { status: string }[]).map((r) => r.status)).toEqual(['succeeded', 'failed']);
    await expectLeasesReleased(rt, record);
  });

  it('rolls back when the experiment runs past its timeout', async () => {
    // Prepare: applying the fault alone takes longer than the whole experiment may last, so OBSERVE starts past the
    // deadline whatever the machine's speed.
    const driver = new MemoryDriver({ applyDelayMs: 1_500 });
    const rt = await start(driver);

    // Act
    const record = await rt.run(memoryExperiment({ durationSeconds: 0, safety: { timeout_seconds: 1, health_check_interval: 1 } }));

    // Assess
    expect(record).toMatchObject({ status: 'rolled_back', reason: 'ExperimentTimeoutError' });
    expect(calls(driver)).toEqual(['apply replica-1 #1', 'revert replica-1 #1']);
    expect(driver.faulted()).toEqual([]);
    expect(phasesOf(await rt.store.listPhaseResults(record.id))).toEqual([
      'STEADY_STATE:succeeded',
      'HYPOTHESIS:succeeded',
      'INJECT:succeeded',
      'OBSERVE:failed',
      'ROLLBACK:succeeded',
    ]);
    await expectLeasesReleased(rt, record);
  });

  it('calls the run off, with nothing injected, when the deadline passes before injection', async () => {
    // Prepare: the steady-state probe is held while the runtime's clock jumps past the deadline.
    const driver = new MemoryDriver();
    const rt = await start(driver);
    let skewMs = 0;
    rt.deps.clock = () => Date.now() + skewMs;
    server.hold('/sot');
    const { id } = await rt.submit(
      memoryExperiment({ durationSeconds: 0, safety: { timeout_seconds: 1 }, probes: [httpProbe('before', server.url('/sot'), 'sot')] }),
    );
    await server.requested('/sot');
    skewMs = 5_000;
    server.release('/sot');

    // Act
    const record = await rt.waitFor(id);

    // Assess
    expect(record).toMatchObject({ status: 'aborted', reason: 'ExperimentTimeoutError' });
    expect(driver.calls).toEqual([]);
    expect(await rt.store.listRollback(id)).toEqual([]);
  });

  it('ends before any fault when the steady state does not hold', async () => {
    // Prepare
    const driver = new MemoryDriver();
    const rt = await start(driver);
    server.status.set('/health', 500);

    // Act
    const record = await rt.run(memoryExperiment({ probes: [httpProbe('health', server.url('/health'), 'continuous')] }));

    // Assess
    expect(record).toMatchObject({ status: 'aborted', reason: 'steady_state_not_met', deviated: false });
    expect(driver.calls).toEqual([]);
    expect(await rt.store.listRollback(record.id)).toEqual([]);
    expect(await rt.store.getLease('memory:replica-1')).toBeUndefined();
    expect(phasesOf(await rt.store.listPhaseResults(record.id))).toEqual(['STEADY_STATE:failed']);
    expect(await journalOf(rt, record.id)).toMatchObject({
      status: 'aborted',
      steady_states: { before: { steady_state_met: false }, after: null, during: [] },
      run: [],
      rollbacks: [],
    });
  });

  it('halts the observation after too many failed health checks in a row, and rolls back', async () => {
    // Prepare: the service breaks while any target is faulted, as a real one would.
    const driver = new MemoryDriver();
    const rt = await start(driver);
    server.status.set('/app', () => (driver.faulted().length > 0 ? 500 : 200));

    // Act
    const record = await rt.run(
      memoryExperiment({
        durationSeconds: 30,
        safety: { health_check_failure_threshold: 2, health_check_interval: 1 },
        probes: [httpProbe('app', server.url('/app'), 'continuous')],
      }),
    );

    // Assess: halted on the second failed tick, well before the 30 s window, and rolled back.
    expect(record).toMatchObject({ status: 'rolled_back', reason: 'HealthCheckThresholdError', deviated: true });
    expect(calls(driver)).toEqual(['apply replica-1 #1', 'revert replica-1 #1']);
    expect(driver.faulted()).toEqual([]);
    const phases = await rt.store.listPhaseResults(record.id);
    expect(phasesOf(phases)).toEqual(['STEADY_STATE:succeeded', 'HYPOTHESIS:succeeded', 'INJECT:succeeded', 'OBSERVE:failed', 'ROLLBACK:succeeded']);
    expect(phases.find((p) => p.phase === 'OBSERVE')?.detail).toMatchObject({ ticks: 2, failedTicks: 2, halted: true });
    expect(server.hits.get('/app')).toBe(3);
    const journal = await journalOf(rt, record.id);
    expect(journal).toMatchObject({ status: 'rolled_back', deviated: true, steady_states: { before: { steady_state_met: true }, after: null } });
    expect((journal.steady_states as { during: { steady_state_met: boolean }[] }).during.map((d) => d.steady_state_met)).toEqual([false, false]);
  });

  it('runs every rollback step even when one fails, and ends failed, naming the step', async () => {
    // Prepare: two targets; the newest fault (reverted first) cannot be undone.
    const driver = new MemoryDriver({ targets: 2, failRevert: new Set(['replica-2']) });
    const rt = await start(driver);

    // Act
    const record = await rt.run(memoryExperiment({ selection: 'ALL' }));

    // Assess: the older step still ran after the newer one failed.
    expect(record).toMatchObject({ status: 'failed', reason: 'rollback_step_failed' });
    expect(calls(driver)).toEqual(['apply replica-1 #1', 'apply replica-2 #2', 'revert replica-2 #2', 'revert replica-1 #1']);
    expect(driver.faulted()).toEqual(['replica-2']);
    expect(stackOf(await rt.store.listRollback(record.id))).toEqual(['#2 replica-2 failed', '#1 replica-1 done']);
    const phases = await rt.store.listPhaseResults(record.id);
    expect(phases.find((p) => p.phase === 'ROLLBACK')).toMatchObject({ status: 'failed' });
    const journal = await journalOf(rt, record.id);
    expect(journal.chaosduck).toMatchObject({
      status: 'failed',
      failed_rollbacks: [{ seq: 2, action: 'clear_fault', target: 'replica-2', state: 'failed', error: expect.stringContaining('cannot restore replica-2') }],
    });
    expect((journal.rollbacks as { status: string }[]).map((r) => r.status)).toEqual(['failed', 'succeeded']);
  });

  describe('guardrails refuse before anything is injected', () => {
    /** Every experiment this runtime stored, whatever its status. */
    const stored = async (rt: LocalRuntime) => (await rt.store.listExperiments({})).items;

    it('refuses a selection the blast radius does not allow: at submission, and again at INJECT', async () => {
      const driver = new MemoryDriver({ targets: 3 });
      const rt = await start(driver);
      const experiment = memoryExperiment({ selection: 'COUNT(1)', safety: { max_blast_radius: 0.3 } });

      // Act: submitted as the API and the CLI submit; then with the check at submission skipped (as game days are).
      const refused = await rt.submit(experiment).catch((error: unknown) => error);
      const storedAfterRefusal = await stored(rt);
      const record = await rt.run(experiment, { plan: false });

      // Assess
      expect(refused).toBeInstanceOf(BlastRadiusExceededError);
      expect((refused as Error).message).toContain('raise safety.max_blast_radius to at least 0.34');
      expect(storedAfterRefusal).toEqual([]);
      expect(record).toMatchObject({ status: 'aborted', reason: 'BlastRadiusExceededError' });
      expect(driver.calls).toEqual([]);
      expect(await rt.store.listRollback(record.id)).toEqual([]);
      expect(record.leases).toBeUndefined();
      expect(await journalOf(rt, record.id)).toMatchObject({ status: 'aborted', run: [], chaosduck: { plan: null } });
    });

    it('refuses production-looking targets without confirmation: at submission, and again at INJECT', async () => {
      const driver = new MemoryDriver({ labels: { env: 'production' } });
      const rt = await start(driver);

      const refused = await rt.submit(memoryExperiment()).catch((error: unknown) => error);
      const record = await rt.run(memoryExperiment(), { plan: false });

      expect(refused).toBeInstanceOf(ProductionGuardError);
      expect((refused as Error).message).toContain('label env=production of replica-1 ("production")');
      expect(record).toMatchObject({ status: 'aborted', reason: 'ProductionGuardError' });
      expect(driver.calls).toEqual([]);
      expect(await rt.store.listRollback(record.id)).toEqual([]);
    });

    it('lets production-looking targets through with require_confirmation', async () => {
      const driver = new MemoryDriver({ labels: { env: 'production' } });
      const rt = await start(driver);

      const record = await rt.run(memoryExperiment({ safety: { require_confirmation: true } }));

      expect(record).toMatchObject({ status: 'completed' });
      expect(calls(driver)).toEqual(['apply replica-1 #1', 'revert replica-1 #1']);
    });

    it('refuses to start an experiment while the emergency stop is raised, storing nothing', async () => {
      const driver = new MemoryDriver();
      const rt = await start(driver);
      await rt.store.setEmergencyStop(true, 'game day over');

      const refused = await rt.run(memoryExperiment()).catch((error: unknown) => error);

      expect(refused).toBeInstanceOf(EmergencyStopActiveError);
      expect(driver.calls).toEqual([]);
      expect((await rt.store.listExperiments({})).items).toEqual([]);
    });

    it('refuses a timeout above the control plane cap when it is submitted, naming the field', async () => {
      const driver = new MemoryDriver();
      const rt = await start(driver, { guardrails: { maxTimeoutSeconds: 30 } });

      const refused = await rt.submit(memoryExperiment({ safety: { timeout_seconds: 60 } }), undefined, { plan: false }).catch((error: unknown) => error);

      expect(refused).toBeInstanceOf(ValidationError);
      expect((refused as ValidationError).issues).toEqual([{ field: 'safety.timeout_seconds', message: expect.stringContaining("above this control plane's cap of 30s") }]);
      expect(await stored(rt)).toEqual([]);
      expect(driver.calls).toEqual([]);
    });

    it('refuses a provider this runtime has no driver for: at submission naming target.provider, and at INJECT', async () => {
      const driver = new MemoryDriver();
      const rt = await start(driver);
      const experiment = { ...memoryExperiment(), target: { provider: 'kubernetes', labels: { app: 'demo' } } };

      const refused = await rt.submit(experiment).catch((error: unknown) => error);
      const record = await rt.run(experiment, { plan: false });

      expect(refused).toBeInstanceOf(ValidationError);
      expect((refused as ValidationError).issues).toEqual([{ field: 'target.provider', message: '"kubernetes" is not available in this runtime (available: memory)' }]);
      expect(record).toMatchObject({ status: 'aborted', reason: 'ValidationError' });
      // The record and the journal say why, not only which error.
      expect(record.error).toMatch(/^ValidationError: Invalid experiment: target\.provider: "kubernetes" is not available in this runtime/);
      expect(((await rt.journal(record.id)) as { chaosduck: { error: string } }).chaosduck.error).toBe(record.error);
      expect(driver.calls).toEqual([]);
    });

    it('refuses a target leased by another running experiment, and leaves that one alone', async () => {
      // Prepare: the first experiment holds the only target; its observation tick is held open until the second
      // experiment has been refused.
      const driver = new MemoryDriver({ targets: 1 });
      const rt = await start(driver);
      server.hold('/gate');
      const first = await rt.submit(memoryExperiment({ name: 'first', durationSeconds: 1, probes: [httpProbe('gate', server.url('/gate'), 'on_chaos')] }));
      await server.requested('/gate');

      // Act: submitted as usual, and with the check at submission skipped.
      const refused = await rt.submit(memoryExperiment({ name: 'second' })).catch((error: unknown) => error);
      const second = await rt.run(memoryExperiment({ name: 'second' }), { plan: false });
      const leaseWhileFirstRuns = await rt.store.getLease('memory:replica-1');
      server.release('/gate');
      const firstRecord = await rt.waitFor(first.id);

      // Assess
      expect(refused).toBeInstanceOf(TargetLeasedError);
      expect((refused as Error).message).toBe(`every matching target is held by another experiment (replica-1 by ${first.id}); wait until they end`);
      expect(second).toMatchObject({ status: 'aborted', reason: 'TargetLeasedError' });
      expect(await rt.store.listRollback(second.id)).toEqual([]);
      expect(leaseWhileFirstRuns?.holder).toBe(first.id);
      expect(firstRecord).toMatchObject({ status: 'completed' });
      expect(calls(driver)).toEqual(['apply replica-1 #1', 'revert replica-1 #1']);
      expect(driver.calls.every((c) => c.seq === 1)).toBe(true);
      expect(await rt.store.getLease('memory:replica-1')).toBeUndefined();
    });
  });

  it('a runtime shutting down waits for the submissions in flight, then refuses new ones by name', async () => {
    // Arrange: a submission held in planning while the runtime starts to shut down.
    const driver = new MemoryDriver();
    const rt = await start(driver);
    let releasePlan = () => undefined as void;
    const planning = new Promise<void>((resolve) => (releasePlan = resolve));
    const resolve = driver.resolve.bind(driver);
    driver.resolve = async (spec) => {
      await planning;
      return resolve(spec);
    };
    const inFlight = rt.submit(memoryExperiment({ name: 'in-flight', durationSeconds: 30 }));

    // Act
    const shuttingDown = rt.refuseNewExperiments();
    const refused = await rt.submit(memoryExperiment({ name: 'late' })).catch((error: unknown) => error);
    releasePlan();
    await shuttingDown;
    const accepted = await inFlight;
    const rolledBack = await rt.rollBackAll('interrupted');

    // Assess: the one in flight was stored before the list was read, and so it is rolled back; the late one never was.
    expect(refused).toBeInstanceOf(ShuttingDownError);
    expect((await rt.store.listExperiments({})).items.map((r) => r.spec.name)).toEqual(['in-flight']);
    expect(rolledBack.map((r) => [r.id, r.status, r.reason])).toEqual([[accepted.id, expect.stringMatching(/^(rolled_back|aborted)$/), 'interrupted']]);
    expect(driver.faulted()).toEqual([]);
  });

  it('stops and rolls back when the emergency stop is raised during observation', async () => {
    // Prepare: the first observation tick is held until the emergency stop is raised.
    const driver = new MemoryDriver();
    const rt = await start(driver);
    server.hold('/during');
    const { id } = await rt.submit(
      memoryExperiment({ durationSeconds: 30, safety: { health_check_interval: 1 }, probes: [httpProbe('during', server.url('/during'), 'on_chaos')] }),
    );
    await server.requested('/during');

    // Act
    await rt.store.setEmergencyStop(true, 'stop everything');
    server.release('/during');
    const record = await rt.waitFor(id);

    // Assess
    expect(record).toMatchObject({ status: 'emergency_stopped', reason: 'emergency_stop' });
    expect(calls(driver)).toEqual(['apply replica-1 #1', 'revert replica-1 #1']);
    expect(driver.faulted()).toEqual([]);
    expect(stackOf(await rt.store.listRollback(id))).toEqual(['#1 replica-1 done']);
    expect(await journalOf(rt, id)).toMatchObject({ status: 'emergency_stopped' });
  });

  it('halts injection when the emergency stop is raised between two faults', async () => {
    // Prepare: the stop is raised while the first of three faults is being applied.
    const driver = new MemoryDriver();
    const rt = await start(driver);
    const firstApply = driver.apply.bind(driver);
    let raised = false;
    vi.spyOn(driver, 'apply').mockImplementation(async (...args) => {
      if (!raised) {
        raised = true;
        await rt.store.setEmergencyStop(true, 'mid-injection');
      }
      return firstApply(...args);
    });

    // Act
    const record = await rt.run(memoryExperiment({ selection: 'ALL' }));

    // Assess: one fault applied and reverted; the other two never started.
    expect(record).toMatchObject({ status: 'emergency_stopped', reason: 'emergency_stop' });
    expect(calls(driver)).toEqual(['apply replica-1 #1', 'revert replica-1 #1']);
    expect(driver.faulted()).toEqual([]);
  });

  describe('abort', () => {
    it('rolls back an experiment aborted during observation', async () => {
      // Prepare
      const driver = new MemoryDriver();
      const rt = await start(driver);
      const tap = tapExecutions();
      server.hold('/during');
      const { id } = await rt.submit(
        memoryExperiment({ durationSeconds: 30, safety: { health_check_interval: 1 }, probes: [httpProbe('during', server.url('/during'), 'on_chaos')] }),
      );
      await server.requested('/during');

      // Act
      const record = await rt.abort(id);
      server.release('/during');
      await tap.tasksSettled(); // the tick that was in flight when the execution stopped finishes on its own

      // Assess
      expect(record).toMatchObject({ status: 'rolled_back', reason: 'user_abort' });
      expect(calls(driver)).toEqual(['apply replica-1 #1', 'revert replica-1 #1']);
      expect(driver.faulted()).toEqual([]);
      await expectLeasesReleased(rt, record);
      expect(await journalOf(rt, id)).toMatchObject({ status: 'rolled_back', chaosduck: { reason: 'user_abort' } });
      expect((await rt.store.getExperiment(id)).status).toBe('rolled_back');
    });

    // KNOWN BUG (reported): decideStatus's rollback-mode branch (functions/finish/core.ts) answers `rolled_back`
    // whatever the stack holds, so a run stopped before any fault is not told apart from one that was rolled back.
    // Remove `.fails` once an empty stack in rollback mode ends as `aborted`.
    it('calls off an experiment aborted before injection, with nothing to roll back', async () => {
      // Prepare: the steady-state probe is held, so the abort lands before INJECT.
      const driver = new MemoryDriver();
      const rt = await start(driver);
      const tap = tapExecutions();
      server.hold('/sot');
      const { id } = await rt.submit(memoryExperiment({ probes: [httpProbe('before', server.url('/sot'), 'sot')] }));
      await server.requested('/sot');

      // Act
      const record = await rt.abort(id);
      server.release('/sot');
      await tap.tasksSettled();

      // Assess
      expect(driver.calls).toEqual([]);
      expect(await rt.store.listRollback(id)).toEqual([]);
      expect(record).toMatchObject({ status: 'aborted', reason: 'user_abort' });
    });

    // KNOWN BUG (reported): aborting stops the executions but not the INJECT task in flight (a Lambda keeps running
    // after StopExecution, and so does the local handler). That task applies its fault after ROLLBACK reverted it,
    // then pushes and applies the remaining faults on an experiment already ended as rolled_back, with its leases
    // released; the recovery sweep never looks at them again. Remove `.fails` once INJECT stops (and undoes its last
    // fault) when its experiment has ended.
    it('leaves no fault behind when aborted in the middle of injection', async () => {
      // Prepare: three faults; the first one's apply is still running when the abort has rolled back and finished
      // the experiment (as a Lambda keeps running after StopExecution).
      const driver = new MemoryDriver();
      const rt = await start(driver);
      const tap = tapExecutions();
      const finished = nextEvent(rt.bus, { type: ['experiment.finished'] });
      const firstApplyStarted = new Promise<void>((resolve) => {
        const apply = driver.apply.bind(driver);
        let first = true;
        vi.spyOn(driver, 'apply').mockImplementation(async (...args) => {
          if (first) {
            first = false;
            resolve();
            await finished;
          }
          return apply(...args);
        });
      });
      const { id } = await rt.submit(memoryExperiment({ selection: 'ALL' }));
      await firstApplyStarted;

      // Act
      const record = await rt.abort(id);
      await tap.tasksSettled(); // including the INJECT task that was in flight when the execution stopped
      const stack = await rt.store.listRollback(id);

      // Assess: whatever the in-flight task did after the abort, no fault is left in place and none is pending.
      expect(record.status).toBe('rolled_back');
      expect(driver.faulted()).toEqual([]);
      expect(stack.filter((e) => e.state === 'pending')).toEqual([]);
    });
  });

  describe('recovery sweep', () => {
    it('rolls back an experiment whose run is gone', async () => {
      // Prepare: what a crashed run leaves behind: a running record owned by a dead runtime and a fault in place
      // with its rollback entry written ahead.
      const driver = new MemoryDriver();
      const rt = await start(driver);
      const spec = parseExperiment(memoryExperiment());
      const id = 'exp-crashed';
      const now = new Date().toISOString();
      await rt.store.createExperiment({ id, spec, status: 'running', owner: 'local-dead', phase: 'OBSERVE', createdAt: now, updatedAt: now, startedAt: now });
      const [target] = await driver.resolve(spec);
      if (!target) throw new Error('no target');
      const intent = await driver.prepare(spec, target);
      await rt.store.pushRollback(id, 1, intent);
      const faulted = driver.targets.get(target.id);
      if (faulted) faulted.faulted = true;

      // Act
      const report = await rt.recover();

      // Assess
      expect(report.recovered).toEqual([{ id, status: 'rolled_back' }]);
      expect(calls(driver)).toEqual(['revert replica-1 #1']);
      expect(driver.faulted()).toEqual([]);
      expect(await rt.store.getExperiment(id)).toMatchObject({ status: 'rolled_back', reason: 'recovered_after_crash' });
      expect(stackOf(await rt.store.listRollback(id))).toEqual(['#1 replica-1 done']);
      expect(await journalOf(rt, id)).toMatchObject({ status: 'rolled_back', chaosduck: { reason: 'recovered_after_crash' } });
    });

    // KNOWN BUG (reported): LocalRuntime.recover's test `!executions.has(id) || owner !== runtimeId` holds for any
    // `pending` record (Begin has not set an owner yet), so a sweep during start-up rolls back a live run. Remove
    // `.fails` once a run this runtime is executing is never an orphan.
    it('leaves alone an experiment this runtime is still starting', async () => {
      // Prepare: hold the first Begin task, so the experiment stays `pending` while its execution is live.
      const driver = new MemoryDriver();
      const rt = await start(driver);
      let releaseBegin!: () => void;
      const beginHeld = new Promise<void>((resolve) => (releaseBegin = resolve));
      let begins = 0;
      const tap = tapExecutions({ beforeTask: (state) => (state === 'Begin' && begins++ === 0 ? beginHeld : undefined) });
      const { id } = await rt.submit(memoryExperiment());
      const pendingWhileSwept = (await rt.store.getExperiment(id)).status;

      // Act
      const report = await rt.recover();
      releaseBegin();
      const record = await rt.waitFor(id);
      await tap.tasksSettled();

      // Assess
      expect(pendingWhileSwept).toBe('pending');
      expect(report.recovered).toEqual([]);
      expect(record).toMatchObject({ status: 'completed' });
    });
  });

  it('plans a dry run without storing, leasing or injecting anything', async () => {
    // Prepare: another experiment holds one of the targets.
    const driver = new MemoryDriver();
    const rt = await start(driver);
    await rt.store.acquireLease('memory:replica-1', 'exp-other', Date.now() + 60_000);

    // Act
    const plan = await rt.dryRun(memoryExperiment({ name: 'plan-only', selection: 'COUNT(2)', safety: { max_blast_radius: 1 } }));

    // Assess
    expect(plan).toEqual({
      dry_run: true,
      experiment: 'plan-only',
      fault: { chaos_type: 'pod_delete', parameters: { allow_unmanaged: false, duration_seconds: 0 } },
      provider: 'memory',
      targets: [
        { id: 'replica-2', labels: { app: 'demo' } },
        { id: 'replica-3', labels: { app: 'demo' } },
      ],
      selection: { matching: 3, requested: 2, allowed: 3, capped: false },
      // The plan a run would make: the held target is passed over.
      held_by_others: [{ target: 'replica-1', holder: 'exp-other' }],
      rollback: [
        { action: 'clear_fault', target: 'replica-2', params: { chaos_type: 'pod_delete' } },
        { action: 'clear_fault', target: 'replica-3', params: { chaos_type: 'pod_delete' } },
      ],
    });
    expect(driver.calls).toEqual([]);
    for (const status of ['pending', 'running', 'completed', 'aborted', 'failed', 'rolled_back', 'emergency_stopped'] as const) {
      expect((await rt.store.listByStatus(status)).items, status).toEqual([]);
    }
    expect(await rt.store.getLease('memory:replica-2')).toBeUndefined();
    expect((await rt.store.getLease('memory:replica-1'))?.holder).toBe('exp-other');
  });

  it('counts the state transitions of a run: 20 + 3 per observation tick', async () => {
    // Prepare: two probes, one fault, a 3 s window probed every second (a 30 s window every 10 s has as many ticks).
    const driver = new MemoryDriver();
    const rt = await start(driver);
    const tap = tapExecutions();

    // Act
    const record = await rt.run(
      memoryExperiment({
        durationSeconds: 3,
        safety: { health_check_interval: 1 },
        probes: [httpProbe('a', server.url('/a'), 'continuous'), httpProbe('b', server.url('/b'), 'continuous')],
      }),
    );
    await tap.logsClosed();

    // Assess
    expect(record.status).toBe('completed');
    const ticks = Number((await rt.store.listPhaseResults(record.id)).find((p) => p.phase === 'OBSERVE')?.detail.ticks);
    const byMachine: Record<string, number> = {};
    for (const { machine } of tap.entered) byMachine[machine] = (byMachine[machine] ?? 0) + 1;
    expect(byMachine).toEqual({
      experiment: 9, // Begin, Route, SteadyState, SteadyStateMet, Hypothesis, Inject, Observe, Rollback, Finish
      'steady-state': 1,
      hypothesis: 1,
      inject: 3, // Step, MethodOver, Injected (a Chaos Toolkit method loops through Pause for each pause)
      observe: 3 * (ticks + 1), // Tick, WindowOver, WaitInterval per tick; Tick, WindowOver, Observed at the end
      rollback: 3, // RevertSteps, StackEmpty, RolledBack
    });
    expect(ticks).toBe(3);
    expect(tap.entered).toHaveLength(29);
    expect(new Set(tap.entered.map((e) => e.execution)).size).toBe(6);
  });

  it("agrees with the runtime's own transition counter: 20 for a run with no observation tick", async () => {
    // Prepare: the runtime counts (it reads the same event logs the tap would, so no tap here).
    const driver = new MemoryDriver();
    runtime = await LocalRuntime.start({ drivers: [driver], countTransitions: true });

    // Act
    const record = await runtime.run(memoryExperiment({ durationSeconds: 0, probes: [httpProbe('a', server.url('/a'), 'continuous')] }));

    // Assess: 9 in the orchestrator, 1 + 1 + 3 in the first three phases, 3 in OBSERVE (one final tick), 3 in ROLLBACK.
    expect(record.status).toBe('completed');
    expect(await runtime.stateTransitions(record.id)).toBe(20);
  });
});
