/**
 * What a journal shows over time, for the report's charts: when each phase ran, when each fault was applied and each
 * rollback step played, every probe check with its value or latency against its tolerance, and how long each target
 * took to come back. Read from either journal: ChaosDuck's (`chaosduck.phases`) and the real Chaos Toolkit's (whose
 * phases are worked out from its activities: the steady state checked before, the method, the steady state after,
 * the rollbacks).
 */
import type { JsonObject, JsonValue } from '../journal/activity.js';
import { exactNumber, formatDuration, formatValue, type Span, type Tolerance } from './charts.js';

/** One probe check, as the probe chart plots it. */
export interface ProbeCheck {
  at: number;
  /** The probe's value, or its latency in ms; null when a value series' check gave no value. */
  y: number | null;
  failed: boolean;
  label: string;
}

export interface ProbeSeries {
  name: string;
  /**
   * `value`: a probe that reads a value (a `prometheus` probe, an output with a `value`, or a number), even when no
   * check got one; `latency`: how long each check took.
   */
  measure: 'value' | 'latency';
  checks: ProbeCheck[];
  tolerance?: Tolerance;
}

export interface JournalTimeline {
  /** Epoch ms: the experiment's start and end (the first and last thing recorded when the journal lacks them). */
  start: number;
  end: number;
  phases: Span[];
  faults: Span[];
  checks: Span[];
  rollbacks: Span[];
  /** From each fault to its target's recovery, as the fault measured it (`recovered_after_ms`). */
  recoveries: Span[];
  probes: ProbeSeries[];
  /** From the first fault applied to the end of the last rollback step (or of the experiment). */
  faultWindow: { start: number; end: number } | null;
}

const obj = (value: unknown): JsonObject => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : {});
const arr = (value: unknown): JsonValue[] => (Array.isArray(value) ? (value as JsonValue[]) : []);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const time = (value: unknown): number | undefined => {
  const parsed = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isNaN(parsed) ? undefined : parsed;
};

/** An activity record's start and end; undefined when it has no readable start. */
function extent(record: JsonObject): { start: number; end: number } | undefined {
  const start = time(record.start);
  if (start === undefined) return undefined;
  const end = time(record.end) ?? (num(record.duration) !== undefined ? start + (num(record.duration) as number) * 1000 : start);
  return { start, end: Math.max(end, start) };
}

const activityName = (record: JsonObject) => String(obj(record.activity).name ?? '');
const exception = (record: JsonObject) => arr(record.exception).map(String).join(' ').trim().slice(0, 200);
/** Why a check failed: its exception, else the first failure its output names (a probe that measured and judged). */
const whyFailed = (record: JsonObject) => exception(record) || String(arr(obj(record.output).failures)[0] ?? '').slice(0, 200);

/**
 * The least and greatest of some numbers, by a loop: a day of checks every second is far more arguments than
 * `Math.min(...)` can take (it overflows the call stack).
 */
function bounds(values: Iterable<number>): { min: number; max: number } | undefined {
  let found: { min: number; max: number } | undefined;
  for (const value of values) {
    if (!found) found = { min: value, max: value };
    else if (value < found.min) found.min = value;
    else if (value > found.max) found.max = value;
  }
  return found;
}

