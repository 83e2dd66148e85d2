/**
 * The steady state as the control plane knows it now (`GET /api/topology/steady-state`): the latest value of every
 * probe of recent experiments, grouped by what each experiment targeted, beside the ready replicas of each Kubernetes
 * workload and the state of each AWS instance and DB cluster, as the topology sources read them at the moment. The
 * steady state is what holds outside a fault, so a target's verdict is judged from readings taken before or after
 * one; a reading taken during a fault is shown beside them, marked `when: during`. Pure: the route reads the store
 * and the sources, and these functions shape what they gave.
 */
import * as z from 'zod';
import type { JsonObject, JsonValue } from '../journal/activity.js';
import { dryRuns, type Activity } from '../ctk/method.js';
import { KUBERNETES_CHAOS_TYPES, isChaosToolkitSpec, type ExperimentSpec } from '../model/experiment.js';
import { EXCERPT_CHARS } from '../probes/capture.js';
import type { ExperimentRecord, JournalEvent, Phase } from '../model/lifecycle.js';

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const asObject = (value: unknown): Record<string, unknown> => (isObject(value) ? value : {});
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

// ---- what an experiment targeted -----------------------------------------------------------------------------------

/** What an experiment aimed at, as written, whichever of its matches a run then picked. */
export interface ExperimentTarget {
  /**
   * The same for every experiment aimed at the same targets, however many it hit: `provider:` then where (cluster and
   * namespace; account and region) and the selector (labels and names, ids and tags, sorted): `sandbox:default/app=demo`,
   * `kubernetes:eks-a/shop/app=web`, `aws:eu-west-1/ec2:tier=web`, `aws:rds:orders`, `chaostoolkit:<experiment name>`.
   * For a target chosen by labels it is the resilience trend's `target`.
   */
  key: string;
  provider: string;
  namespace?: string;
  cluster?: string;
  region?: string;
}

/** The AWS resource kind each AWS fault acts on, as the key names it. */
const AWS_KIND: Record<string, string> = { ec2_stop: 'ec2', rds_failover: 'rds', route_blackhole: 'network' };
/** Target fields that name AWS resources exactly, in the order the key lists them. */
const AWS_ID_FIELDS = ['instance_ids', 'db_cluster_identifier', 'db_instance_identifier', 'route_table_id', 'subnet_ids'];

/**
 * Read from the spec as stored, which is checked only loosely (an experiment stored by an older version still has a
 * key): a field that is missing or of another type is left out of the key rather than refused.
 */
export function experimentTarget(spec: ExperimentSpec): ExperimentTarget {
  if (isChaosToolkitSpec(spec)) return { key: `chaostoolkit:${spec.name}`, provider: 'chaostoolkit' };
  const target = asObject(spec.target);
  const provider = text(target.provider) ?? 'unknown';
  const pairs = (map: unknown) => Object.entries(asObject(map)).map(([key, value]) => `${key}=${String(value)}`).sort();
  const names = (value: unknown) => (Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : []).sort();
  if ((KUBERNETES_CHAOS_TYPES as readonly string[]).includes(spec.chaos_type)) {
    const namespace = text(target.namespace) ?? 'default';
    const cluster = text(target.cluster);
    const selector = [...pairs(target.labels), ...names(target.pod_names)].join(',');
    return { key: `${provider}:${cluster ? `${cluster}/` : ''}${namespace}/${selector}`, provider, namespace, ...(cluster ? { cluster } : {}) };
  }
  const region = text(target.region);
  // Targets reached through another account's role are that account's, even with the same tags.
  const account = /^arn:[^:]+:iam::(\d{12}):/.exec(text(target.role_arn) ?? '')?.[1];
  const where = [account, region].filter((part) => part !== undefined).map((part) => `${part}/`).join('');
  const selector = [...AWS_ID_FIELDS.flatMap((field) => names(target[field])), ...pairs(target.tags)].join(',');
  return { key: `${provider}:${where}${AWS_KIND[spec.chaos_type] ?? spec.chaos_type}:${selector}`, provider, ...(region ? { region } : {}) };
}

/** What narrows the experiments read: all given must match. */
export interface TargetFilter {
  target?: string;
  namespace?: string;
  cluster?: string;
  region?: string;
}

export function targetMatches(target: ExperimentTarget, filter: TargetFilter): boolean {
  return (
    (filter.target === undefined || target.key === filter.target) &&
    (filter.namespace === undefined || target.namespace === filter.namespace) &&
    (filter.cluster === undefined || target.cluster === filter.cluster) &&
    (filter.region === undefined || target.region === filter.region)
  );
}

