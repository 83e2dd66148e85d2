/**
 * What an experiment's journal shows, worked out offline: what happened, whether the hypothesis held and why (each
 * probe's checks and latencies over time, the recovery time against its expectation, each rollback step), and what
 * to do next. The rules analyst answers with this; Claude's answer has the same shape and starts from it.
 */
import * as z from 'zod';
import type { JsonObject, JsonValue } from '../journal/activity.js';
import { valueToleranceSchema, type ValueTolerance } from '../model/experiment.js';
import { describeStopConditions, type FiredStopCondition } from '../probes/stop-condition.js';
import { breach, describeTolerance, withinTolerance } from '../probes/value-tolerance.js';
import { NoScoreError, resilienceScore, resilienceScoreSchema } from './score.js';

const latencyStats = z.object({ min: z.number(), median: z.number(), p95: z.number(), max: z.number() });

export const experimentAnalysisSchema = z.object({
  experiment_id: z.string(),
  summary: z.string().min(1).max(2000),
  hypothesis: z.object({ statement: z.string(), held: z.boolean(), verdict: z.string().min(1).max(1000) }),
  probes: z.array(
    z.object({
      name: z.string(),
      checks: z.number().int(),
      passed: z.number().int(),
      failed: z.number().int(),
      longest_failing_streak: z.number().int(),
      first_failure_at: z.string().nullable(),
      latency_ms: latencyStats.nullable(),
    }),
  ),
  findings: z
    .array(z.object({ severity: z.enum(['info', 'warning', 'critical']), about: z.enum(['steady_state', 'recovery', 'rollback', 'fault', 'coverage']), text: z.string().min(1).max(1000) }))
    .max(30),
  recommendations: z.array(z.string().min(1).max(1000)).max(15),
  score: resilienceScoreSchema.nullable(),
});
export type ExperimentAnalysis = z.infer<typeof experimentAnalysisSchema>;

const obj = (value: unknown): JsonObject => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : {});
const arr = (value: unknown): JsonValue[] => (Array.isArray(value) ? (value as JsonValue[]) : []);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** What to do about a fault the system did not ride out, by chaos type. */
const REMEDIES: Record<string, string> = {
  pod_delete: 'run more than one ready replica behind the service, with a PodDisruptionBudget and a readiness probe, so losing a pod never takes the service down',
  network_latency: 'give every call to this dependency a timeout shorter than the caller\'s own budget, and retries with backoff and a retry budget',
  network_loss: 'retry idempotent calls with backoff and jitter, and keep connection pools able to replace broken connections',
  cpu_stress: 'set CPU requests and limits that leave headroom, and scale out on CPU (a HorizontalPodAutoscaler) before saturation',
  memory_stress: 'set memory limits with headroom and watch for OOM kills; shed load before memory runs out',
  ec2_stop: 'run the instances in an Auto Scaling group across Availability Zones with health checks, behind a load balancer that stops routing to a stopped instance',
  rds_failover: 'make clients reconnect on failover (short DNS TTLs, connection retry) and keep write paths idempotent across a reconnect',
  route_blackhole: 'spread the service over subnets in more than one Availability Zone, and make it fail over when one subnet is cut off',
};

