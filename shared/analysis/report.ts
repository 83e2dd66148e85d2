/**
 * A narrative report of one or more experiments, as Markdown and as one self-contained HTML page: what was tested,
 * what each showed, the conclusions across them, and what to do next (the conclusions-and-recommendations report
 * chaostoolkit-reporting#41 asks for). Written from the analyses the analyst gave, so the same report comes offline.
 *
 * The page draws its charts from the journals (charts.ts, inline SVG): each experiment's timeline of phases, faults,
 * checks, rollback steps and recoveries, each probe's values or latencies against its tolerance, and its recovery
 * times; for several experiments, their scores and recoveries side by side and the resilience trend. It needs no
 * network to open (no script, font or file from anywhere) and says so in its own Content-Security-Policy.
 */
import type { JsonObject } from '../journal/activity.js';
import { barChart, escapeHtml as escape, formatDuration, formatNumber, lineChart, timelineChart, type Bar, type Span } from './charts.js';
import type { ExperimentAnalysis } from './findings.js';
import { journalTimeline, type JournalTimeline } from './timeline.js';

export interface ReportInput {
  analysis: ExperimentAnalysis;
  /** The journal the analysis read: the charts are drawn from it. */
  journal: JsonObject;
  name: string;
  chaosType: string;
  status: string;
  endedAt: string;
}

/**
 * What the page may load: nothing but its own inline styles (its charts are inline SVG, which needs no permission).
 * Also sent as the header when the page is served; `frame-ancestors` is the header's alone (a `<meta>` ignores it).
 */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

export interface Report {
  title: string;
  markdown: string;
  html: string;
  conclusions: string[];
  recommendations: string[];
}

