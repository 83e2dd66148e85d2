/**
 * First state of every experiment execution: claims the experiment for this run and hands the state machines the
 * spec, the deadline and the timeouts they need. In `rollback` mode (manual rollback, emergency stop, recovery sweep)
 * it only claims the experiment; the orchestrator then goes straight to ROLLBACK.
 */
import { chaosTypeOf } from '../../shared/model/experiment.js';
import type { BeginInput, ExperimentRef } from '../../shared/lifecycle/contract.js';
import { emit, type LifecycleDeps } from '../../shared/lifecycle/deps.js';
import { event } from '../../shared/lifecycle/events.js';

/** Room for probes and task overheads on top of the experiment's own timeout, before Step Functions gives up. */
const PHASE_MARGIN_SECONDS = 60;
const MIN_ROLLBACK_SECONDS = 300;

export interface BeginOutput {
  experiment: ExperimentRef;
  mode: BeginInput['mode'];
  reason: string;
}

export async function begin(input: BeginInput, deps: LifecycleDeps): Promise<BeginOutput> {
  const now = deps.clock();
  // One conditional write claims the experiment (it refuses one that has ended) and returns its spec.
  const claimed = await deps.store.updateExperiment(
    input.experimentId,
    {
      status: 'running',
      executionArn: input.executionArn,
      owner: deps.runtimeId,
      ...(input.mode === 'run' ? { startedAt: new Date(now).toISOString(), phase: 'STEADY_STATE' as const } : { phase: 'ROLLBACK' as const }),
    },
    // A run whose experiment was already aborted or emergency-stopped (before it began) must not start.
    { unlessRollingBack: input.mode === 'run' },
  );
  const { spec } = claimed;
  // The deadline travels with the execution's state; only the forward phases check it, so a rollback run has none.
  const deadline = input.mode === 'run' ? now + spec.safety.timeout_seconds * 1000 : now;
  await emit(deps, [
    event(
      claimed.id,
      input.mode === 'run' ? 'experiment.started' : 'rollback.started',
      undefined,
      { mode: input.mode, reason: input.reason, executionArn: input.executionArn, name: spec.name, chaos_type: chaosTypeOf(spec) },
      now,
    ),
  ]);
  return {
    experiment: {
      id: claimed.id,
      spec,
      deadline,
      phaseTimeoutSeconds: spec.safety.timeout_seconds + PHASE_MARGIN_SECONDS,
      rollbackTimeoutSeconds: Math.max(MIN_ROLLBACK_SECONDS, spec.safety.timeout_seconds + PHASE_MARGIN_SECONDS),
      mode: input.mode,
      executionArn: input.executionArn,
    },
    mode: input.mode,
    reason: input.reason,
  };
}