// ---- probe results -------------------------------------------------------------------------------------------------

export type ProbeWhen = 'before' | 'during' | 'after';

/** One probe result as stored, not yet read: a Chaos Toolkit activity record, with when it was taken. */
export interface ProbeReading {
  phase: Phase | null;
  when: ProbeWhen | null;
  record: unknown;
}

const WHEN = new Set<unknown>(['before', 'during', 'after']);
const whenOf = (value: unknown): ProbeWhen | null => (WHEN.has(value) ? (value as ProbeWhen) : null);

/** The probe results an ended experiment's journal keeps: `steady_states.before`, each check `during`, and `after`. */
export function journalReadings(journal: JsonObject, spec: ExperimentSpec): ProbeReading[] {
  const states = asObject(journal.steady_states);
  // A Chaos Toolkit hypothesis is checked during the method (INJECT); a fault's probes run during OBSERVE.
  const duringPhase: Phase = isChaosToolkitSpec(spec) ? 'INJECT' : 'OBSERVE';
  const of = (check: unknown, phase: Phase, when: ProbeWhen): ProbeReading[] => asArray(asObject(check).probes).map((record) => ({ phase, when, record }));
  return [
    ...of(states.before, 'STEADY_STATE', 'before'),
    ...asArray(states.during).flatMap((check) => of(check, duringPhase, 'during')),
    ...of(states.after, 'OBSERVE', 'after'),
  ];
}

/**
 * The probe results in an experiment's events (one that still runs has no journal yet; every result is an event):
 * each probe's result, and every probe of each check of a Chaos Toolkit hypothesis.
 */
export function eventReadings(events: readonly JournalEvent[]): ProbeReading[] {
  return events.flatMap((event): ProbeReading[] => {
    const phase = event.phase ?? null;
    const when = whenOf(event.detail.when);
    if (event.type === 'probe.result') return [{ phase, when, record: event.detail.record }];
    if (event.type === 'hypothesis.checked') return asArray(event.detail.probes).map((record) => ({ phase, when, record }));
    return [];
  });
}

const probeRecord = z.looseObject({
  activity: z.looseObject({ type: z.literal('probe'), name: z.string().min(1), provider: z.looseObject({ type: z.string().optional() }).optional() }),
  status: z.enum(['succeeded', 'failed']),
  end: z.iso.datetime({ offset: true }),
  duration: z.number(),
  output: z.json().optional(),
  exception: z.array(z.string()).optional(),
  tolerance_met: z.boolean().optional(),
});
type ProbeRecord = z.infer<typeof probeRecord>;

/**
 * A probe's output larger than this (a Chaos Toolkit http probe keeps the whole body, a prometheus probe its series)
 * is shown without its bulky fields, which the experiment's own record keeps.
 */
export const MAX_OUTPUT_CHARS = 2048;
/**
 * Of an output too large to show whole, the fields up to this size are kept: those that say what was measured
 * (`value`, `tolerance`, `series_count`, `status`, `latency_ms`, `exit_code`, …), not bodies, streams and series.
 */
export const MAX_FIELD_CHARS = 256;
/** Of an output too large to show whole, its first failures are kept, each cut to `EXCERPT_CHARS`. */
export const MAX_FAILURES_SHOWN = 5;

export interface ExperimentReadings {
  record: ExperimentRecord;
  readings: readonly ProbeReading[];
}

export interface LatestProbes {
  /** Targets whose latest reading is the newest first. */
  targets: JsonObject[];
  /** Probe results that did not read as one, per experiment (never reported as values). */
  unreadable: { experimentId: string; count: number; problem: string }[];
}

/** Readings that show the steady state: taken before or after a fault, not during one (nor at a time not recorded). */
const OUTSIDE_FAULT = new Set<ProbeWhen | null>(['before', 'after']);

interface Latest {
  at: number;
  value: JsonObject;
}

/**
 * The latest value of each probe per target: of all results of a probe (same name and type) on a target, across the
 * experiments read, the one measured last outside a fault (before or after it), and the one measured last during a
 * fault when it is newer (an `on_chaos` probe has only those). A Chaos Toolkit experiment run with its probes dry
 * measured nothing.
 */
