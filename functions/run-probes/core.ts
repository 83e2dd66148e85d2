/** STEADY_STATE: runs the `sot` and `continuous` probes once to establish that the system is healthy before any fault. */
import type { PhaseInput } from '../../shared/lifecycle/contract.js';
import { emit, type LifecycleDeps } from '../../shared/lifecycle/deps.js';
import { asJson } from '../../shared/journal/activity.js';
import { event, probesFor } from '../../shared/lifecycle/events.js';
import { allMet, runProbes } from '../../shared/probes/index.js';

export interface SteadyStateOutput {
  met: boolean;
  failed: string[];
}

export async function runSteadyState({ experiment }: PhaseInput, deps: LifecycleDeps, signal: AbortSignal): Promise<SteadyStateOutput> {
  const start = deps.clock();
  const records = await runProbes(probesFor(experiment.spec, 'before'), { runtime: deps.runtime, signal, aws: deps.aws, kube: deps.kube });
  const met = allMet(records);
  const end = deps.clock();
  const failed = records.filter((r) => r.status !== 'succeeded' || r.tolerance_met === false).map((r) => r.activity.name);
  const result = {
    phase: 'STEADY_STATE' as const,
    status: met ? ('succeeded' as const) : ('failed' as const),
    start: new Date(start).toISOString(),
    end: new Date(end).toISOString(),
    detail: { met, probes: asJson(records) },
  };
  await emit(
    deps,
    [
      ...records.map((record) => event(experiment.id, 'probe.result', 'STEADY_STATE', { when: 'before', record: asJson(record) }, end)),
      event(experiment.id, met ? 'phase.completed' : 'phase.failed', 'STEADY_STATE', { met, failed }, end),
    ],
    { experimentId: experiment.id, result },
  );
  return { met, failed };
}
