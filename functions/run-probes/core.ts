/**
 * STEADY_STATE: establishes that the system is healthy before any fault. A ChaosDuck experiment runs its `sot` and
 * `continuous` probes once, all at once; a Chaos Toolkit experiment checks its steady-state hypothesis (probes in
 * order, stopping at the first miss), unless its hypothesis strategy checks only later.
 */
import type { PhaseInput } from '../../shared/lifecycle/contract.js';
import { emit, type LifecycleDeps } from '../../shared/lifecycle/deps.js';
import { asJson, type ActivityRecord } from '../../shared/journal/activity.js';
import { event, probesFor } from '../../shared/lifecycle/events.js';
import { allMet, runProbes } from '../../shared/probes/index.js';
import { isChaosToolkitSpec, type ChaosToolkitSpec } from '../../shared/model/experiment.js';
import { checkHypothesis } from '../../shared/ctk/activities.js';
import { hypothesisChecks, hypothesisStrategy, methodOf } from '../../shared/ctk/method.js';
import { activityEnvironment } from '../../shared/ctk/run.js';

export interface SteadyStateOutput {
  met: boolean;
  failed: string[];
  /** A probe failed to run at all (Chaos Toolkit tells this apart from a miss: `failed`, not `completed`). */
  errored: boolean;
}

export async function runSteadyState({ experiment }: PhaseInput, deps: LifecycleDeps, signal: AbortSignal): Promise<SteadyStateOutput> {
  const start = deps.clock();
  const { spec } = experiment;
  const checked = isChaosToolkitSpec(spec)
    ? await chaosToolkitBaseline(spec, experiment.deadline, deps, signal)
    : await probesOnce(spec, deps, signal);
  if (!checked) {
    await emit(deps, [event(experiment.id, 'phase.completed', 'STEADY_STATE', { met: true, skipped: true }, deps.clock())], {
      experimentId: experiment.id,
      result: { phase: 'STEADY_STATE', status: 'skipped', start: new Date(start).toISOString(), end: new Date(deps.clock()).toISOString(), detail: { met: true, skipped: true } },
    });
    return { met: true, failed: [], errored: false };
  }
  const { met, records, errored } = checked;
  const end = deps.clock();
  const failed = records.filter((r) => r.status !== 'succeeded' || r.tolerance_met === false).map((r) => r.activity.name);
  const result = {
    phase: 'STEADY_STATE' as const,
    status: met ? ('succeeded' as const) : ('failed' as const),
    start: new Date(start).toISOString(),
    end: new Date(end).toISOString(),
    detail: { met, errored, probes: asJson(records) },
  };
  await emit(
    deps,
    [
      ...records.map((record) => event(experiment.id, 'probe.result', 'STEADY_STATE', { when: 'before', record: asJson(record) }, end)),
      event(experiment.id, met ? 'phase.completed' : 'phase.failed', 'STEADY_STATE', { met, failed }, end),
    ],
    { experimentId: experiment.id, result },
  );
  return { met, failed, errored };
}

type Checked = { met: boolean; records: ActivityRecord[]; errored: boolean };

async function probesOnce(spec: Parameters<typeof probesFor>[0], deps: LifecycleDeps, signal: AbortSignal): Promise<Checked> {
  const records = await runProbes(probesFor(spec, 'before'), { runtime: deps.runtime, signal, aws: deps.aws, kube: deps.kube });
  return { met: allMet(records), records, errored: records.some((r) => r.exception !== undefined) };
}

/** The baseline, or undefined when the strategy does not check before the method (`after-method-only`, `during-method-only`). */
async function chaosToolkitBaseline(spec: ChaosToolkitSpec, deadline: number, deps: LifecycleDeps, signal: AbortSignal): Promise<Checked | undefined> {
  const { hypothesis } = methodOf(spec.experiment);
  if (!hypothesis || !hypothesisChecks(hypothesisStrategy(spec)).before) return undefined;
  const result = await checkHypothesis(hypothesis.probes, activityEnvironment(spec, deps, signal, deadline), spec.settings.dry);
  return { met: result.steady_state_met, records: result.probes, errored: result.errored };
}
