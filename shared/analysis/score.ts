/**
 * The resilience score: one number from 0 to 100 for how well the system came through an experiment, computed from
 * what its journal records, with each part shown so a person can check it. The formula (README "Resilience score"):
 *
 *   score = round(100 × (0.4·S + 0.2·H + 0.2·R + 0.2·C))
 *
 *   S  steady state under the fault: for each probe, the share of its checks during and after the fault that were
 *      within tolerance; the probes' shares averaged, each probe weighted by its `weight` (1 unless the spec says)
 *   H  hypothesis: 1 when the experiment did not deviate, 0 when it did
 *   R  recovery against the expectation E: 1 when the system recovered within E, falling linearly to 0 at 3E, and 0
 *      when it never recovered. The recovery time is what the fault measured (a deleted replica's `recovered_after_ms`),
 *      else the time from the first check that failed to the next one that passed (0 when none failed). E is what the
 *      hypothesis tolerates: `health_check_interval × health_check_failure_threshold` seconds.
 *   C  rollback: the share of rollback steps that succeeded (1 when there were none to run)
 *
 * Each component is rounded to two places first, so the score can be worked out again from the components shown.
 * There is no score when no fault was applied (the steady state was not met first, the run was refused or stopped
 * before INJECT): nothing was tested.
 */
import * as z from 'zod';
import type { JsonObject, JsonValue } from '../journal/activity.js';
import { log } from '../observability/log.js';

export const SCORE_WEIGHTS = { steady_state: 0.4, hypothesis: 0.2, recovery: 0.2, rollback: 0.2 } as const;

export const resilienceScoreSchema = z.object({
  experiment_id: z.string(),
  score: z.number().int().min(0).max(100),
  components: z.object({
    steady_state: z.number().min(0).max(1),
    hypothesis: z.number().min(0).max(1),
    recovery: z.number().min(0).max(1),
    rollback: z.number().min(0).max(1),
  }),
  /** The recovery time (ms) and its expectation, when there was something to recover from. */
  recovery: z.object({ measured_ms: z.number().nullable(), expected_ms: z.number(), source: z.enum(['fault', 'probes', 'none']) }),
  /** One sentence per component, in the order of the formula. */
  explanation: z.array(z.string()),
  /** What the trend groups by. */
  target: z.string(),
  service: z.string(),
  chaos_type: z.string(),
  status: z.string(),
  ended_at: z.string(),
});
export type ResilienceScore = z.infer<typeof resilienceScoreSchema>;

/** Why an experiment has no score. */
export class NoScoreError extends Error {
  override readonly name = 'NoScoreError';
}

interface ProbeCheck {
  name: string;
  met: boolean;
  at: number;
}

const obj = (value: unknown): JsonObject => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : {});
const arr = (value: unknown): JsonValue[] => (Array.isArray(value) ? (value as JsonValue[]) : []);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const round2 = (value: number) => Math.round(value * 100) / 100;

