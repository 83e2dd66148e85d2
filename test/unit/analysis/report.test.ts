/**
 * The narrative report: conclusions across experiments, one recommendation for the same advice, user text escaped in
 * the HTML page, and its charts drawn from the journals real runs wrote — each experiment's timeline, probes and
 * recovery, and for several their comparison and trend — in a page that loads nothing.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeJournal, type ExperimentAnalysis } from '../../../shared/analysis/findings.js';
import { REPORT_CSP, renderReport, type ReportInput } from '../../../shared/analysis/report.js';
import type { JsonObject } from '../../../shared/journal/activity.js';
import { fitJournal } from '../../../shared/journal/journal.js';

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
        { analysis: analysis(true, 'widen the experiment'), journal: {}, name: 'web-kill', chaosType: 'pod_delete', status: 'completed', endedAt: '2026-03-01T10:01:00Z' },
        { analysis: analysis(false, 'widen the experiment'), journal: {}, name: 'api-kill', chaosType: 'pod_delete', status: 'failed', endedAt: '2026-03-01T11:01:00Z' },
      ],
      '2026-03-02T00:00:00Z',
    );

    expect(report.conclusions).toEqual(['1 of 2 hypotheses held.', '1 critical finding(s) need attention first.', 'api-kill: did not hold: home failed under the fault.']);
    expect(report.recommendations).toEqual(['widen the experiment']);
    expect(report.markdown).toContain('| home | 4 | 1 | 1 | 20 / 900 ms |');
  });

  it('escapes what users wrote in the HTML page', () => {
    const report = renderReport(
      [{ analysis: analysis(true, 'x'), journal: {}, name: '<img src=x onerror=alert(1)>', chaosType: 'pod_delete', status: 'completed', endedAt: 'now' }],
      'now',
    );

    expect(report.html).not.toContain('<img');
    expect(report.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../support/fixtures/journals/${name}.json`, import.meta.url), 'utf8')) as JsonObject;
/** An item as the analysis function makes it from a journal, read by the offline analyst. */
const item = (journal: JsonObject): ReportInput => {
  const experiment = journal.experiment as JsonObject;
  return { analysis: analyzeJournal(journal), journal, name: String(experiment.name ?? experiment.title), chaosType: String(experiment.chaos_type ?? 'chaostoolkit'), status: String(journal.status), endedAt: String(journal.end) };
};

/** Each chart on the page (id and its data points), as a real XML parser reads the page's SVGs. */
function charts(html: string): { id: string; points: number; tolerance: boolean }[] {
  const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
  const script = [
    'import sys, json, xml.etree.ElementTree as ET',
    'out = []',
    'for svg in json.load(sys.stdin):',
    '    root = ET.fromstring(svg)',
    '    out.append({"id": root.get("id"), "points": len([e for e in root.iter() if "data-point" in e.attrib]), "tolerance": any("data-tolerance" in e.attrib for e in root.iter())})',
    'print(json.dumps(out))',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script], { input: JSON.stringify(svgs), encoding: 'utf8' }));
}