export function journalTimeline(journal: JsonObject): JournalTimeline {
  const states = obj(journal.steady_states);
  const before = arr(obj(states.before).probes).map(obj);
  const during = arr(states.during).flatMap((tick) => {
    const when = obj(tick).tick === undefined ? 'during the fault' : `during the fault (tick ${String(obj(tick).tick)})`;
    return arr(obj(tick).probes).map((probe) => ({ probe: obj(probe), when }));
  });
  const after = arr(obj(states.after).probes).map(obj);
  const run = arr(journal.run).map(obj);
  const rollbackRecords = arr(journal.rollbacks).map(obj);

  // Every probe check in time order, whichever part of the journal it sits in (a Chaos Toolkit method may probe too).
  const checked = [
    ...before.map((probe) => ({ probe, when: 'before the fault' })),
    ...during,
    ...after.map((probe) => ({ probe, when: 'after the fault' })),
    ...run.filter((record) => obj(record.activity).type === 'probe').map((probe) => ({ probe, when: 'in the method' })),
  ].flatMap(({ probe, when }) => {
    const span = extent(probe);
    return span ? [{ probe, when, ...span }] : [];
  });
  checked.sort((a, b) => a.start - b.start);

  const spanOf = (record: JsonObject, kind: string, failed: boolean, detail?: string): Span[] => {
    const span = extent(record);
    return span ? [{ ...span, label: activityName(record) || kind, kind, failed, ...(detail ? { detail } : {}) }] : [];
  };
  const actions = run.filter((record) => obj(record.activity).type !== 'probe');
  const faults = actions.flatMap((record) => spanOf(record, 'fault', record.status !== 'succeeded', exception(record) || undefined));
  const rollbacks = rollbackRecords.flatMap((record) => spanOf(record, 'rollback', record.status === 'failed', exception(record) || undefined));
  const checks = checked.map(({ probe, when, start, end }) => ({ start, end, label: activityName(probe), kind: 'check', failed: failedCheck(probe), detail: when }));

  const recordedPhases = arr(obj(journal.chaosduck).phases).map(obj);
  const phases = recordedPhases.length > 0 ? phasesRecorded(recordedPhases) : phasesFromActivities(before, after, faults, rollbacks, checks);
  const known = bounds([faults, rollbacks, checks, phases].flatMap((spans) => spans.flatMap((span) => [span.start, span.end])));
  const start = time(journal.start) ?? known?.min ?? 0;
  const end = Math.max(time(journal.end) ?? start, known?.max ?? start);

  // Recovery as each fault measured it, from the fault that hit the same target (else the first fault).
  const recoveries = rollbackRecords.flatMap((record): Span[] => {
    const ms = num(obj(record.output).recovered_after_ms);
    if (ms === undefined) return [];
    const target = String(obj(obj(record.activity).provider).target ?? '');
    const fault = actions.find((action) => target !== '' && obj(obj(action.activity).provider).target === target) ?? actions[0];
    const from = fault ? extent(fault)?.end : undefined;
    if (from === undefined) return [];
    const label = target || activityName(record);
    return [{ start: from, end: from + ms, label, kind: 'recovery', detail: `back ${formatDuration(ms)} after the fault` }];
  });

  const applied = faults.filter((fault) => !fault.failed);
  const faultWindow = applied.length > 0 ? { start: bounds(applied.map((f) => f.start))?.min as number, end: bounds(rollbacks.map((r) => r.end))?.max ?? end } : null;
  return { start, end, phases, faults, checks, rollbacks, recoveries, probes: probeSeries(checked), faultWindow };
}

const failedCheck = (probe: JsonObject) => probe.tolerance_met === false || probe.status === 'failed';

function phasesRecorded(phases: JsonObject[]): Span[] {
  return phases.flatMap((phase): Span[] => {
    const start = time(phase.start);
    if (start === undefined || phase.status === 'skipped') return [];
    return [{ start, end: Math.max(time(phase.end) ?? start, start), label: String(phase.phase ?? ''), kind: 'phase', failed: phase.status === 'failed', detail: String(phase.status ?? '') }];
  });
}

/** A Chaos Toolkit journal's phases, from what ran: the checks before, the method, the checks after, the rollbacks. */
function phasesFromActivities(before: JsonObject[], after: JsonObject[], faults: Span[], rollbacks: Span[], checks: Span[]): Span[] {
  const cover = (label: string, spans: { start: number; end: number; failed?: boolean }[], detail: string): Span[] =>
    spans.length > 0 ? [{ start: bounds(spans.map((s) => s.start))?.min as number, end: bounds(spans.map((s) => s.end))?.max as number, label, kind: 'phase', failed: spans.some((s) => s.failed), detail }] : [];
  const extents = (records: JsonObject[]) => records.flatMap((record) => {
    const span = extent(record);
    return span ? [{ ...span, failed: failedCheck(record) }] : [];
  });
  const methodChecks = checks.filter((check) => check.detail === 'in the method');
  return [
    ...cover('STEADY_STATE', extents(before), 'the steady-state hypothesis checked before the method'),
    ...cover('INJECT', [...faults, ...methodChecks], "the experiment's method"),
    ...cover('OBSERVE', extents(after), 'the steady-state hypothesis checked after the method'),
    ...cover('ROLLBACK', rollbacks, 'the rollbacks'),
  ];
}

/**
 * One series per probe: the values it read when it reads values (a check that got none kept as such, never as 0),
 * else how long each check took.
 */
