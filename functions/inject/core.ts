/**
 * INJECT: guardrails, leases, then for each selected target the write-ahead sequence
 *   prepare (snapshot + compensating action) → rollback entry stored → fault applied.
 * A fault is never applied without its rollback already on the stack in DynamoDB.
 */
import {
  ConflictError,
  EmergencyStopActiveError,
  errorMessage,
  errorName,
  ExperimentCancelledError,
  ExperimentTimeoutError,
  InjectionFailedError,
} from '../../shared/errors.js';
import type { InjectInput, InjectState } from '../../shared/lifecycle/contract.js';
import { emit, type LifecycleDeps } from '../../shared/lifecycle/deps.js';
import { event } from '../../shared/lifecycle/events.js';
import { describePlan, leaseKey, planInjection, type InjectionPlan } from '../../shared/lifecycle/guardrails.js';
import { asJson, recordActivity, type ActivityRecord } from '../../shared/journal/activity.js';
import { isFinal, type JournalEvent, type RollbackEntry } from '../../shared/model/lifecycle.js';
import { revertEntry } from '../../shared/lifecycle/revert.js';
import { isChaosToolkitSpec, type FaultSpec } from '../../shared/model/experiment.js';
import { runMethod } from './method.js';

/** Leases outlive the deadline by this much, so rollback finishes while the targets are still ours. */
const LEASE_MARGIN_MS = 10 * 60_000;

export interface InjectOutput extends InjectState {
  targets?: string[];
}

/** One invocation of INJECT: the fault of a ChaosDuck request, or the next steps of a Chaos Toolkit method. */
export async function inject(input: InjectInput, deps: LifecycleDeps, signal: AbortSignal): Promise<InjectOutput> {
  const { spec } = input.experiment;
  return isChaosToolkitSpec(spec) ? runMethod(input, spec, deps, signal) : injectFault(input, spec, deps, signal);
}

async function injectFault({ experiment, inject: state }: InjectInput, spec: FaultSpec, deps: LifecycleDeps, signal: AbortSignal): Promise<InjectOutput> {
  const { id } = experiment;
  const start = deps.clock();
  if (start > experiment.deadline) throw new ExperimentTimeoutError(`experiment ran past its ${spec.safety.timeout_seconds}s timeout before injection`);
  const applied = await applyFault(id, spec, experiment.deadline, deps, signal).catch(async (error: unknown) => {
    if (error instanceof RefusedAtPlan) {
      await refusedAtInjection(id, start, error.cause, deps);
      throw error.cause;
    }
    throw error;
  });
  const { plan, actions, events, halt } = applied;
  events.push(event(id, halt ? 'phase.failed' : 'phase.completed', 'INJECT', { injected: actions.length, ...(halt ? { error: halt.name } : {}) }, deps.clock()));
  await emit(deps, events, {
    experimentId: id,
    result: {
      phase: 'INJECT',
      status: halt ? 'failed' : 'succeeded',
      start: new Date(start).toISOString(),
      end: new Date(deps.clock()).toISOString(),
      detail: { plan: describePlan(plan), actions: asJson(actions), ...(halt ? { error: `${halt.name}: ${halt.message}` } : {}) },
    },
  });
  if (halt) throw halt;
  return { ...state, injected: actions.length, done: true, waitSeconds: 0, targets: plan.steps.map((s) => s.target.id) };
}

/** The plan refused the fault (a guardrail, the target system): nothing was leased, stored or applied. */
export class RefusedAtPlan extends Error {
  constructor(override readonly cause: unknown) {
    super(errorMessage(cause));
  }
}

export interface AppliedFault {
  plan: InjectionPlan;
  /** One record per target the fault was applied to (or failed on), in order. */
  actions: ActivityRecord[];
  events: JournalEvent[];
  /** Why the application stopped before its end, if it did: a failed target, a stop, an emergency stop. */
  halt?: Error;
}

/**
 * Plans one fault, leases its targets, and for each target writes its rollback ahead and applies it. A stop that came
 * while the faults were applied undoes, again, what this step applied. `held`: leases the experiment took for its
 * earlier faults (a method's), which a refusal here must not give back.
 */
