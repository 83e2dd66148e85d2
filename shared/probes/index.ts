/**
 * Running probes as journal activities. A probe never throws from here: whatever happens becomes a Chaos Toolkit
 * activity record, `succeeded`/`failed` with its output, or `failed` with the exception.
 */
import { recordActivity, type ActivityRecord, type JsonObject, type JsonValue } from '../journal/activity.js';
import type { Probe } from '../model/experiment.js';
import { runCmdProbe } from './cmd.js';
import { runHttpProbe } from './http.js';
import { runPrometheusProbe } from './prometheus.js';
import type { ProbeEnvironment, ProbeOutcome } from './probe.js';

export { assertProbesAllowed } from './cmd.js';
export { describeStopConditions, firedStopConditions, isStopCondition, type FiredStopCondition } from './stop-condition.js';

/** Stands in for values that may hold credentials (headers, request bodies, env, URL passwords) in the journal. */
export const REDACTED = '***';

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

/** The journal is shared and kept; it records what was checked, without the secrets needed to check it. */
function provider(probe: Probe): JsonObject {
  switch (probe.type) {
    case 'http': {
      const p = probe.properties;
      return defined({
        type: 'http',
        url: redactUrl(p.url),
        method: p.method,
        headers: redactValues(p.headers),
        body: p.body === undefined ? undefined : REDACTED,
        timeout_ms: p.timeout_ms,
        expected_status: p.expected_status,
        max_latency_ms: p.max_latency_ms,
        body_contains: p.body_contains,
        body_matches: p.body_matches,
      });
    }
    case 'cmd': {
      const p = probe.properties;
      return defined({
        type: 'cmd',
        command: p.command,
        cwd: p.cwd,
        env: redactValues(p.env),
        timeout_ms: p.timeout_ms,
        expected_exit_code: p.expected_exit_code,
        stdout_contains: p.stdout_contains,
        stdout_matches: p.stdout_matches,
      });
    }
    case 'cloudwatch_alarm': {
      const p = probe.properties;
      return defined({
        type: 'cloudwatch_alarm',
        alarm_name: p.alarm_name,
        region: p.region,
        role_arn: p.role_arn,
        expected_state: p.expected_state,
        stop_condition: p.stop_condition,
      });
    }
    case 'k8s': {
      const p = probe.properties;
      return defined({
        type: 'k8s',
        namespace: p.namespace,
        kind: p.kind,
        name: p.name,
        labels: p.labels,
        cluster: p.cluster,
        min_ready_replicas: p.min_ready_replicas,
        expected_phase: p.expected_phase,
        min_pods: p.min_pods,
      });
    }
    case 'prometheus': {
      const p = probe.properties;
      return defined({
        type: 'prometheus',
        url: redactUrl(p.url),
        query: p.query,
        method: p.method,
        headers: redactValues(p.headers),
        timeout_ms: p.timeout_ms,
        tolerance: p.tolerance,
        allow_empty: p.allow_empty,
        stop_condition: p.stop_condition,
      });
    }
  }
}

/** A token often travels as the user name alone (`https://TOKEN@host`), so both parts go. */
function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return url;
  parsed.username = REDACTED;
  if (parsed.password !== '') parsed.password = REDACTED;
  return parsed.href;
}

function redactValues(values: Record<string, string>): JsonObject {
  return Object.fromEntries(Object.keys(values).map((key) => [key, REDACTED]));
}

function defined(fields: Record<string, JsonValue | undefined>): JsonObject {
  return Object.fromEntries(
    Object.entries(fields).filter((entry): entry is [string, JsonValue] => entry[1] !== undefined),
  );
}
