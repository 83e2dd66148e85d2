/**
 * The narrative report: conclusions across experiments, one recommendation for the same advice, and user text
 * escaped in the HTML page.
 */
import { describe, expect, it } from 'vitest';
import type { ExperimentAnalysis } from '../../../shared/analysis/findings.js';
import { renderReport } from '../../../shared/analysis/report.js';

const analysis = (held: boolean, recommendation: string): ExperimentAnalysis => ({
  experiment_id: 'exp-1',
  summary: 'web-kill: pod_delete was applied.',
  hypothesis: { statement: 'the shop keeps answering', held, verdict: held ? 'held' : 'did not hold: home failed under the fault' },
  probes: [{ name: 'home', checks: 4, passed: 3, failed: 1, longest_failing_streak: 1, first_failure_at: '2026-03-01T10:00:20.000Z', latency_ms: { min: 10, median: 20, p95: 900, max: 900 } }],
  findings: held ? [] : [{ severity: 'critical', about: 'steady_state', text: 'home failed 1 of 4 checks' }],
  recommendations: [recommendation],
  score: null,
});

describe('the report', () => {
  it('concludes across experiments, puts what did not hold first, and gives the same advice once', () => {
    const report = renderReport(
      [
        { analysis: analysis(true, 'widen the experiment'), name: 'web-kill', chaosType: 'pod_delete', status: 'completed', endedAt: '2026-03-01T10:01:00Z' },
        { analysis: analysis(false, 'widen the experiment'), name: 'api-kill', chaosType: 'pod_delete', status: 'failed', endedAt: '2026-03-01T11:01:00Z' },
      ],
      '2026-03-02T00:00:00Z',
    );

    expect(report.conclusions).toEqual(['1 of 2 hypotheses held.', '1 critical finding(s) need attention first.', 'api-kill: did not hold: home failed under the fault.']);
    expect(report.recommendations).toEqual(['widen the experiment']);
    expect(report.markdown).toContain('| home | 4 | 1 | 1 | 20 / 900 ms |');
  });

  it('escapes what users wrote in the HTML page', () => {
    const report = renderReport(
      [{ analysis: analysis(true, 'x'), name: '<img src=x onerror=alert(1)>', chaosType: 'pod_delete', status: 'completed', endedAt: 'now' }],
      'now',
    );

    expect(report.html).not.toContain('<img');
    expect(report.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});
