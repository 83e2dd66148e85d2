/**
 * The resilience score's formula, by worked examples: each journal below is what the lifecycle records, cut to what
 * the score reads, and each expected number is worked out in the comment above it.
 */
import { describe, expect, it } from 'vitest';
import { NoScoreError, resilienceScore } from '../../../shared/analysis/score.js';
import type { JsonObject } from '../../../shared/journal/activity.js';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const check = (name: string, met: boolean, s: number) => ({ activity: { type: 'probe', name, provider: { type: 'http' } }, start: at(s), end: at(s), status: 'succeeded', tolerance_met: met });

function journal({
  during = [] as ReturnType<typeof check>[][],
  after = [] as ReturnType<typeof check>[],
  deviated = false,
  rollbacks = [{ status: 'succeeded', output: {} }] as JsonObject[],
  faultApplied = true,
  safety = { health_check_interval: 2, health_check_failure_threshold: 2 },
  probes = [] as JsonObject[],
} = {}): JsonObject {
  return {
    experiment: { name: 'web-kill', chaos_type: 'pod_delete', target: { provider: 'kubernetes', namespace: 'shop', labels: { app: 'web' } }, safety, probes },
    status: deviated ? 'failed' : 'completed',
    deviated,
    end: at(60),
    steady_states: { before: { steady_state_met: true, probes: [] }, during: during.map((probes, i) => ({ tick: i + 1, probes })), after: { probes: after } },
    run: [{ activity: { type: 'action', name: 'pod_delete' }, status: faultApplied ? 'succeeded' : 'failed' }],
    rollbacks,
    chaosduck: { id: 'exp-1', reason: 'hypothesis_held', plan: { targets: [{ id: 'shop/web-1' }] } },
  } as unknown as JsonObject;
}

describe('the resilience score', () => {
  it('is 100 when every check held, nothing deviated, nothing failed to recover, and the rollback was clean', () => {
    // S = 1, H = 1, R = 1 (no check failed: recovered in 0 ms), C = 1 → 100
    const score = resilienceScore(journal({ during: [[check('home', true, 10)], [check('home', true, 20)]], after: [check('home', true, 30)] }));

    expect(score).toMatchObject({ score: 100, components: { steady_state: 1, hypothesis: 1, recovery: 1, rollback: 1 } });
    expect(score.recovery).toEqual({ measured_ms: 0, expected_ms: 4000, source: 'none' });
    expect(score).toMatchObject({ target: 'kubernetes:shop/app=web', service: 'web', chaos_type: 'pod_delete', status: 'completed', experiment_id: 'exp-1' });
  });

  it('weights each probe alike however often it was checked, and takes the recovery a fault measured', () => {
    // home: 3 of 4 checks held (0.75); api: 1 of 2 (0.5) → S = (0.75 + 0.5) / 2 = 0.625
    // H = 1. The fault measured 5 s against E = 2 s × 2 = 4 s: R = 1 − (5 − 4) / (2 × 4) = 0.875. C = 1.
    // Components are shown to two places (0.63, 0.88) and the score is computed from what is shown:
    // 100 × (0.4 × 0.63 + 0.2 + 0.2 × 0.88 + 0.2) = 100 × (0.252 + 0.2 + 0.176 + 0.2) = 82.8 → 83
    const score = resilienceScore(
      journal({
        during: [
          [check('home', false, 10), check('api', false, 10)],
          [check('home', true, 20), check('api', true, 20)],
          [check('home', true, 30)],
        ],
        after: [check('home', true, 40)],
        rollbacks: [{ status: 'succeeded', output: { recovered_after_ms: 5000 } }],
      }),
    );

    expect(score.components).toEqual({ steady_state: 0.63, hypothesis: 1, recovery: 0.88, rollback: 1 });
    expect(score.score).toBe(83);
    expect(score.recovery).toEqual({ measured_ms: 5000, expected_ms: 4000, source: 'fault' });
    expect(score.explanation[2]).toBe('recovery: 5.0 s (measured by the fault) against 4.0 s expected');
  });

  it('takes the recovery from the probes when the fault measures none, and counts a probe by its weight', () => {
    // Probe timeline: failed at 10 s, passed at 16 s → recovered in 6 s; E = 4 s → R = 1 − 2/8 = 0.75.
    // home (weight 3): 2 of 3 held; api (weight 1): 1 of 1 → S = (3 × 2/3 + 1 × 1) / 4 = 0.75
    // deviated → H = 0. One of two rollback steps failed → C = 0.5.
    // 100 × (0.4 × 0.75 + 0 + 0.2 × 0.75 + 0.2 × 0.5) = 100 × (0.3 + 0.15 + 0.1) = 55
    const score = resilienceScore(
      journal({
        during: [[check('home', false, 10)], [check('home', true, 16), check('api', true, 16)]],
        after: [check('home', true, 30)],
        deviated: true,
        rollbacks: [
          { status: 'succeeded', output: {} },
          { status: 'failed', output: {} },
        ],
        probes: [{ name: 'home', weight: 3 }, { name: 'api' }],
      }),
    );

    expect(score.components).toEqual({ steady_state: 0.75, hypothesis: 0, recovery: 0.75, rollback: 0.5 });
    expect(score.score).toBe(55);
    expect(score.recovery).toEqual({ measured_ms: 6000, expected_ms: 4000, source: 'probes' });
  });

  it('gives no recovery credit when the system never came back, and none past three times the expectation', () => {
    // Never recovered: R = 0. S = 0 of 2 = 0, H = 0 (deviated), C = 1 → 100 × 0.2 = 20
    const never = resilienceScore(journal({ during: [[check('home', false, 10)]], after: [check('home', false, 20)], deviated: true }));
    // Recovered in 13 s against E = 4 s: 1 − 9/8 < 0 → R = 0
    const late = resilienceScore(journal({ rollbacks: [{ status: 'succeeded', output: { recovered_after_ms: 13_000 } }] }));

    expect(never.score).toBe(20);
    expect(never.recovery.measured_ms).toBeNull();
    expect(never.explanation[2]).toBe('recovery: the system did not recover before the experiment ended (expected within 4.0 s)');
    expect(late.components.recovery).toBe(0);
    expect(late.score).toBe(80);
  });

  it('is refused, saying why, for an experiment that applied no fault', () => {
    const refused = (() => {
      try {
        return resilienceScore(journal({ faultApplied: false }));
      } catch (error) {
        return error;
      }
    })();

    expect(refused).toBeInstanceOf(NoScoreError);
    expect((refused as Error).message).toContain('applied no fault');
  });
});
