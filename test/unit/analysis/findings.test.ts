/**
 * The offline analysis of a journal: the probes' checks and latencies, what they mean, and what to do next.
 */
import { describe, expect, it } from 'vitest';
import { analyzeJournal } from '../../../shared/analysis/findings.js';
import type { JsonObject } from '../../../shared/journal/activity.js';

const at = (s: number) => new Date(Date.parse('2026-03-01T10:00:00.000Z') + s * 1000).toISOString();
const check = (name: string, met: boolean, s: number, latency: number) => ({ activity: { type: 'probe', name }, start: at(s), tolerance_met: met, output: { status: met ? 200 : 503, latency_ms: latency } });

function journal(fields: Record<string, unknown>): JsonObject {
  return {
    experiment: { name: 'web-kill', chaos_type: 'pod_delete', target: { provider: 'kubernetes', namespace: 'shop', labels: { app: 'web' } }, safety: { health_check_interval: 2, health_check_failure_threshold: 2 } },
    status: 'completed',
    deviated: false,
    end: at(60),
    steady_states: { before: { steady_state_met: true, probes: [] }, during: [], after: { probes: [] } },
    run: [{ activity: { type: 'action', name: 'pod_delete shop/web-1' }, status: 'succeeded' }],
    rollbacks: [{ activity: { name: 'rollback await_replica_recovery shop/web-1' }, status: 'succeeded', output: { recovered_after_ms: 1200 } }],
    chaosduck: { id: 'exp-1', hypothesis: { statement: 'the shop keeps answering' } },
    ...fields,
  } as unknown as JsonObject;
}