export function latestProbes(experiments: readonly ExperimentReadings[]): LatestProbes {
  const groups = new Map<string, { target: ExperimentTarget; probes: Map<string, { outside?: Latest; during?: Latest }> }>();
  const unreadable: LatestProbes['unreadable'] = [];
  for (const { record, readings } of experiments) {
    const { spec } = record;
    if (isChaosToolkitSpec(spec) && dryRuns({ type: 'probe' } as Activity, spec.settings?.dry)) continue;
    const target = experimentTarget(spec);
    const group = groups.get(target.key) ?? { target, probes: new Map() };
    let bad = 0;
    let problem = '';
    for (const reading of readings) {
      const parsed = probeRecord.safeParse(reading.record);
      if (!parsed.success) {
        bad += 1;
        problem ||= parsed.error.issues.map((issue) => `${issue.path.join('.') || '(record)'}: ${issue.message}`).join('; ');
        continue;
      }
      const probe = parsed.data;
      const key = `${probe.activity.provider?.type ?? ''}\u0000${probe.activity.name}`;
      const at = Date.parse(probe.end);
      const latest = group.probes.get(key) ?? {};
      const slot = OUTSIDE_FAULT.has(reading.when) ? 'outside' : 'during';
      // Strictly later: of two results of the same instant, the newer experiment's (read first) stays.
      if ((latest[slot]?.at ?? -Infinity) < at) group.probes.set(key, { ...latest, [slot]: { at, value: probeValue(probe, reading, record) } });
    }
    if (group.probes.size > 0) groups.set(target.key, group);
    if (bad > 0) unreadable.push({ experimentId: record.id, count: bad, problem });
  }
  const newestFirst = (a: { at: number; name: string }, b: { at: number; name: string }) => b.at - a.at || a.name.localeCompare(b.name);
  const targets = [...groups.values()]
    .map(({ target, probes }) => {
      // A reading during a fault older than the probe's latest outside one is history: the later one says more.
      const shown = [...probes.values()].flatMap(({ outside, during }) => [...(outside ? [outside] : []), ...(during && during.at > (outside?.at ?? -Infinity) ? [during] : [])]);
      const values = shown.map(({ at, value }) => ({ at, name: String(value.name), value })).sort(newestFirst);
      const latest = values[0]?.at ?? 0;
      return { at: latest, name: target.key, value: targetValue(target, latest, values.map((v) => v.value)) };
    })
    .sort(newestFirst)
    .map(({ value }) => value);
  return { targets, unreadable };
}

/**
 * `steady_state_met`: every probe's latest value outside a fault within its tolerance — the steady state held as
 * last seen. A reading during a fault shows how the target behaved under it (degrading there may be exactly what the
 * experiment expected), not its steady state, so it is not judged; nor is one whose time relative to the fault was
 * not recorded. A probe read only during faults (`on_chaos`) is shown and left out of the verdict. A target none of
 * whose probes was read outside a fault has no verdict: `steady_state_met` is null, and `steady_state_unknown` says
 * why, rather than guessing from readings under a fault.
 */
function targetValue(target: ExperimentTarget, latest: number, probes: JsonObject[]): JsonObject {
  const { key, ...where } = target;
  const judged = probes.filter((probe) => OUTSIDE_FAULT.has(probe.when as ProbeWhen | null));
  return {
    target: key,
    ...where,
    steady_state_met: judged.length > 0 ? judged.every((probe) => probe.within_tolerance === true) : null,
    ...(judged.length > 0
      ? {}
      : { steady_state_unknown: 'no probe of this target was read before or after a fault; readings during one (on_chaos probes, a run still under its fault) show how it behaved under the fault, not its steady state' }),
    latest_at: new Date(latest).toISOString(),
    probes,
  };
}

function probeValue(probe: ProbeRecord, reading: ProbeReading, record: ExperimentRecord): JsonObject {
  return {
    name: probe.activity.name,
    type: probe.activity.provider?.type ?? null,
    within_tolerance: probe.tolerance_met ?? null,
    status: probe.status,
    ...shownOutput((probe.output ?? null) as JsonValue, record.id),
    ...(probe.exception ? { exception: probe.exception } : {}),
    duration: probe.duration,
    measured_at: new Date(Date.parse(probe.end)).toISOString(),
    experiment: { id: record.id, name: record.spec.name, status: record.status },
    phase: reading.phase,
    when: reading.when,
  };
}

/**
 * The output as it fits an answer about many targets: whole when it is small; else the fields that say what was
 * measured, which are small (the value and its tolerance, a status, a latency, a count, the first failures), with
 * `output_omitted` naming the fields left out (bodies, streams, series), how many failures, and where the whole is.
 */
