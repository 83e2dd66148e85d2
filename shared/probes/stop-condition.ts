/**
 * Stop conditions (AWS FIS parity): a `cloudwatch_alarm` probe with `stop_condition: true` whose alarm reads ALARM
 * during OBSERVE halts the experiment at once and rolls it back, without waiting for
 * `health_check_failure_threshold`. Kept apart from the probe itself so that deciding which probes run when
 * (`probesFor`) does not pull the AWS SDK into every function that imports it.
 */
import type { ActivityRecord } from '../journal/activity.js';
import type { CloudWatchAlarmProbe, Probe } from '../model/experiment.js';

export function isStopCondition(probe: Probe): probe is CloudWatchAlarmProbe & { properties: { stop_condition: true } } {
  return probe.type === 'cloudwatch_alarm' && probe.properties.stop_condition;
}

export interface FiredStopCondition {
  probe: string;
  alarm_name: string;
  reason: string | null;
}

/**
 * The stop conditions among `records` (run from `probes`, in the same order) whose alarm read ALARM. An alarm that
 * could not be read did not fire: that is an ordinary failed health check, counted against the threshold.
 */
export function firedStopConditions(probes: readonly Probe[], records: readonly ActivityRecord[]): FiredStopCondition[] {
  return probes.flatMap((probe, index): FiredStopCondition[] => {
    if (!isStopCondition(probe)) return [];
    const output = records[index]?.output;
    if (!output || typeof output !== 'object' || Array.isArray(output) || output.state !== 'ALARM') return [];
    return [{ probe: probe.name, alarm_name: probe.properties.alarm_name, reason: typeof output.reason === 'string' ? output.reason : null }];
  });
}