describe('analysing a journal offline', () => {
  it('reads a deviated run: which probe failed, how long in a row, its latencies, and the remedy for the fault', () => {
    const analysis = analyzeJournal(
      journal({
        status: 'failed',
        deviated: true,
        steady_states: {
          before: { steady_state_met: true, probes: [] },
          during: [{ probes: [check('home', true, 10, 20)] }, { probes: [check('home', false, 20, 900)] }, { probes: [check('home', false, 30, 950)] }],
          after: { probes: [check('home', true, 40, 25)] },
        },
      }),
    );

    expect(analysis.hypothesis).toEqual({ statement: 'the shop keeps answering', held: false, verdict: 'did not hold: home failed during or after the fault' });
    expect(analysis.probes).toEqual([{ name: 'home', checks: 4, passed: 2, failed: 2, longest_failing_streak: 2, first_failure_at: at(20), latency_ms: { min: 20, median: 900, p95: 950, max: 950 } }]);
    expect(analysis.findings[0]).toEqual({ severity: 'critical', about: 'steady_state', text: `home failed 2 of 4 checks during and after the fault (at most 2 in a row), first at ${at(20)}` });
    expect(analysis.recommendations).toContain(
      'run more than one ready replica behind the service, with a PodDisruptionBudget and a readiness probe, so losing a pod never takes the service down',
    );
    // S = 2/4, H = 0, R = 1 (1.2 s measured by the fault, 4 s tolerated), C = 1: 100 × (0.2 + 0 + 0.2 + 0.2) = 60
    expect(analysis.summary).toBe('web-kill: pod_delete was applied; the experiment ended failed, deviated from its steady state; resilience 60/100.');
  });

  it('puts a failed rollback first: the fault may still be in place', () => {
    const analysis = analyzeJournal(
      journal({ rollbacks: [{ activity: { name: 'rollback remove_proxy_fault shop/web-1' }, status: 'failed', exception: ['connection refused'] }] }),
    );

    expect(analysis.findings).toContainEqual({ severity: 'critical', about: 'rollback', text: 'rollback step "rollback remove_proxy_fault shop/web-1" failed: the fault may still be in place (connection refused)' });
    expect(analysis.recommendations[0]).toMatch(/^check the target of each failed rollback step now/);
  });

  it('says what a run without probes cannot show, and that an untested one was not tested', () => {
    const blind = analyzeJournal(journal({}));
    const untested = analyzeJournal(journal({ status: 'aborted', run: [], steady_states: { before: { steady_state_met: false, probes: [] } }, chaosduck: { id: 'exp-2', reason: 'steady_state_not_met' } }));

    expect(blind.findings).toContainEqual(expect.objectContaining({ about: 'coverage', severity: 'warning' }));
    expect(blind.hypothesis.verdict).toBe('held: every check during and after the fault was within tolerance');
    expect(untested.hypothesis).toMatchObject({ held: false, verdict: 'not tested: no fault was applied' });
    expect(untested.score).toBeNull();
    expect(untested.recommendations).toEqual(['fix what the probe reports (or the probe itself) before running this experiment again']);
  });

  // A prometheus probe's checks: its value against its tolerance, as the probe records them.
  const value = (met: boolean, s: number, v: number) => ({ activity: { type: 'probe', name: 'errors' }, start: at(s), tolerance_met: met, output: { value: v, tolerance: { lt: 0.05 }, failures: [] } });

  it('says how far a measured value went past its tolerance, and which stop condition halted the run', () => {
    const fired = { probe: 'errors', query: 'sum(rate(errors_total[1m]))', value: 0.4, reason: '{} = 0.4, expected < 0.05' };
    const analysis = analyzeJournal(
      journal({
        status: 'rolled_back',
        deviated: true,
        steady_states: { before: { steady_state_met: true, probes: [] }, during: [{ probes: [value(true, 10, 0.01)] }, { probes: [value(false, 20, 0.4)] }, { probes: [value(false, 30, 0.2)] }] },
        chaosduck: { id: 'exp-3', phases: [{ phase: 'OBSERVE', status: 'failed', detail: { halted: true, stop_condition: [fired] } }] },
      }),
    );

    expect(analysis.findings.slice(0, 3)).toEqual([
      { severity: 'critical', about: 'steady_state', text: `errors failed 2 of 3 checks during and after the fault (at most 2 in a row), first at ${at(20)}` },
      { severity: 'critical', about: 'steady_state', text: `errors read 0.4 at worst under the fault, against a tolerance of < 0.05 (at ${at(20)})` },
      { severity: 'critical', about: 'steady_state', text: 'a stop condition halted the experiment under the fault: Prometheus probe errors: {} = 0.4, expected < 0.05' },
    ]);
    expect(analysis.probes[0]).toMatchObject({ name: 'errors', latency_ms: null });
  });

  it('reads the worst value under the fault from the checks during it, and names a value out of tolerance after it as such', () => {
    const analysis = analyzeJournal(
      journal({
        status: 'completed',
        deviated: true,
        steady_states: { before: { steady_state_met: true, probes: [] }, during: [{ probes: [value(true, 10, 0.01)] }, { probes: [value(false, 20, 0.2)] }], after: { probes: [value(false, 40, 0.4)] } },
      }),
    );

    expect(analysis.findings.filter((f) => f.text.includes(' read '))).toEqual([
      { severity: 'critical', about: 'steady_state', text: `errors read 0.2 at worst under the fault, against a tolerance of < 0.05 (at ${at(20)})` },
      { severity: 'critical', about: 'steady_state', text: `errors read 0.4 after the fault, against a tolerance of < 0.05 (at ${at(40)})` },
    ]);
  });

  it('says nothing of a value under the fault when only the check after it was out of tolerance', () => {
    const analysis = analyzeJournal(
      journal({ steady_states: { before: { steady_state_met: true, probes: [] }, during: [{ probes: [value(true, 10, 0.01)] }], after: { probes: [value(false, 40, 0.4)] } } }),
    );

    expect(analysis.findings.map((f) => f.text).filter((text) => text.startsWith('errors'))).toEqual([
      `errors failed 1 of 2 checks during and after the fault (at most 1 in a row), first at ${at(40)}`,
      `errors read 0.4 after the fault, against a tolerance of < 0.05 (at ${at(40)})`,
    ]);
  });
});
