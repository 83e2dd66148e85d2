/**
 * Stop conditions (AWS FIS parity): a probe with `stop_condition: true` — a `cloudwatch_alarm` whose alarm reads
 * ALARM, or a `prometheus` query whose value is out of tolerance — during OBSERVE halts the experiment at once and
 * rolls it back, without waiting for `health_check_failure_threshold`. Kept apart from the probes themselves so that
 * deciding which probes run when (`probesFor`) does not pull the AWS SDK into every function that imports it.
 */
import type { ActivityRecord } from '../journal/activity.js';
import type { CloudWatchAlarmProbe, Probe, PrometheusProbe } from '../model/experiment.js';
import { nonFiniteValue, outOfTolerance } from './value-tolerance.js';

export type StopConditionProbe = (CloudWatchAlarmProbe | PrometheusProbe) & { properties: { stop_condition: true } };

export function isStopCondition(probe: Probe): probe is StopConditionProbe {
  return (probe.type === 'cloudwatch_alarm' || probe.type === 'prometheus') && probe.properties.stop_condition;
}

/**
 * A CloudWatch alarm that read ALARM (`reason`: its state reason), or a Prometheus value out of tolerance (`value`:
 * the worst, `+Inf` or `-Inf` as text when a series read one, since a journal is JSON).
 */
export type FiredStopCondition =
  | { probe: string; alarm_name: string; reason: string | null }
  | { probe: string; query: string; value: number | '+Inf' | '-Inf'; reason: string };

/**
 * The stop conditions among `records` (run from `probes`, in the same order) that fired. A Prometheus query fires
 * when a series read a value out of tolerance, ±Inf past a bound included (`outOfTolerance`). One that measured
 * nothing — an alarm that could not be read, a query that failed, returned no series or only NaN — did not fire:
 * that is an ordinary failed health check, counted against the threshold.
 */
export function firedStopConditions(probes: readonly Probe[], records: readonly ActivityRecord[]): FiredStopCondition[] {
  return probes.flatMap((probe, index): FiredStopCondition[] => {
    if (!isStopCondition(probe)) return [];
    const output = records[index]?.output;
    if (!output || typeof output !== 'object' || Array.isArray(output)) return [];
    if (probe.type === 'cloudwatch_alarm') {
      if (output.state !== 'ALARM') return [];
      return [{ probe: probe.name, alarm_name: probe.properties.alarm_name, reason: typeof output.reason === 'string' ? output.reason : null }];
    }
    // `value` is the worst finite series' value, and `non_finite` what the others read (an infinity past a bound is
    // worse than any finite value), judged against the probe's own tolerance, not the one its output repeats.
    const { value, non_finite: nonFinite, failures } = output;
    const infinities = (Array.isArray(nonFinite) ? nonFinite : []).map(nonFiniteValue).filter((v): v is number => v !== undefined);
    const worst = [...infinities, ...(typeof value === 'number' ? [value] : [])].find((v) => outOfTolerance(v, probe.properties.tolerance));
    if (worst === undefined) return [];
    const shown = Number.isFinite(worst) ? worst : worst > 0 ? '+Inf' : '-Inf';
    const reason = Array.isArray(failures) ? failures.filter((f) => typeof f === 'string').join('; ') : '';
    return [{ probe: probe.name, query: probe.properties.query, value: shown, reason: reason || `value ${shown} out of tolerance` }];
  });
}

/** What fired, for the error that halts the run: `CloudWatch alarm "a" (probe p) is in ALARM; Prometheus probe q: …`. */
export function describeStopConditions(fired: readonly FiredStopCondition[]): string {
  const alarms = fired.flatMap((f) => ('alarm_name' in f ? [`"${f.alarm_name}" (probe ${f.probe})`] : []));
  const values = fired.flatMap((f) => ('query' in f ? [`Prometheus probe ${f.probe}: ${f.reason}`] : []));
  return [...(alarms.length > 0 ? [`CloudWatch alarm ${alarms.join(', ')} is in ALARM`] : []), ...values].join('; ');
}
