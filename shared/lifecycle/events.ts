import type { JsonObject } from '../journal/activity.js';
import type { JournalEvent, Phase } from '../model/lifecycle.js';
import type { FaultSpec, Probe } from '../model/experiment.js';
import { isStopCondition } from '../probes/stop-condition.js';

export function event(
  experimentId: string,
  type: JournalEvent['type'],
  phase: Phase | undefined,
  detail: JsonObject,
  now: number = Date.now(),
): JournalEvent {
  return { experimentId, at: new Date(now).toISOString(), type, ...(phase ? { phase } : {}), detail };
}

/**
 * Which probes run when, following the probe modes ChaosDuck shares with Litmus: `sot` before the fault, `eot` after
 * the observation, `on_chaos` while the fault is in place, `continuous` all three. Stop conditions
 * (`cloudwatch_alarm` and `prometheus` probes with `stop_condition: true`) run on every OBSERVE tick whatever their
 * mode, as FIS watches its stop conditions for the whole experiment; their mode only adds the check before or after.
 */
export function probesFor(spec: FaultSpec, when: 'before' | 'during' | 'after'): Probe[] {
  const modes = { before: ['sot', 'continuous'], during: ['on_chaos', 'continuous'], after: ['eot', 'continuous'] }[when];
  return spec.probes.filter((probe) => modes.includes(probe.mode) || (when === 'during' && isStopCondition(probe)));
}
