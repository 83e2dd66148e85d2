/**
 * Last state of every experiment execution: decides the final status, gives back the leases, writes the journal and
 * the final status (the journal first, so a finished experiment always has one).
 */
import { rootError, type CaughtError, type FinishInput } from '../../shared/lifecycle/contract.js';

export { rootError };
import type { LifecycleDeps } from '../../shared/lifecycle/deps.js';
import { event } from '../../shared/lifecycle/events.js';
import { buildJournal, fitJournal } from '../../shared/journal/journal.js';
import type { JsonObject } from '../../shared/journal/activity.js';
import { scoreIfTested } from '../../shared/analysis/score.js';
import { isSettled, type FinalStatus, type PhaseResult, type RollbackEntry } from '../../shared/model/lifecycle.js';
import { chaosTypeOf, isChaosToolkitSpec } from '../../shared/model/experiment.js';
import { chaosToolkitStatus } from '../../shared/ctk/outcome.js';
import { leaseKey } from '../../shared/lifecycle/guardrails.js';

export interface FinishOutput {
  id: string;
  status: FinalStatus;
  reason: string;
  deviated: boolean;
  failedRollbacks: number[];
}

export interface StatusDecision {
  status: FinalStatus;
  reason: string;
  deviated: boolean;
}

/** The final status, from how the run went and what the rollback stack holds. Pure, so it is tested on its own. */
export function decideStatus(input: Omit<FinishInput, 'experiment'>, stack: readonly RollbackEntry[]): StatusDecision {
  const failure = input.failure ? rootError(input.failure) : undefined;
  const deviated = input.observation?.deviated ?? (failure?.name === 'HealthCheckThresholdError' || failure?.name === 'StopConditionError');
  const rollbackIncomplete = input.rollbackFailure !== undefined || stack.some((e) => !isSettled(e));
  if (rollbackIncomplete) {
    const why = input.rollbackFailure ? rootError(input.rollbackFailure).name : 'rollback_step_failed';
    return { status: 'failed', reason: failure ? `${failure.name}; ${why}` : why, deviated };
  }
  if (input.mode === 'rollback') {
    if (input.reason === 'emergency_stop') return { status: 'emergency_stopped', reason: input.reason, deviated };
    return { status: stack.length === 0 ? 'aborted' : 'rolled_back', reason: input.reason, deviated };
  }
  if (failure?.name === 'EmergencyStopActiveError') return { status: 'emergency_stopped', reason: 'emergency_stop', deviated };
  if (failure) {
    // Nothing was ever written to the stack: no fault was applied, so the run was called off, not rolled back.
    return { status: stack.length === 0 ? 'aborted' : 'rolled_back', reason: failure.name, deviated };
  }
  if (input.steadyState && !input.steadyState.met) return { status: 'aborted', reason: 'steady_state_not_met', deviated: false };
  return { status: 'completed', reason: deviated ? 'deviated' : 'hypothesis_held', deviated };
}

export async function finish(input: FinishInput, deps: LifecycleDeps): Promise<FinishOutput> {
  const { id } = input.experiment;
  const { record, stack, phases, events, unreadable } = await deps.store.loadExperiment(id);
  const decision = decideStatus(input, stack);
  // What went wrong, in words: the status says how it ended, this says why (an unreachable cluster, a bad target…).
  const errors = [input.failure, input.rollbackFailure].filter((e): e is CaughtError => e !== undefined).map(rootError);
  const error = errors.length > 0 ? errors.map((e) => `${e.name}: ${e.message}`).join('; ') : undefined;
  // A target whose rollback did not finish may still be faulted: its lease stays until it expires, so no other
  // experiment piles a second fault on top.
  // An entry that could not be read names no target, so then every lease stays.
  const stillFaulted = new Set(stack.filter((e) => !isSettled(e)).map((e) => leaseKey(e.target)));
  const keepAll = stack.some((e) => e.corrupt !== undefined);
  const released = (keepAll ? [] : (record.leases ?? []).filter((t) => !stillFaulted.has(t))).map((target) => deps.store.releaseLease(target, id));

  const end = new Date(deps.clock()).toISOString();
  const rollback: PhaseResult | undefined =
    stack.length > 0 || input.mode === 'rollback'
      ? {
          phase: 'ROLLBACK',
          status: stack.every(isSettled) && !input.rollbackFailure ? 'succeeded' : 'failed',
          start: stack.map((e) => e.outcome?.start).filter((s): s is string => !!s).sort()[0] ?? end,
          end,
          detail: { steps: stack.map((e) => ({ seq: e.seq, action: e.action, target: e.target.id, state: e.state })) },
        }
      : undefined;
  const failedRollbacks = stack.filter((e) => !isSettled(e)).map((e) => e.seq);
  // After an emergency stop: how long from the stop to this experiment being safe again (a metric, and the journal's).
  const safeAfterMs = decision.reason === 'emergency_stop' ? await msSinceStop(deps) : undefined;
  const finished = event(
    id,
    'experiment.finished',
    undefined,
    { ...decision, failedRollbacks, chaos_type: chaosTypeOf(record.spec), ...(safeAfterMs === undefined ? {} : { safe_after_ms: safeAfterMs }), ...(error ? { error } : {}) },
    deps.clock(),
  );
  const full = buildJournal({ record, ...decision, ...(isChaosToolkitSpec(record.spec) ? { chaostoolkit: chaosToolkitStatus(record.spec, input) } : {}), error, phases: rollback ? [...phases, rollback] : phases, events: [...events, finished], stack, end, unreadable });
  // Scored from the whole journal, before a long one is cut down to fit; the journal says its score too.
  const score = scoreIfTested(full);
  const journal = fitJournal(score ? { ...full, chaosduck: { ...(full.chaosduck as JsonObject), resilience_score: score } } : full);
  // The journal goes first, so an experiment that shows a final status always has one.
  await Promise.all([
    ...released,
    deps.store.writeRecords({ events: [finished], phase: rollback && { experimentId: id, result: rollback }, journal: { experimentId: id, journal }, ...(score ? { score } : {}) }),
  ]);
  await deps.store.finishExperiment(id, decision.status, { reason: decision.reason, deviated: decision.deviated, ...(error ? { error } : {}) });
  await deps.events.publish([finished]);
  return { id, ...decision, failedRollbacks };
}

/** Milliseconds since the emergency stop was raised, when it still is (its `since`). */
async function msSinceStop(deps: LifecycleDeps): Promise<number | undefined> {
  const stop = await deps.store.getEmergencyStop();
  const since = stop.active && stop.since ? Date.parse(stop.since) : Number.NaN;
  return Number.isNaN(since) ? undefined : Math.max(0, deps.clock() - since);
}
