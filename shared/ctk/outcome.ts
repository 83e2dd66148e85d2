/**
 * How a Chaos Toolkit run ends, decided as Chaos Toolkit decides it: its status and `deviated`, and whether the
 * declared rollbacks play. Also the declared rollbacks as rollback-stack entries. Pure: Finish and the journal use it
 * without carrying the activity runner.
 */
import type { RollbackIntent } from '../faults/driver.js';
import type { JsonObject } from '../journal/activity.js';
import { rootError, type RunOutcome } from '../lifecycle/contract.js';
import type { ChaosToolkitSpec } from '../model/experiment.js';
import { explicitRollbackStrategy, hypothesisChecks, hypothesisStrategy, methodOf } from './method.js';

/** The provider name of declared rollbacks on the stack. */
export const DECLARED_ROLLBACK = 'chaostoolkit';

export type ChaosToolkitStatus = 'completed' | 'failed' | 'aborted' | 'interrupted';

/** Errors that mean the run was stopped from outside, which Chaos Toolkit calls an interruption. */
const INTERRUPTIONS = ['EmergencyStopActiveError', 'ExperimentCancelledError', 'ShuttingDownError'];

/**
 * The status and `deviated` that `chaos run` gives the same run (chaos-toolkit-format.md §8): a missed baseline is
 * `completed` (the method skipped), a probe that errored is `failed`, a missed final check is `completed` and
 * deviated, an unexpected error is `aborted`, a stop from outside is `interrupted`.
 */
export function chaosToolkitStatus(spec: ChaosToolkitSpec, outcome: RunOutcome): { status: ChaosToolkitStatus; deviated: boolean } {
  if (outcome.mode === 'rollback') return { status: 'interrupted', deviated: false };
  if (outcome.failure) {
    const { name } = rootError(outcome.failure);
    return { status: INTERRUPTIONS.includes(name) ? 'interrupted' : 'aborted', deviated: false };
  }
  if (outcome.steadyState && !outcome.steadyState.met) return { status: outcome.steadyState.errored ? 'failed' : 'completed', deviated: false };
  const after = hypothesisChecks(hypothesisStrategy(spec)).after;
  if (after && outcome.observation) {
    if (outcome.observation.errored) return { status: 'failed', deviated: true };
    if (outcome.observation.deviated) return { status: 'completed', deviated: true };
  }
  // `--fail-fast` stopped the method: failed, unless a final check that missed made it a deviation (as chaos run).
  if (outcome.injection?.halted) return { status: 'failed', deviated: false };
  return { status: 'completed', deviated: false };
}

/**
 * Whether the declared rollbacks play. With a strategy given explicitly, exactly as Chaos Toolkit decides; without
 * one, ChaosDuck's safer default: they play whenever a method action started (`actionStarted`), even when a probe
 * errored or the run was interrupted, so a service the method stopped is not left down.
 */
export function declaredRollbacksPlay(spec: ChaosToolkitSpec, outcome: RunOutcome, actionStarted: boolean): boolean {
  const strategy = explicitRollbackStrategy(spec);
  if (strategy === undefined) return actionStarted;
  const { status, deviated } = chaosToolkitStatus(spec, outcome);
  switch (strategy) {
    case 'always':
      return true;
    case 'never':
      return false;
    case 'deviated':
      return deviated;
    case 'default':
      return status !== 'failed' && status !== 'interrupted';
  }
}

/**
 * The declared rollbacks as stack entries, in the order to push them: the last declared first, so that the stack,
 * popped newest first, plays the faults' automatic rollbacks (pushed later) before them, and them in declared order.
 */
export function declaredRollbackIntents(spec: ChaosToolkitSpec): RollbackIntent[] {
  return methodOf(spec.experiment)
    .rollbacks.map((activity, index) => ({
      provider: DECLARED_ROLLBACK,
      action: 'declared_rollback',
      target: { provider: DECLARED_ROLLBACK, id: activity.name, labels: {}, details: { index } },
      params: { index, activity: activity as JsonObject },
      snapshot: {},
    }))
    .reverse();
}
