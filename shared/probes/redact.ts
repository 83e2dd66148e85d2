/**
 * What the journal keeps of a probe: what was checked, without the secrets needed to check it. The journal is shared
 * and kept (CI artifacts, reports, the API), so URL credentials, header values, request bodies and environment values
 * are replaced by `***`, and only the properties listed here are kept: a property added later stays out until it is
 * listed, rather than leaking until someone notices.
 */
import type { JsonObject, JsonValue } from '../journal/activity.js';
import type { Probe } from '../model/experiment.js';

/** Stands in for values that may hold credentials (headers, request bodies, env, URL passwords) in the journal. */
export const REDACTED = '***';

/**
 * A probe as the journal's `experiment` lists it: its name, type, mode and weight, and its properties as `provider`
 * keeps them. A stored probe this version cannot read (an older or later shape) keeps none of its properties: the
 * journal is written when an experiment ends, and must be, whatever it holds.
 */
export function redactedProbe(probe: Probe): JsonObject {
  const common = { name: probe.name, type: probe.type, mode: probe.mode, weight: probe.weight };
  try {
    const { type: _type, ...properties } = provider(probe);
    return defined({ ...common, properties });
  } catch {
    return defined({ ...common, properties: REDACTED });
  }
}

/** The probe's `provider` in its activity records: its type and the properties that say what was checked. */
export function provider(probe: Probe): JsonObject {
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
