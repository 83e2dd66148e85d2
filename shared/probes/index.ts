/**
 * Running probes as journal activities. A probe never throws from here: whatever happens becomes a Chaos Toolkit
 * activity record, `succeeded`/`failed` with its output, or `failed` with the exception.
 */
import { recordActivity, type ActivityRecord } from '../journal/activity.js';
import type { Probe } from '../model/experiment.js';
import { runCmdProbe } from './cmd.js';
import { runHttpProbe } from './http.js';
import { runPrometheusProbe } from './prometheus.js';
import type { ProbeEnvironment, ProbeOutcome } from './probe.js';
import { provider } from './redact.js';

export { assertProbesAllowed } from './cmd.js';
export { describeStopConditions, firedStopConditions, isStopCondition, type FiredStopCondition } from './stop-condition.js';

export { REDACTED } from './redact.js';

export function runProbe(probe: Probe, env: ProbeEnvironment): Promise<ActivityRecord> {
  return recordActivity({ type: 'probe', name: probe.name, provider: provider(probe) }, () => measure(probe, env));
}

/** All at once (a health check should see one moment), records in the order of `probes`. */
export function runProbes(probes: readonly Probe[], env: ProbeEnvironment): Promise<ActivityRecord[]> {
  return Promise.all(probes.map((probe) => runProbe(probe, env)));
}

/** True when every probe stayed within its tolerance; no probes means nothing is out of tolerance. */
export function allMet(records: readonly ActivityRecord[]): boolean {
  return records.every((record) => record.tolerance_met === true);
}

/** The probes that need the AWS SDK or the Kubernetes client load it when one first runs, not with this module. */
async function measure(probe: Probe, env: ProbeEnvironment): Promise<ProbeOutcome> {
  switch (probe.type) {
    case 'http':
      return runHttpProbe(probe, env);
    case 'cmd':
      return runCmdProbe(probe, env);
    case 'cloudwatch_alarm':
      return (await import('./cloudwatch.js')).runCloudWatchAlarmProbe(probe, env);
    case 'k8s':
      return (await import('./k8s.js')).runK8sProbe(probe, env);
    case 'prometheus':
      return runPrometheusProbe(probe, env);
  }
}
