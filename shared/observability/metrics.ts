/**
 * The control plane's metrics: one list of names, read from the lifecycle's own events, so the local runtime's
 * Prometheus endpoint (`GET /metrics`, prom-client) and CloudWatch in AWS (embedded metric format) count the same
 * things under the same names. `pointsOf` is pure: each adapter turns its points into its own calls.
 */
import type { JsonObject } from '../journal/activity.js';
import type { JournalEvent } from '../model/lifecycle.js';

export type MetricKind = 'counter' | 'histogram';

export interface MetricDefinition {
  name: string;
  help: string;
  kind: MetricKind;
  labels: readonly string[];
  /** The unit of a histogram's values (CloudWatch's `Seconds`), and its buckets for Prometheus. */
  buckets?: readonly number[];
}

export const METRICS = {
  experimentsStarted: { name: 'chaosduck_experiments_started_total', help: 'Experiments whose run started, by chaos type', kind: 'counter', labels: ['chaos_type'] },
  experimentsFinished: {
    name: 'chaosduck_experiments_finished_total',
    help: 'Experiments that ended, by final status and chaos type',
    kind: 'counter',
    labels: ['status', 'chaos_type'],
  },
  faultsApplied: { name: 'chaosduck_faults_applied_total', help: 'Faults applied to targets, by chaos type', kind: 'counter', labels: ['chaos_type'] },
  rollbackSteps: { name: 'chaosduck_rollback_steps_total', help: 'Rollback steps, by outcome (done, failed, skipped)', kind: 'counter', labels: ['outcome'] },
  timeToSafe: {
    name: 'chaosduck_emergency_stop_time_to_safe_seconds',
    help: 'From an emergency stop being raised to each running experiment having rolled back',
    kind: 'histogram',
    labels: [],
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
  },
  probeDuration: {
    name: 'chaosduck_probe_duration_seconds',
    help: 'How long each probe check took, by probe type and whether it was within tolerance',
    kind: 'histogram',
    labels: ['probe_type', 'within_tolerance'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  },
  autoHalts: { name: 'chaosduck_auto_halts_total', help: 'Experiments halted by their own steady-state checks, by cause', kind: 'counter', labels: ['cause'] },
} as const satisfies Record<string, MetricDefinition>;

export type MetricKey = keyof typeof METRICS;

export interface MetricPoint {
  metric: MetricKey;
  labels: Record<string, string>;
  /** 1 for a counter's increment; the observed value for a histogram. */
  value: number;
}

const obj = (value: unknown): JsonObject => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : {});
const label = (value: unknown, fallback = 'unknown') => (typeof value === 'string' && value !== '' ? value : fallback);

/** What a batch of lifecycle events adds to the metrics. */
export function pointsOf(events: readonly JournalEvent[]): MetricPoint[] {
  const points: MetricPoint[] = [];
  for (const event of events) {
    const detail = event.detail;
    switch (event.type) {
      case 'experiment.started':
        points.push({ metric: 'experimentsStarted', labels: { chaos_type: label(detail.chaos_type) }, value: 1 });
        break;
      case 'experiment.finished':
        points.push({ metric: 'experimentsFinished', labels: { status: label(detail.status), chaos_type: label(detail.chaos_type) }, value: 1 });
        if (typeof detail.safe_after_ms === 'number') points.push({ metric: 'timeToSafe', labels: {}, value: detail.safe_after_ms / 1000 });
        break;
      case 'fault.applied':
        // The event is written for a failed application too (the journal records it); only one that took counts.
        if (obj(detail.record).status === 'succeeded') points.push({ metric: 'faultsApplied', labels: { chaos_type: label(detail.chaos_type) }, value: 1 });
        break;
      case 'rollback.step':
        points.push({ metric: 'rollbackSteps', labels: { outcome: label(detail.state) }, value: 1 });
        break;
      case 'probe.result': {
        const record = obj(detail.record);
        if (typeof record.duration === 'number') {
          points.push({
            metric: 'probeDuration',
            labels: { probe_type: label(obj(obj(record.activity).provider).type), within_tolerance: String(record.tolerance_met === true) },
            value: record.duration,
          });
        }
        break;
      }
      case 'phase.failed':
        if (detail.halted === true) points.push({ metric: 'autoHalts', labels: { cause: detail.stop_condition ? 'stop_condition' : 'failed_health_checks' }, value: 1 });
        break;
      default:
        break;
    }
  }
  return points;
}
