/**
 * What the lifecycle's events add to the metrics: one list of names, read the same by Prometheus and CloudWatch.
 */
import { describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../../shared/model/lifecycle.js';
import { METRICS, pointsOf } from '../../../shared/observability/metrics.js';

const event = (type: JournalEvent['type'], detail: JournalEvent['detail']): JournalEvent => ({ experimentId: 'exp-1', at: '2026-03-01T10:00:00.000Z', type, detail });

describe('metrics from lifecycle events', () => {
  it('counts starts, ends, faults, rollback steps and halts, and observes probe durations and the time to safe', () => {
    const points = pointsOf([
      event('experiment.started', { chaos_type: 'pod_delete' }),
      event('fault.applied', { chaos_type: 'pod_delete', record: { status: 'succeeded' } }),
      event('fault.applied', { chaos_type: 'pod_delete', record: { status: 'failed' } }),
      event('probe.result', { record: { activity: { provider: { type: 'http' } }, duration: 0.042, tolerance_met: true } }),
      event('phase.failed', { halted: true, stop_condition: { probe: 'alarm' } }),
      event('phase.failed', { halted: true, consecutiveFailures: 3 }),
      event('phase.failed', { timeout: true }),
      event('rollback.step', { state: 'done' }),
      event('rollback.step', { state: 'failed' }),
      event('experiment.finished', { status: 'emergency_stopped', chaos_type: 'pod_delete', safe_after_ms: 1500 }),
      event('hypothesis.formed', {}),
    ]);

    expect(points).toEqual([
      { metric: 'experimentsStarted', labels: { chaos_type: 'pod_delete' }, value: 1 },
      { metric: 'faultsApplied', labels: { chaos_type: 'pod_delete' }, value: 1 },
      { metric: 'probeDuration', labels: { probe_type: 'http', within_tolerance: 'true' }, value: 0.042 },
      { metric: 'autoHalts', labels: { cause: 'stop_condition' }, value: 1 },
      { metric: 'autoHalts', labels: { cause: 'failed_health_checks' }, value: 1 },
      { metric: 'rollbackSteps', labels: { outcome: 'done' }, value: 1 },
      { metric: 'rollbackSteps', labels: { outcome: 'failed' }, value: 1 },
      { metric: 'experimentsFinished', labels: { status: 'emergency_stopped', chaos_type: 'pod_delete' }, value: 1 },
      { metric: 'timeToSafe', labels: {}, value: 1.5 },
    ]);
  });

  it('names every metric chaosduck_…, a counter …_total, with the labels its points carry', () => {
    for (const definition of Object.values(METRICS)) {
      expect(definition.name).toMatch(/^chaosduck_[a-z_]+$/);
      expect(definition.name.endsWith('_total')).toBe(definition.kind === 'counter');
    }
  });
});