function shownOutput(output: JsonValue, experimentId: string): JsonObject {
  const characters = JSON.stringify(output).length;
  if (characters <= MAX_OUTPUT_CHARS) return { output };
  const whole = `GET /api/chaos/experiments/${experimentId}`;
  if (!isObject(output)) return { output: null, output_omitted: { characters, whole_output: whole } };
  const kept: JsonObject = {};
  const fields: string[] = [];
  let failuresLeftOut = 0;
  let room = MAX_OUTPUT_CHARS;
  for (const [field, value] of Object.entries(output)) {
    const failures = field === 'failures' && Array.isArray(value) ? value.slice(0, MAX_FAILURES_SHOWN).map(cut) : undefined;
    const shown = failures ?? value;
    const size = JSON.stringify({ [field]: shown }).length;
    if ((failures === undefined && size > MAX_FIELD_CHARS) || size > room) {
      fields.push(field);
      continue;
    }
    kept[field] = shown;
    room -= size;
    if (failures) failuresLeftOut = (value as JsonValue[]).length - failures.length;
  }
  return { output: kept, output_omitted: { characters, fields, ...(failuresLeftOut > 0 ? { failures: failuresLeftOut } : {}), whole_output: whole } };
}

const cut = (value: JsonValue): JsonValue => (typeof value === 'string' && value.length > EXCERPT_CHARS ? `${value.slice(0, EXCERPT_CHARS)}…` : value);

// ---- the topology sources ------------------------------------------------------------------------------------------

/**
 * A topology source as `readTopology` gives it: its answer, `{error: {code, message}}` when it failed, or null when
 * this control plane has no such access. Either of the last two is an unavailable source, with the reason.
 */
export type SourceAnswer = JsonObject | null;

const workload = z.object({
  namespace: z.string(),
  name: z.string(),
  protected: z.boolean().default(false),
  replicas: z.number(),
  ready_replicas: z.number(),
  available_replicas: z.number(),
});
const kubernetesTopology = z.object({ cluster: z.string().nullable().default(null), deployments: z.array(workload), statefulsets: z.array(workload).default([]) });

const awsTopology = z.object({
  region: z.string().nullable().default(null),
  tag: z.string().optional(),
  instances: z.array(z.object({ instance_id: z.string(), state: z.string().nullable(), type: z.string().nullable().optional(), az: z.string().nullable().optional(), tags: z.record(z.string(), z.string()).optional() })),
  db_clusters: z.array(z.object({ db_cluster_identifier: z.string(), engine: z.string().nullable().optional(), status: z.string().nullable(), writer: z.string().nullable().optional(), members: z.array(z.string()).optional() })),
});

function unavailable(answer: SourceAnswer, access: string): JsonObject | undefined {
  if (answer === null) return { available: false, error: { code: 'NOT_CONFIGURED', message: `this control plane has no ${access} access configured` } };
  if (isObject(answer.error)) return { available: false, error: answer.error };
  return undefined;
}

function unexpected(access: string, error: z.ZodError): JsonObject {
  const problem = error.issues.map((issue) => `${issue.path.join('.') || '(answer)'}: ${issue.message}`).join('; ');
  return { available: false, error: { code: 'SOURCE_UNAVAILABLE', message: `the ${access} topology did not read as expected (${problem})` } };
}

/** Ready against desired replicas of each Deployment and StatefulSet (in `namespace`, when given). */
export function kubernetesSignals(answer: SourceAnswer, { namespace }: { namespace?: string } = {}): JsonObject {
  const missing = unavailable(answer, 'Kubernetes');
  if (missing) return missing;
  const parsed = kubernetesTopology.safeParse(answer);
  if (!parsed.success) return unexpected('Kubernetes', parsed.error);
  const shown = (workloads: z.infer<typeof workload>[]) =>
    workloads
      .filter((w) => namespace === undefined || w.namespace === namespace)
      .map((w) => ({ ...w, all_ready: w.ready_replicas >= w.replicas }));
  const { cluster, deployments, statefulsets } = parsed.data;
  return { available: true, cluster, deployments: shown(deployments), statefulsets: shown(statefulsets) };
}

/** The state of each EC2 instance and the status of each DB cluster tagged for chaos. */
export function awsSignals(answer: SourceAnswer): JsonObject {
  const missing = unavailable(answer, 'AWS');
  if (missing) return missing;
  const parsed = awsTopology.safeParse(answer);
  if (!parsed.success) return unexpected('AWS', parsed.error);
  return { available: true, ...(parsed.data as JsonObject) };
}