describe('the report page', () => {
  it("draws one experiment's timeline, its probe against the tolerance, and its recovery, each with its points", () => {
    const { html } = renderReport([item(fixture('sandbox-pod-delete'))], '2026-12-03T00:00:00Z');

    expect(charts(html)).toEqual([
      // 5 phases, 1 fault, 5 probe checks, 1 rollback step, 1 recovery.
      { id: 'x1-timeline', points: 13, tolerance: false },
      { id: 'x1-probe-1', points: 5, tolerance: true },
      { id: 'x1-recovery', points: 1, tolerance: false },
    ]);
    expect(html).toContain('at most 500 ms');
    expect(html).toContain('258 ms (expected within 4 s)');
    expect(html).not.toContain('id="compare-score"');
  });

  it('compares several experiments, the real Chaos Toolkit\'s too, and draws the trend of their scores', () => {
    const { html, markdown } = renderReport([item(fixture('sandbox-pod-delete')), item(fixture('sandbox-latency-deviated')), item(fixture('chaostoolkit'))], '2026-12-03T00:00:00Z');
    const drawn = new Map(charts(html).map((chart) => [chart.id, chart]));

    expect([...drawn.keys()].slice(0, 3)).toEqual(['compare-score', 'compare-recovery', 'trend']);
    expect(drawn.get('compare-score')?.points).toBe(3);
    expect(drawn.get('trend')?.points).toBe(3);
    expect([...drawn.values()].every((chart) => chart.points > 0)).toBe(true);
    // The deviated run's probe: its failed checks marked, against the 500 ms it tolerates; it never recovered.
    expect(drawn.get('x2-probe-1')?.tolerance).toBe(true);
    expect(html.match(/<svg id="x2-probe-1"[\s\S]*?<\/svg>/)?.[0].match(/data-point="failed"/g)).toHaveLength(3);
    expect(html).toMatch(/<svg id="x2-recovery"[\s\S]*?data-point="missing"[\s\S]*?did not recover/);
    expect(markdown).toContain('| sandbox-slow-replicas | network_latency | 2026-12-02T05:39:47.251Z | rolled_back | did not hold | 20/100 | did not recover (expected within 3 s) |');
    // The Chaos Toolkit run: its phases worked out from what ran, its method's probe charted too.
    expect([...drawn.keys()].filter((id) => id.startsWith('x3-'))).toEqual(['x3-timeline', 'x3-probe-1', 'x3-probe-2', 'x3-probe-3', 'x3-recovery']);
  });

  it('loads nothing: no script, no link, no source, no style from anywhere, and says so in its policy', () => {
    const { html } = renderReport([item(fixture('sandbox-pod-delete')), item(fixture('chaostoolkit'))], 'now');

    expect(html).not.toMatch(/<script|<link|<img|<iframe|\ssrc=|\shref=|url\(|@import/i);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`);
    expect(REPORT_CSP).toBe("default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'");
  });

  it('escapes what users wrote inside the charts: probe, fault and experiment names', () => {
    const evil = '</svg><script>alert(1)</script>';
    const journal = fixture('sandbox-latency-deviated');
    const renamed = JSON.parse(JSON.stringify(journal).replaceAll('demo-answers', evil.replace(/"/g, '\\"')).replaceAll('sandbox/demo/replica-1', evil)) as JsonObject;
    (renamed.experiment as JsonObject).name = evil;

    const { html } = renderReport([item(renamed)], 'now');

    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;/svg&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(charts(html).map((chart) => chart.id)).toEqual(['x1-timeline', 'x1-probe-1', 'x1-recovery']);
  });

  it("draws a real prometheus run's values against their tolerances, small values as they are, checks without one as crosses", () => {
    const { html } = renderReport([item(fixture('sandbox-prometheus'))], 'now');
    const svg = (id: string) => html.match(new RegExp(`<svg id="${id}"[\\s\\S]*?</svg>`))?.[0] ?? '';

    expect(charts(html)).toEqual([
      { id: 'x1-timeline', points: expect.any(Number), tolerance: false },
      { id: 'x1-probe-1', points: 8, tolerance: true },
      { id: 'x1-probe-2', points: 8, tolerance: true },
      { id: 'x1-probe-3', points: 6, tolerance: true },
      { id: 'x1-recovery', points: 1, tolerance: false },
    ]);
    expect(svg('x1-probe-1')).toContain('>health-latency: value of each check</title>');
    expect(svg('x1-probe-1')).toContain('data-tolerance="max"');
    expect(svg('x1-probe-1')).toContain('>&lt; 0.25</text>');
    expect(svg('x1-probe-1')).toContain('<title>health-latency before the fault: 0.02851</title>');
    expect(svg('x1-probe-1')).toContain('<title>health-latency during the fault (tick 3): 0.3113 — failed: sandbox_health_latency_seconds{');
    expect(svg('x1-probe-2')).toContain('data-tolerance="range"');
    // Every check of the error ratio failed without a value: crosses on the time axis, no circle, and no latency chart.
    expect(svg('x1-probe-3')).toContain('>error-ratio: value of each check</title>');
    expect(svg('x1-probe-3').match(/data-point="no-value" data-status="failed"/g)).toHaveLength(6);
    expect(svg('x1-probe-3')).not.toContain('<circle class="point');
    expect(svg('x1-probe-3')).toContain('>6 no value</text>');
  });

  it('says why a chart is missing instead of drawing an empty one', () => {
    const { html } = renderReport([item({ experiment: { name: 'refused' }, status: 'failed', deviated: false, steady_states: { before: null, after: null, during: [] }, run: [], rollbacks: [] })], 'now');

    expect(charts(html)).toEqual([]);
    expect(html).toContain('The journal records no timed activity to draw.');
    expect(html).toContain('No fault was applied, so there was nothing to recover from.');
  });
});


/**
 * A day at one check a second, as ChaosDuck's journal records it: `ticks` observation ticks, each with an http probe
 * (its latency) and a prometheus probe (its value); every 997th tick fails (900 ms; an error ratio of 0.5, or no value
 * at all), and one passing check is unusually slow (480 ms), which a thinned chart must still show.
 */
function longJournal(ticks: number): JsonObject {
  const t0 = Date.parse('2026-03-01T00:00:00Z');
  const iso = (ms: number) => new Date(ms).toISOString();
  const home = (at: number, ms: number): JsonObject => ({
    activity: { type: 'probe', name: 'home', provider: { type: 'http', url: 'http://shop/health', max_latency_ms: 500 } },
    start: iso(at),
    end: iso(at + ms),
    status: ms > 500 ? 'failed' : 'succeeded',
    tolerance_met: ms <= 500,
    output: { status: 200, latency_ms: ms, failures: ms > 500 ? [`latency ${ms} ms exceeds max_latency_ms 500`] : [] },
  });
  const errors = (at: number, value: number | null): JsonObject => ({
    activity: { type: 'probe', name: 'error-ratio', provider: { type: 'prometheus', query: 'shop:error_ratio' } },
    start: iso(at),
    end: iso(at + 4),
    status: value !== null && value < 0.01 ? 'succeeded' : 'failed',
    tolerance_met: value !== null && value < 0.01,
    output: { value, tolerance: { lt: 0.01 }, failures: value === null ? ['the query returned no series'] : value < 0.01 ? [] : [`shop:error_ratio = ${value}, expected < 0.01`] },
  });
  const during = Array.from({ length: ticks }, (_, i) => {
    const at = t0 + 60_000 + i * 1000;
    const failed = i % 997 === 0;
    return { tick: i + 1, steady_state_met: !failed, probes: [home(at, failed ? 900 : i === 4242 ? 480 : 10 + (i % 9)), errors(at, failed ? (i % 2 === 0 ? 0.5 : null) : 0.0001 * (i % 5))] };
  });
  const end = t0 + 120_000 + ticks * 1000;
  return {
    experiment: { name: 'shop-day', chaos_type: 'pod_delete' },
    start: iso(t0),
    end: iso(end),
    status: 'completed',
    deviated: false,
    steady_states: { before: { probes: [home(t0 + 1000, 12), errors(t0 + 1000, 0)] }, during, after: { probes: [home(end - 9000, 12), errors(end - 9000, 0)] } },
    run: [{ activity: { type: 'action', name: 'pod_delete shop/web-1', provider: { type: 'kubernetes', target: 'shop/web-1' } }, start: iso(t0 + 50_000), end: iso(t0 + 50_100), status: 'succeeded', output: {} }],
    rollbacks: [{ activity: { type: 'action', name: 'rollback await shop/web-1', provider: { type: 'kubernetes', target: 'shop/web-1' } }, start: iso(end - 8000), end: iso(end - 7000), status: 'succeeded', output: { recovered_after_ms: 2300 } }],
    chaosduck: { id: 'exp-shop-day', status: 'completed' },
  };
}

describe('the report page of a long experiment', () => {
  it('draws a day of checks every second in a page of bounded size, keeps every failed check, and says what it thinned', () => {
    // Prepare: 86,400 ticks of two probes (Math.min(...) over their times used to overflow the call stack).
    const journal = longJournal(86_400);
    const checks = (name: string) => (journal.steady_states as { during: { probes: JsonObject[] }[] }).during.flatMap((tick) => tick.probes).filter((p) => (p.activity as JsonObject).name === name);
    const failed = (name: string) => checks(name).filter((p) => p.tolerance_met === false).length;

    // Act
    const { html } = renderReport([item(journal)], 'now');

    // Assess
    const svg = (id: string) => html.match(new RegExp(`<svg id="${id}"[\\s\\S]*?</svg>`))?.[0] ?? '';
    const count = (text: string, pattern: RegExp) => text.match(pattern)?.length ?? 0;
    expect(html.length).toBeLessThan(1_000_000);
    for (const id of ['x1-timeline', 'x1-probe-1', 'x1-probe-2']) expect(count(svg(id), /data-point="/g), id).toBeLessThanOrEqual(1100);
    expect(count(svg('x1-probe-1'), /data-point="failed"/g)).toBe(failed('home'));
    expect(count(svg('x1-probe-2'), /data-point="failed"|data-point="no-value"/g)).toBe(failed('error-ratio'));
    expect(count(svg('x1-probe-2'), /data-point="no-value"/g)).toBe(43);
    expect(svg('x1-probe-1')).toContain('<title>home during the fault (tick 4243): 480 ms</title>');
    expect(svg('x1-probe-1')).toMatch(/>Thinned: [\d,]+ of 86,402 points drawn \(every failed point, and the lowest and highest of the others in each stretch of time\)\.<\/text>/);
    expect(svg('x1-timeline')).toMatch(/>Thinned: [\d,]+ of 172,804 probe checks drawn/);
    expect(charts(html).map((chart) => chart.id)).toEqual(['x1-timeline', 'x1-probe-1', 'x1-probe-2', 'x1-recovery']);
  });
});

describe('a journal cut down to fit the store', () => {
  it('says on the page how many observation ticks its charts leave out, and why', () => {
    const full = fixture('sandbox-prometheus');
    const ticks = (full.steady_states as { during: unknown[] }).during.length;
    const cut = fitJournal(full, 25_000);
    const kept = (cut.steady_states as { during: unknown[] }).during.length;
    expect(kept).toBeLessThan(ticks);

    const { html, markdown } = renderReport([item(cut)], 'now');

    const note = `this journal was cut down to fit the store, so ${ticks - kept} of its ${ticks} observation ticks (and their probe checks) are left out; the charts and counts below show the ${kept} kept (the journal exceeded 25000 bytes;`;
    expect(html).toContain(`<p class="compacted" role="note"><strong>Incomplete journal</strong>: ${note}`);
    expect(markdown).toContain(`> **Incomplete journal**: ${note}`);
  });

  it('says when only the outcome was kept', () => {
    const { html } = renderReport([item(fitJournal(fixture('sandbox-prometheus'), 2_000))], 'now');

    expect(html).toContain('this journal was cut down to fit the store, so only its outcome was kept: its 6 observation ticks with their probe checks, its faults and its rollback steps are left out');
    expect(html).toContain('The journal records no timed activity to draw.');
  });

  it('says nothing of the kind for a whole journal', () => {
    expect(renderReport([item(fixture('sandbox-prometheus'))], 'now').html).not.toContain('Incomplete journal');
  });
});