export function analyzeJournal(journal: JsonObject): ExperimentAnalysis {
  const duck = obj(journal.chaosduck);
  const experiment = obj(journal.experiment);
  const id = String(duck.id ?? '');
  const chaosType = String(experiment.chaos_type ?? 'chaostoolkit');
  const name = String(experiment.name ?? experiment.title ?? id);
  const status = String(journal.status ?? duck.status ?? 'unknown');
  const deviated = journal.deviated === true;
  const states = obj(journal.steady_states);
  const before = obj(states.before);

  // Each probe's checks during and after the fault, in time order: the words of a finding say which of them it read.
  const checksOf = (when: 'during' | 'after', checks: JsonValue[]) => checks.map((record) => ({ when, record: obj(record) }));
  const records = [...checksOf('during', arr(states.during).flatMap((tick) => arr(obj(tick).probes))), ...checksOf('after', arr(obj(states.after).probes))];
  const byProbe = new Map<string, JsonObject[]>();
  // Probes that measure a value against a tolerance (prometheus): the worst value each one read under the fault, and
  // what it read after it.
  const worstValues = { during: new Map<string, WorstValue>(), after: new Map<string, WorstValue>() };
  for (const { when, record } of records) {
    const probe = String(obj(record.activity).name ?? '');
    const list = byProbe.get(probe);
    if (list) list.push(record);
    else byProbe.set(probe, [record]);
    const output = obj(record.output);
    const value = num(output.value);
    const tolerance = valueToleranceSchema.safeParse(output.tolerance);
    const worst = worstValues[when].get(probe);
    if (value === undefined || !tolerance.success || (worst && breach(value, tolerance.data) <= breach(worst.value, worst.tolerance))) continue;
    worstValues[when].set(probe, { value, tolerance: tolerance.data, at: String(record.start ?? '') });
  }
  const probes = [...byProbe].map(([probe, list]) => {
    const ordered = [...list].sort((a, b) => String(a.start).localeCompare(String(b.start)));
    let streak = 0;
    let longest = 0;
    for (const check of ordered) {
      streak = check.tolerance_met === true ? 0 : streak + 1;
      longest = Math.max(longest, streak);
    }
    const latencies = ordered.map((check) => num(obj(check.output).latency_ms)).filter((ms): ms is number => ms !== undefined);
    const failed = ordered.filter((check) => check.tolerance_met !== true);
    return {
      name: probe,
      checks: ordered.length,
      passed: ordered.length - failed.length,
      failed: failed.length,
      longest_failing_streak: longest,
      first_failure_at: failed[0] ? String(failed[0].start ?? '') || null : null,
      latency_ms: latencies.length > 0 ? stats(latencies) : null,
    };
  });

  let score: ExperimentAnalysis['score'] = null;
  try {
    score = resilienceScore(journal);
  } catch (error) {
    if (!(error instanceof NoScoreError)) throw error;
  }

  const findings: ExperimentAnalysis['findings'] = [];
  const recommendations: string[] = [];
  const faultApplied = arr(journal.run).some((record) => obj(obj(record).activity).type === 'action' && obj(record).status === 'succeeded');

  if (before.steady_state_met === false) {
    findings.push({ severity: 'warning', about: 'steady_state', text: 'the steady state was not met before the fault, so no fault was applied: the system was already unhealthy, or the probe is wrong' });
    recommendations.push('fix what the probe reports (or the probe itself) before running this experiment again');
  } else if (!faultApplied) {
    findings.push({ severity: 'info', about: 'fault', text: `no fault was applied (${status}, ${String(duck.reason ?? 'no reason recorded')}${duck.error ? `: ${String(duck.error)}` : ''})` });
  }
  for (const probe of probes.filter((p) => p.failed > 0)) {
    findings.push({
      severity: deviated ? 'critical' : 'warning',
      about: 'steady_state',
      text: `${probe.name} failed ${probe.failed} of ${probe.checks} checks during and after the fault (at most ${probe.longest_failing_streak} in a row), first at ${probe.first_failure_at}`,
    });
    for (const [when, words] of [['during', 'at worst under the fault'], ['after', 'after the fault']] as const) {
      const worst = worstValues[when].get(probe.name);
      if (!worst || withinTolerance(worst.value, worst.tolerance)) continue;
      findings.push({
        severity: deviated ? 'critical' : 'warning',
        about: 'steady_state',
        text: `${probe.name} read ${worst.value} ${words}, against a tolerance of ${describeTolerance(worst.tolerance)} (at ${worst.at})`,
      });
    }
  }
  const fired = stopConditionsFired(journal);
  if (fired.length > 0) {
    findings.push({ severity: 'critical', about: 'steady_state', text: `a stop condition halted the experiment under the fault: ${describeStopConditions(fired)}` });
  }
  for (const probe of probes.filter((p) => p.latency_ms && p.latency_ms.p95 > 2 * p.latency_ms.median && p.latency_ms.p95 >= 100)) {
    findings.push({ severity: 'warning', about: 'steady_state', text: `${probe.name}'s latency spread during and after the fault: median ${probe.latency_ms?.median} ms, p95 ${probe.latency_ms?.p95} ms, max ${probe.latency_ms?.max} ms` });
  }
  if (score && score.recovery.measured_ms !== null && score.recovery.measured_ms > score.recovery.expected_ms) {
    findings.push({ severity: 'warning', about: 'recovery', text: `recovery took ${score.recovery.measured_ms} ms against ${score.recovery.expected_ms} ms the hypothesis tolerates` });
    recommendations.push('find what slows recovery (image pulls, start-up work, readiness delays, caches warming up) and shorten it, or tolerate more failing checks if the slower recovery is acceptable');
  } else if (score && score.recovery.measured_ms === null) {
    findings.push({ severity: 'critical', about: 'recovery', text: 'the system did not recover before the experiment ended' });
  }
  const rollbacks = arr(journal.rollbacks).map(obj);
  const failedSteps = rollbacks.filter((record) => record.status === 'failed');
  for (const step of failedSteps) {
    findings.push({ severity: 'critical', about: 'rollback', text: `rollback step "${String(obj(step.activity).name ?? '')}" failed: the fault may still be in place (${arr(step.exception).join(' ').slice(0, 300) || 'see the journal'})` });
  }
  if (failedSteps.length > 0) recommendations.unshift('check the target of each failed rollback step now and undo its fault by hand; its lease is kept until then, so no other experiment piles on');
  if (deviated && REMEDIES[chaosType]) recommendations.push(REMEDIES[chaosType] as string);
  if (probes.length === 0 && faultApplied) {
    findings.push({ severity: 'warning', about: 'coverage', text: 'no probe checked the steady state while the fault was in place: the experiment shows the fault and its rollback work, not how the system behaved' });
    recommendations.push('add a probe of what users see (an http probe on the service, a CloudWatch alarm) to learn how the system behaves under the fault');
  }
  if (!deviated && faultApplied && failedSteps.length === 0 && probes.length > 0) {
    recommendations.push('the system rode this out: widen the experiment next (a larger blast radius, a longer duration, or the next fault on the same service)');
  }

  const statement = String(obj(duck.hypothesis).statement ?? obj(experiment['steady-state-hypothesis']).title ?? '');
  const held = faultApplied && !deviated;
  const failing = probes.filter((p) => p.failed > 0).map((p) => p.name);
  return {
    experiment_id: id,
    summary: `${name}: ${faultApplied ? `${chaosType} was applied` : 'no fault was applied'}; the experiment ended ${status}${deviated ? ', deviated from its steady state' : ''}${score ? `; resilience ${score.score}/100` : ''}.`,
    hypothesis: {
      statement,
      held,
      verdict: !faultApplied
        ? 'not tested: no fault was applied'
        : held
          ? failing.length > 0
            ? `held: ${failing.join(', ')} failed some checks but never enough in a row to deviate`
            : 'held: every check during and after the fault was within tolerance'
          : `did not hold: ${failing.length > 0 ? `${failing.join(', ')} failed during or after the fault` : 'the steady state was lost'}`,
    },
    probes,
    findings,
    recommendations,
    score,
  };
}

interface WorstValue {
  value: number;
  tolerance: ValueTolerance;
  at: string;
}

/** The stop conditions OBSERVE recorded as fired, as `firedStopConditions` wrote them. */
function stopConditionsFired(journal: JsonObject): FiredStopCondition[] {
  const observe = arr(obj(journal.chaosduck).phases).map(obj).find((phase) => phase.phase === 'OBSERVE');
  return arr(obj(observe?.detail).stop_condition)
    .map(obj)
    .filter((f) => typeof f.probe === 'string' && (typeof f.alarm_name === 'string' || typeof f.query === 'string')) as unknown as FiredStopCondition[];
}

function stats(values: number[]): { min: number; median: number; p95: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  return { min: sorted[0] as number, median: at(0.5), p95: at(0.95), max: sorted.at(-1) as number };
}