function probeSeries(checked: { probe: JsonObject; when: string; start: number; end: number }[]): ProbeSeries[] {
  const byName = new Map<string, typeof checked>();
  for (const check of checked) {
    const name = activityName(check.probe);
    const list = byName.get(name);
    if (list) list.push(check);
    else byName.set(name, [check]);
  }
  return [...byName].map(([name, list]) => {
    const measure = list.some(({ probe }) => readsValue(probe)) ? 'value' : 'latency';
    const probes = list.map(({ probe }) => probe);
    const tolerance = measure === 'value' ? valueTolerance(probes) : latencyTolerance(probes);
    const limits = !tolerance ? [] : tolerance.kind === 'range' ? [tolerance.from, tolerance.to] : [tolerance.value];
    const checks = list.map(({ probe, when, start, end }): ProbeCheck => {
      const failed = failedCheck(probe);
      const y = measure === 'value' ? (valueOf(probe) ?? null) : (num(obj(probe.output).latency_ms) ?? end - start);
      // A value is written with the digits that put it on the right side of its tolerance's bounds.
      const shown = y === null ? 'no value' : measure === 'value' ? formatValue(y, limits) : `${formatValue(y, limits)} ms`;
      const why = failed ? ` — failed${whyFailed(probe) ? `: ${whyFailed(probe)}` : ''}` : '';
      return { at: start, y, failed, label: `${name} ${when}: ${shown}${why}` };
    });
    return { name, measure, checks, ...(tolerance ? { tolerance } : {}) };
  });
}

/** The number a check measured: its output when that is a number, or the output's `value` (the prometheus probe's). */
function valueOf(probe: JsonObject): number | undefined {
  return num(probe.output) ?? num(obj(probe.output).value);
}

/**
 * Whether a probe reads a value rather than answering in time: a `prometheus` probe, or an output that is a number or
 * has a `value` (null when the check got none: no series, an unreachable server).
 */
function readsValue(probe: JsonObject): boolean {
  const output = probe.output;
  return obj(obj(probe.activity).provider).type === 'prometheus' || typeof output === 'number' || Object.hasOwn(obj(output), 'value');
}

/**
 * What a value series tolerates: the tolerance the probe recorded beside its value (the prometheus probe's
 * `{equals | lt | gt | range}`, `lt` and `gt` together a band), or the activity's Chaos Toolkit tolerance when that
 * is a number or a `range` tolerance.
 */
function valueTolerance(probes: JsonObject[]): Tolerance | undefined {
  for (const probe of [...probes].reverse()) {
    const recorded = obj(obj(probe.output).tolerance);
    const [equals, lt, gt] = [num(recorded.equals), num(recorded.lt), num(recorded.gt)];
    const range = pair(recorded.range);
    if (equals !== undefined) return { kind: 'equals', value: equals, label: `= ${exactNumber(equals)}` };
    if (range) return { kind: 'range', from: range[0], to: range[1], label: `within [${exactNumber(range[0])}, ${exactNumber(range[1])}]` };
    if (lt !== undefined && gt !== undefined) return { kind: 'range', from: gt, to: lt, label: `> ${exactNumber(gt)} and < ${exactNumber(lt)}` };
    if (lt !== undefined) return { kind: 'max', value: lt, label: `< ${exactNumber(lt)}` };
    if (gt !== undefined) return { kind: 'min', value: gt, label: `> ${exactNumber(gt)}` };
    const declared = obj(probe.activity).tolerance;
    const declaredRange = obj(declared).type === 'range' ? pair(obj(declared).range) : undefined;
    if (declaredRange) return { kind: 'range', from: declaredRange[0], to: declaredRange[1], label: `within [${exactNumber(declaredRange[0])}, ${exactNumber(declaredRange[1])}]` };
    if (num(declared) !== undefined) return { kind: 'equals', value: declared as number, label: `= ${exactNumber(declared as number)}` };
  }
  return undefined;
}

/** A range as `[low, high]`, low first. */
function pair(value: unknown): [number, number] | undefined {
  const [a, b] = Array.isArray(value) ? value : [];
  const low = num(a);
  const high = num(b);
  return low !== undefined && high !== undefined ? [Math.min(low, high), Math.max(low, high)] : undefined;
}

/** An http probe's latency bound (`max_latency_ms` in what it ran). */
function latencyTolerance(probes: JsonObject[]): Tolerance | undefined {
  const max = probes.map((probe) => num(obj(obj(probe.activity).provider).max_latency_ms)).find((value) => value !== undefined);
  return max === undefined ? undefined : { kind: 'max', value: max, label: `at most ${exactNumber(max)} ms` };
}