export async function applyFault(
  id: string,
  spec: FaultSpec,
  deadline: number,
  deps: LifecycleDeps,
  signal: AbortSignal,
  held: ReadonlySet<string> = new Set(),
): Promise<AppliedFault> {
  const plan = await planInjection(spec, deps, signal, id).catch((error: unknown) => {
    throw new RefusedAtPlan(error);
  });
  const leased = await acquireLeases([...new Set(plan.steps.map((s) => leaseKey(s.target)))].filter((key) => !held.has(key)), id, deadline, deps);
  const firstSeq = await deps.store.beginInjection(id, leased, plan.steps.length).catch(async (error: unknown) => {
    // Stopped before the first fault: the record does not list these leases yet, so nothing else would give them back.
    await releaseLeases(leased, id, deps);
    throw error;
  });
  const events: JournalEvent[] = [event(id, 'fault.planned', 'INJECT', describePlan(plan), deps.clock())];
  const actions: ActivityRecord[] = [];
  const pushed: RollbackEntry[] = [];
  let halt: Error | undefined;
  for (const [index, intent] of plan.steps.entries()) {
    // The plan and the claim above checked before the first fault; checking again before each later one lets an
    // emergency stop, an abort or a rollback that started meanwhile halt the rest.
    if (index > 0 && (halt = await stoppedUnder(id, deps, `after ${index} of ${plan.steps.length} fault(s)`))) break;
    const entry = await deps.store.pushRollback(id, firstSeq + index, intent);
    pushed.push(entry);
    const record = await recordActivity(
      {
        type: 'action',
        name: `${spec.chaos_type} ${intent.target.id}`,
        provider: { type: plan.driver.provider, chaos_type: spec.chaos_type, target: intent.target.id, arguments: plan.fault.parameters },
      },
      async () => ({ output: await plan.driver.apply(spec, intent, { experimentId: id, rollbackSeq: entry.seq, signal, deadline }) }),
      deps.clock,
    );
    actions.push(record);
    events.push(event(id, 'fault.applied', 'INJECT', { target: intent.target.id, rollbackSeq: entry.seq, chaos_type: spec.chaos_type, record: asJson(record) }, deps.clock()));
    if (record.status === 'failed') {
      halt = new InjectionFailedError(`${record.activity.name} failed: ${record.exception?.join(' ') ?? 'unknown error'}`);
      break;
    }
  }
  halt ??= await stoppedUnder(id, deps, 'while its faults were applied');
  if (halt instanceof ExperimentCancelledError) {
    // The run was stopped while faults were being applied, and its rollback may have popped an entry before the
    // fault landed (or never seen it): undo, again, everything this step applied. Reverts are idempotent.
    for (const entry of [...pushed].reverse()) {
      const reverted = await revertEntry(id, entry, deps, signal);
      const detail = { seq: entry.seq, action: entry.action, target: entry.target.id, state: reverted.state, record: asJson(reverted.outcome), again: true };
      events.push(reverted.event ?? event(id, 'rollback.step', 'ROLLBACK', detail, deps.clock()));
    }
  }
  return { plan, actions, events, ...(halt ? { halt } : {}) };
}

/**
 * A refusal at INJECT (a guardrail, the target system) is recorded as INJECT's: the record's phase, a failed phase
 * result with the reason, and its event, so nobody reads a refusal that needed the cluster as a steady-state failure.
 */
export async function refusedAtInjection(id: string, start: number, error: unknown, deps: LifecycleDeps): Promise<void> {
  const why = `${errorName(error)}: ${errorMessage(error)}`;
  await deps.store.updateExperiment(id, { phase: 'INJECT' }, { unlessRollingBack: true }).catch((conflict: unknown) => {
    if (!(conflict instanceof ConflictError)) throw conflict; // stopped meanwhile: its rollback run owns the record
  });
  await emit(deps, [event(id, 'phase.failed', 'INJECT', { injected: 0, error: errorName(error) }, deps.clock())], {
    experimentId: id,
    result: { phase: 'INJECT', status: 'failed', start: new Date(start).toISOString(), end: new Date(deps.clock()).toISOString(), detail: { plan: null, actions: [], error: why } },
  });
}

/** Why INJECT must stop now, if it must: an emergency stop, or its run was stopped or rolled back under it. */
export async function stoppedUnder(id: string, deps: LifecycleDeps, when: string): Promise<Error | undefined> {
  const gate = await deps.store.injectionGate(id);
  if (gate.emergencyStop.active) return new EmergencyStopActiveError(`emergency stop raised ${when}`);
  if (isFinal(gate.status) || gate.phase === 'ROLLBACK') {
    return new ExperimentCancelledError(`experiment was stopped (${gate.status}, ${gate.phase ?? 'no phase'}) ${when}`);
  }
  return undefined;
}

/** All or nothing: if one target is held by another experiment, the leases taken so far are given back. */
async function acquireLeases(targets: string[], holder: string, deadline: number, deps: LifecycleDeps): Promise<string[]> {
  const taken: string[] = [];
  try {
    for (const target of targets) {
      await deps.store.acquireLease(target, holder, deadline + LEASE_MARGIN_MS);
      taken.push(target);
    }
    return taken;
  } catch (error) {
    await releaseLeases(taken, holder, deps);
    throw error;
  }
}

async function releaseLeases(targets: string[], holder: string, deps: LifecycleDeps): Promise<void> {
  // Best effort: a lease that cannot be given back now still expires by itself.
  await Promise.all(targets.map((target) => deps.store.releaseLease(target, holder).catch(() => undefined)));
}