/** The score of a finished experiment from its journal (either layout: both keep `steady_states`, `run`, `rollbacks`). */
export function resilienceScore(journal: JsonObject): ResilienceScore {
  const duck = obj(journal.chaosduck);
  const experiment = obj(journal.experiment);
  const id = String(duck.id ?? '');
  const faults = arr(journal.run).map(obj).filter((record) => obj(record.activity).type === 'action');
  if (!faults.some((record) => record.status === 'succeeded')) {
    throw new NoScoreError(`experiment ${id} applied no fault (status ${String(journal.status)}, ${String(duck.reason ?? 'no reason recorded')}): nothing was tested, so it has no score`);
  }
  const safety = obj(experiment.safety);
  const weights = probeWeights(experiment);

  // S: the checks made while the fault was in place and after it.
  const states = obj(journal.steady_states);
  const checks: ProbeCheck[] = [...arr(states.during).flatMap((tick) => arr(obj(tick).probes)), ...arr(obj(states.after).probes)].map((record) => {
    const r = obj(record);
    return { name: String(obj(r.activity).name ?? ''), met: r.tolerance_met === true, at: Date.parse(String(r.start ?? '')) || 0 };
  });
  const byProbe = new Map<string, ProbeCheck[]>();
  for (const check of checks) {
    const list = byProbe.get(check.name);
    if (list) list.push(check);
    else byProbe.set(check.name, [check]);
  }
  let weighted = 0;
  let total = 0;
  for (const [name, list] of byProbe) {
    const weight = weights.get(name) ?? 1;
    weighted += weight * (list.filter((c) => c.met).length / list.length);
    total += weight;
  }
  const steady = total > 0 ? weighted / total : 1;

  // H
  const deviated = journal.deviated === true;

  // R
  const expectedMs = (num(safety.health_check_interval) ?? 10) * (num(safety.health_check_failure_threshold) ?? 3) * 1000;
  const measured = recoveryTime(journal, checks);
  const recovery = measured.ms === undefined ? 0 : measured.ms <= expectedMs ? 1 : Math.max(0, 1 - (measured.ms - expectedMs) / (2 * expectedMs));

  // C
  const steps = arr(journal.rollbacks).map(obj).filter((record) => record.status === 'succeeded' || record.status === 'failed');
  const rollback = steps.length === 0 ? 1 : steps.filter((record) => record.status === 'succeeded').length / steps.length;

  const components = { steady_state: round2(steady), hypothesis: deviated ? 0 : 1, recovery: round2(recovery), rollback: round2(rollback) };
  const score = Math.round(
    100 *
      (SCORE_WEIGHTS.steady_state * components.steady_state +
        SCORE_WEIGHTS.hypothesis * components.hypothesis +
        SCORE_WEIGHTS.recovery * components.recovery +
        SCORE_WEIGHTS.rollback * components.rollback),
  );
  const failedChecks = checks.filter((c) => !c.met).length;
  return {
    experiment_id: id,
    score,
    components,
    recovery: { measured_ms: measured.ms ?? null, expected_ms: expectedMs, source: measured.source },
    explanation: [
      checks.length === 0
        ? 'steady state: no probe was checked during or after the fault (counted as held)'
        : `steady state: ${checks.length - failedChecks} of ${checks.length} checks during and after the fault were within tolerance (${pct(components.steady_state)} weighted by probe)`,
      deviated ? 'hypothesis: the experiment deviated from its steady state' : 'hypothesis: held',
      measured.ms === undefined
        ? `recovery: the system did not recover before the experiment ended (expected within ${seconds(expectedMs)})`
        : `recovery: ${seconds(measured.ms)} (${measured.source === 'fault' ? 'measured by the fault' : measured.source === 'probes' ? 'from the first failed check to the next passing one' : 'no check failed'}) against ${seconds(expectedMs)} expected`,
      steps.length === 0 ? 'rollback: nothing to roll back' : `rollback: ${steps.filter((s) => s.status === 'succeeded').length} of ${steps.length} steps succeeded`,
    ],
    ...groups(journal),
    status: String(journal.status ?? duck.status ?? 'unknown'),
    ended_at: String(journal.end ?? ''),
  };
}

/**
 * The score of an experiment that tested something, `undefined` for one that applied no fault. Scoring never fails an
 * experiment's finish: a journal it cannot read is logged and left unscored.
 */
export function scoreIfTested(journal: JsonObject): ResilienceScore | undefined {
  try {
    return resilienceScore(journal);
  } catch (error) {
    if (!(error instanceof NoScoreError)) log.error(`resilience score: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

/** What the fault measured (the longest, when several targets recovered), else the probes' timeline. */
function recoveryTime(journal: JsonObject, checks: ProbeCheck[]): { ms?: number; source: 'fault' | 'probes' | 'none' } {
  const reported = arr(journal.rollbacks)
    .map((record) => num(obj(obj(record).output).recovered_after_ms))
    .filter((ms): ms is number => ms !== undefined);
  if (reported.length > 0) return { ms: Math.max(...reported), source: 'fault' };
  const ordered = [...checks].sort((a, b) => a.at - b.at);
  const firstFailed = ordered.findIndex((c) => !c.met);
  if (firstFailed < 0) return { ms: 0, source: 'none' };
  const recovered = ordered.slice(firstFailed).find((c) => c.met);
  return recovered ? { ms: recovered.at - (ordered[firstFailed] as ProbeCheck).at, source: 'probes' } : { source: 'probes' };
}

function probeWeights(experiment: JsonObject): Map<string, number> {
  return new Map(arr(experiment.probes).map((p) => [String(obj(p).name ?? ''), num(obj(p).weight) ?? 1]));
}

/** The target, service and chaos type the trend groups this experiment under. */
function groups(journal: JsonObject): { target: string; service: string; chaos_type: string } {
  const experiment = obj(journal.experiment);
  const target = obj(experiment.target);
  const labels = obj(target.labels);
  const planned = arr(obj(obj(journal.chaosduck).plan).targets).map((t) => String(obj(t).id ?? ''));
  const provider = String(target.provider ?? 'chaostoolkit');
  const selector = Object.keys(labels).length > 0 ? Object.entries(labels).map(([k, v]) => `${k}=${String(v)}`).sort().join(',') : planned.join(',');
  const namespace = typeof target.namespace === 'string' ? `${target.namespace}/` : '';
  return {
    target: `${provider}:${namespace}${selector || String(experiment.title ?? experiment.name ?? '')}`,
    service: String(labels.app ?? labels['app.kubernetes.io/name'] ?? target.namespace ?? experiment.title ?? experiment.name ?? provider),
    chaos_type: String(experiment.chaos_type ?? 'chaostoolkit'),
  };
}

const pct = (share: number) => `${Math.round(share * 100)} %`;
const seconds = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`);