export function renderReport(items: readonly ReportInput[], generatedAt: string): Report {
  const title = items.length === 1 ? `Chaos experiment report: ${items[0]?.name}` : `Chaos experiments report: ${items.length} experiments`;
  const scored = items.filter((item) => item.analysis.score);
  const mean = scored.length > 0 ? Math.round(scored.reduce((sum, item) => sum + (item.analysis.score?.score ?? 0), 0) / scored.length) : null;
  const held = items.filter((item) => item.analysis.hypothesis.held).length;
  const critical = items.flatMap((item) => item.analysis.findings.filter((f) => f.severity === 'critical').map((f) => `${item.name}: ${f.text}`));
  const conclusions = [
    `${held} of ${items.length} hypotheses held${mean === null ? '' : `; mean resilience ${mean}/100`}.`,
    ...(critical.length > 0 ? [`${critical.length} critical finding(s) need attention first.`] : ['No critical finding.']),
    ...items.filter((item) => !item.analysis.hypothesis.held).map((item) => `${item.name}: ${item.analysis.hypothesis.verdict}.`),
  ];
  // The same advice from several experiments is one recommendation.
  const recommendations = [...new Set(items.flatMap((item) => item.analysis.recommendations))];

  const md: string[] = [`# ${title}`, '', `Generated ${generatedAt}.`, '', '## Conclusions', '', ...conclusions.map((c) => `- ${c}`), '', '## Experiments', ''];
  md.push('| experiment | fault | ended | status | hypothesis | resilience | recovery |', '|---|---|---|---|---|---|---|');
  for (const item of items) {
    md.push(
      `| ${cell(item.name)} | ${item.chaosType} | ${item.endedAt} | ${item.status} | ${item.analysis.hypothesis.held ? 'held' : 'did not hold'} | ${item.analysis.score ? `${item.analysis.score.score}/100` : '—'} | ${recoveryText(item.analysis)} |`,
    );
  }
  for (const item of items) {
    const { analysis } = item;
    md.push('', `### ${item.name}`, '');
    const compacted = compactedNote(item.journal);
    if (compacted) md.push(`> **Incomplete journal**: ${compacted}`, '');
    md.push(analysis.summary, '', `**Hypothesis**: ${analysis.hypothesis.statement || '(none stated)'} — ${analysis.hypothesis.verdict}.`);
    if (analysis.probes.length > 0) {
      md.push('', '| probe | checks | failed | longest failing streak | latency median / p95 |', '|---|---|---|---|---|');
      for (const probe of analysis.probes) {
        md.push(`| ${cell(probe.name)} | ${probe.checks} | ${probe.failed} | ${probe.longest_failing_streak} | ${probe.latency_ms ? `${probe.latency_ms.median} / ${probe.latency_ms.p95} ms` : '—'} |`);
      }
    }
    if (analysis.score) md.push('', `**Resilience ${analysis.score.score}/100**: ${analysis.score.explanation.join('; ')}.`);
    if (analysis.findings.length > 0) md.push('', ...analysis.findings.map((f) => `- **${f.severity}** (${f.about}): ${f.text}`));
  }
  md.push('', '## Recommendations', '', ...(recommendations.length > 0 ? recommendations.map((r, i) => `${i + 1}. ${r}`) : ['None.']), '');

  return { title, markdown: md.join('\n'), html: html(title, generatedAt, items, conclusions, recommendations), conclusions, recommendations };
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

/**
 * What a journal cut down to fit the store (`fitJournal`: `chaosduck.journal_compacted`) leaves out, for the page to say
 * above its charts and counts, which show only what was kept.
 */
function compactedNote(journal: JsonObject): string | undefined {
  const duck = journal.chaosduck;
  const compacted = duck !== null && typeof duck === 'object' && !Array.isArray(duck) ? duck.journal_compacted : undefined;
  if (compacted === null || typeof compacted !== 'object' || Array.isArray(compacted)) return undefined;
  const count = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
  const total = count(compacted.ticks_total);
  const kept = count(compacted.ticks_kept);
  const ticks = (n: number) => `${formatNumber(n)} observation tick${n === 1 ? '' : 's'}`;
  const left =
    total === undefined || kept === undefined
      ? 'some of its observation ticks and their probe checks are left out'
      : kept === 0
        ? `only its outcome was kept: its ${ticks(total)} with their probe checks, its faults and its rollback steps are left out`
        : `${formatNumber(total - kept)} of its ${ticks(total)} (and their probe checks) are left out; the charts and counts below show the ${formatNumber(kept)} kept`;
  const reason = typeof compacted.reason === 'string' && compacted.reason ? ` (${compacted.reason})` : '';
  return `this journal was cut down to fit the store, so ${left}${reason}.`;
}

/** The recovery the score measured against what the hypothesis tolerates, in words. */
function recoveryText({ score }: ExperimentAnalysis): string {
  if (!score) return '—';
  const expected = `expected within ${formatDuration(score.recovery.expected_ms)}`;
  return score.recovery.measured_ms === null ? `did not recover (${expected})` : `${formatDuration(score.recovery.measured_ms)} (${expected})`;
}

const SEVERITY_COLOUR = { critical: '#b42318', warning: '#b54708', info: '#175cd3' } as const;

function html(title: string, generatedAt: string, items: readonly ReportInput[], conclusions: string[], recommendations: string[]): string {
  const rows = items
    .map(
      (item) =>
        `<tr><td>${escape(item.name)}</td><td>${escape(item.chaosType)}</td><td>${escape(item.endedAt)}</td><td>${escape(item.status)}</td>` +
        `<td>${item.analysis.hypothesis.held ? '✓ held' : '✗ did not hold'}</td><td>${item.analysis.score ? `${item.analysis.score.score}/100` : '—'}</td><td>${escape(recoveryText(item.analysis))}</td></tr>`,
    )
    .join('\n');
  const sections = items
    .map((item, index) => {
      const { name, analysis } = item;
      const probes = analysis.probes.length
        ? `<table><thead><tr><th>probe</th><th>checks</th><th>failed</th><th>longest failing streak</th><th>latency median / p95</th></tr></thead><tbody>${analysis.probes
            .map((p) => `<tr><td>${escape(p.name)}</td><td>${p.checks}</td><td>${p.failed}</td><td>${p.longest_failing_streak}</td><td>${p.latency_ms ? `${p.latency_ms.median} / ${p.latency_ms.p95} ms` : '—'}</td></tr>`)
            .join('')}</tbody></table>`
        : '';
      const findings = analysis.findings.length
        ? `<ul>${analysis.findings.map((f) => `<li><strong style="color:${SEVERITY_COLOUR[f.severity]}">${f.severity}</strong> (${escape(f.about)}): ${escape(f.text)}</li>`).join('')}</ul>`
        : '';
      const compacted = compactedNote(item.journal);
      const incomplete = compacted ? `<p class="compacted" role="note"><strong>Incomplete journal</strong>: ${escape(compacted)}</p>` : '';
      return `<section><h3>${escape(name)}</h3>${incomplete}<p>${escape(analysis.summary)}</p><p><strong>Hypothesis</strong>: ${escape(analysis.hypothesis.statement || '(none stated)')} — ${escape(analysis.hypothesis.verdict)}.</p>${experimentCharts(item, `x${index + 1}`)}${probes}${
        analysis.score ? `<p><strong>Resilience ${analysis.score.score}/100</strong>: ${escape(analysis.score.explanation.join('; '))}.</p>` : ''
      }${findings}</section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#101828}table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #d0d5dd;padding:.3rem .6rem;text-align:left}th{background:#f2f4f7}section{border-top:1px solid #eaecf0;margin-top:1.5rem}svg.chart{display:block;width:100%;height:auto;margin:.75rem 0 1.25rem;font:12px system-ui,sans-serif}p.no-chart{color:#475467;font-style:italic}p.compacted{background:#fffaeb;border:1px solid #fec84b;padding:.5rem .75rem;color:#7a2e0e}@media print{body{margin:0 auto}svg.chart,table{break-inside:avoid}}</style>
</head><body>
<h1>${escape(title)}</h1><p>Generated ${escape(generatedAt)}.</p>
<h2>Conclusions</h2><ul>${conclusions.map((c) => `<li>${escape(c)}</li>`).join('')}</ul>
<h2>Experiments</h2><table><thead><tr><th>experiment</th><th>fault</th><th>ended</th><th>status</th><th>hypothesis</th><th>resilience</th><th>recovery</th></tr></thead><tbody>
${rows}
</tbody></table>
${items.length > 1 ? comparisonCharts(items) : ''}
${sections}
<h2>Recommendations</h2><ol>${recommendations.map((r) => `<li>${escape(r)}</li>`).join('')}</ol>
</body></html>
`;
}

const noChart = (text: string) => `<p class="no-chart">${escape(text)}</p>`;

/** One experiment's charts: its timeline, each probe over time, and its recovery. */
function experimentCharts(item: ReportInput, id: string): string {
  const timeline = journalTimeline(item.journal);
  const { score } = item.analysis;
  const recoveries = timeline.recoveries.length > 0 ? timeline.recoveries : probeRecovery(timeline, item.analysis);
  const rows = [
    { label: 'Phases', spans: timeline.phases },
    { label: 'Faults', spans: timeline.faults },
    { label: 'Probe checks', spans: timeline.checks },
    { label: 'Rollback steps', spans: timeline.rollbacks },
    { label: 'Recovery', spans: recoveries },
  ];
  const counted = rows.filter((row) => row.spans.length > 0).map((row) => `${formatNumber(row.spans.length)} ${row.label.toLowerCase()}`);
  const parts = [
    '<h4>Timeline</h4>',
    counted.length > 0
      ? timelineChart({
          id: `${id}-timeline`,
          title: `${item.name}: timeline`,
          description: `What happened when, in seconds since the experiment started (it ran ${formatDuration(timeline.end - timeline.start)}): ${counted.join(', ')}.`,
          start: timeline.start,
          end: timeline.end,
          rows,
        })
      : noChart('The journal records no timed activity to draw.'),
  ];

  if (timeline.probes.length > 0) parts.push('<h4>Probes over time</h4>');
  const window = timeline.faultWindow ? { start: timeline.faultWindow.start - timeline.start, end: timeline.faultWindow.end - timeline.start, label: 'fault in place' } : undefined;
  timeline.probes.forEach((probe, index) => {
    const failed = probe.checks.filter((check) => check.failed).length;
    const what = probe.measure === 'value' ? 'value' : 'latency';
    parts.push(
      lineChart({
        id: `${id}-probe-${index + 1}`,
        title: `${probe.name}: ${what} of each check`,
        description: `${formatNumber(probe.checks.length)} checks of ${probe.name}, ${formatNumber(failed)} failed; the ${what} of each over time${probe.tolerance ? `, against its tolerance (${probe.tolerance.label})` : ''}${window ? ', with the time the fault was in place shaded' : ''}.`,
        x: { kind: 'elapsed', min: 0, max: Math.max(timeline.end - timeline.start, 1) },
        y: probe.measure === 'value' ? { label: 'value' } : { label: 'latency (ms)', unit: 'ms', min: 0 },
        points: probe.checks.map((check) => ({ x: check.at - timeline.start, y: check.y, failed: check.failed, label: check.label })),
        ...(probe.tolerance ? { tolerance: probe.tolerance } : {}),
        ...(window ? { window } : {}),
      }),
    );
  });

  parts.push('<h4>Recovery</h4>');
  if (!score) {
    parts.push(noChart('No fault was applied, so there was nothing to recover from.'));
  } else {
    const expected = score.recovery.expected_ms;
    const marker = { value: expected, label: `the hypothesis tolerates ${formatDuration(expected)}` };
    const bars: Bar[] =
      timeline.recoveries.length > 0
        ? timeline.recoveries.map((span) => recoveryBar(span.label, span.end - span.start, expected, marker))
        : [recoveryBar(score.recovery.source === 'probes' ? 'from the probes' : 'no check failed', score.recovery.measured_ms, expected, marker)];
    parts.push(
      barChart({
        id: `${id}-recovery`,
        title: `${item.name}: recovery time`,
        description: `How long the system took to come back (${score.recovery.source === 'fault' ? 'as each fault measured it' : 'from the first failed check to the next passing one'}), against the ${formatDuration(expected)} the hypothesis tolerates.`,
        axisLabel: 'recovery time (ms)',
        unit: 'ms',
        bars,
      }),
    );
  }
  return parts.join('');
}

function recoveryBar(label: string, ms: number | null, expected: number, marker: Bar['marker']): Bar {
  if (ms === null) return { label, value: null, tone: 'bad', text: 'did not recover', marker };
  return { label, value: ms, tone: ms <= expected ? 'good' : 'bad', text: formatDuration(ms), marker };
}

/**
 * Without a recovery the fault measured, the score's from the probes: the time from the first failed check to the
 * next passing one, drawn from that first failed check.
 */
function probeRecovery(timeline: JournalTimeline, { score }: ExperimentAnalysis): Span[] {
  const measured = score?.recovery.source === 'probes' ? score.recovery.measured_ms : null;
  const from = timeline.faultWindow?.start ?? timeline.start;
  const firstFailed = timeline.checks.find((check) => check.failed && check.start >= from);
  if (measured === null || !firstFailed) return [];
  return [{ start: firstFailed.start, end: firstFailed.start + measured, label: 'steady state back', kind: 'recovery', detail: `${formatDuration(measured)} from the first failed check to the next passing one` }];
}

/** Several experiments side by side: their scores and recoveries, and the score over time. */
function comparisonCharts(items: readonly ReportInput[]): string {
  const parts = ['<h2>Comparison</h2>'];
  parts.push(
    barChart({
      id: 'compare-score',
      title: 'Resilience score by experiment',
      description: `The resilience score of each of the ${items.length} experiments (0 to 100), green where its hypothesis held and red where it did not.`,
      axisLabel: 'resilience score',
      max: 100,
      bars: items.map(({ name, analysis }) =>
        analysis.score
          ? { label: name, value: analysis.score.score, tone: analysis.hypothesis.held ? 'good' : 'bad', text: `${analysis.score.score}/100, ${analysis.hypothesis.held ? 'held' : 'did not hold'}` }
          : { label: name, value: null, tone: 'neutral', text: 'not scored: no fault applied' },
      ),
    }),
  );
  const scored = items.filter((item) => item.analysis.score);
  if (scored.length > 0) {
    parts.push(
      barChart({
        id: 'compare-recovery',
        title: 'Recovery time by experiment',
        description: 'How long each experiment took to recover, against what its hypothesis tolerates (the mark across each bar).',
        axisLabel: 'recovery time (ms)',
        unit: 'ms',
        bars: scored.map(({ name, analysis }) => {
          const recovery = analysis.score?.recovery as NonNullable<ExperimentAnalysis['score']>['recovery'];
          return recoveryBar(name, recovery.measured_ms, recovery.expected_ms, { value: recovery.expected_ms, label: `${name} tolerates ${formatDuration(recovery.expected_ms)}` });
        }),
      }),
    );
  }
  const trend = scored
    .map(({ name, endedAt, analysis }) => ({ at: Date.parse(endedAt), name, endedAt, score: analysis.score?.score as number, held: analysis.hypothesis.held }))
    .filter((point) => !Number.isNaN(point.at))
    .sort((a, b) => a.at - b.at);
  parts.push('<h2>Resilience trend</h2>');
  if (trend.length < 2) {
    parts.push(noChart('A trend needs at least two scored experiments with their end times.'));
  } else {
    const first = (trend[0] as (typeof trend)[number]).at;
    const last = (trend.at(-1) as (typeof trend)[number]).at;
    const pad = Math.max((last - first) * 0.04, 60_000);
    parts.push(
      lineChart({
        id: 'trend',
        title: 'Resilience score over time',
        description: `The resilience score of ${trend.length} experiments by the time each ended, from ${formatNumber(trend[0]?.score ?? 0)} to ${formatNumber(trend.at(-1)?.score ?? 0)}; red where the hypothesis did not hold.`,
        x: { kind: 'time', min: first - pad, max: last + pad },
        y: { label: 'resilience score', min: 0, max: 100 },
        points: trend.map((point) => ({ x: point.at, y: point.score, failed: !point.held, label: `${point.name}, ended ${point.endedAt}: ${point.score}/100${point.held ? '' : ', hypothesis did not hold'}` })),
        legend: { ok: 'held', failed: 'did not hold' },
      }),
    );
  }
  return parts.join('\n');
}
