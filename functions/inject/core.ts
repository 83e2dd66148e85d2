/**
 * INJECT: guardrails, leases, then for each selected target the write-ahead sequence
 *   prepare (snapshot + compensating action) → rollback entry stored → fault applied.
 * A fault is never applied without its rollback already on the stack in DynamoDB.
 */
import { EmergencyStopActiveError, ExperimentTimeoutError, InjectionFailedError, errorMessage } from '../../shared/errors.js';
import type { PhaseInput } from '../../shared/lifecycle/contract.js';
import { emit, type LifecycleDeps } from '../../shared/lifecycle/deps.js';
import { event } from '../../shared/lifecycle/events.js';
import { describePlan, planInjection } from '../../shared/lifecycle/guardrails.js';
import { asJson, recordActivity, type ActivityRecord } from '../../shared/journal/activity.js';
import type { JournalEvent } from '../../shared/model/lifecycle.js';

/** Leases outlive the deadline by this much, so rollback finishes while the targets are still ours. */
const LEASE_MARGIN_MS = 10 * 60_000;

export interface InjectOutput {
  injected: number;
  targets: string[];
}

export async function inject({ experiment }: PhaseInput, deps: LifecycleDeps, signal: AbortSignal): Promise<InjectOutput> {
  const { id, spec } = experiment;
  const start = deps.clock();
  if (start > experiment.deadline) throw new ExperimentTimeoutError(`experiment ran past its ${spec.safety.timeout_seconds}s timeout before injection`);
  const plan = await planInjection(spec, deps, signal);
  const leased = await acquireLeases(plan.steps.map((s) => `${s.target.provider}:${s.target.id}`), id, experiment.deadline, deps);
  await deps.store.updateExperiment(id, { phase: 'INJECT', leases: leased });
  const events: JournalEvent[] = [event(id, 'fault.planned', 'INJECT', describePlan(plan), deps.clock())];
  const actions: ActivityRecord[] = [];
  let halt: Error | undefined;
  for (const [index, intent] of plan.steps.entries()) {
    // The plan checked the flag before the first fault; checking again before each later one lets an emergency stop
    // raised mid-injection halt the rest.
    if (index > 0 && (await deps.store.getEmergencyStop()).active) {
      halt = new EmergencyStopActiveError(`emergency stop raised after ${index} of ${plan.steps.length} fault(s)`);
      break;
    }
    const entry = await deps.store.pushRollback(id, intent);
    const record = await recordActivity(
      {
        type: 'action',
        name: `${spec.chaos_type} ${intent.target.id}`,
        provider: { type: plan.driver.provider, chaos_type: spec.chaos_type, target: intent.target.id, arguments: plan.fault.parameters },
      },
      async () => ({ output: await plan.driver.apply(spec, intent, { experimentId: id, rollbackSeq: entry.seq, signal }) }),
      deps.clock,
    );
    actions.push(record);
    events.push(event(id, 'fault.applied', 'INJECT', { target: intent.target.id, rollbackSeq: entry.seq, record: asJson(record) }, deps.clock()));
    if (record.status === 'failed') {
      halt = new InjectionFailedError(`${record.activity.name} failed: ${record.exception?.join(' ') ?? 'unknown error'}`);
      break;
    }
  }
  events.push(event(id, halt ? 'phase.failed' : 'phase.completed', 'INJECT', { injected: actions.length }, deps.clock()));
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
  return { injected: actions.length, targets: plan.steps.map((s) => s.target.id) };
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
    await Promise.all(taken.map((target) => deps.store.releaseLease(target, holder).catch(() => undefined)));
    throw error instanceof Error ? error : new Error(errorMessage(error));
  }
}
