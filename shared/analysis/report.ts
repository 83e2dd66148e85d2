/**
 * A narrative report of one or more experiments, as Markdown and as one self-contained HTML page: what was tested,
 * what each showed, the conclusions across them, and what to do next (the conclusions-and-recommendations report
 * chaostoolkit-reporting#41 asks for). Written from the analyses the analyst gave, so the same report comes offline.
 */
import type { ExperimentAnalysis } from './findings.js';

export interface ReportInput {
  analysis: ExperimentAnalysis;
  name: string;
  chaosType: string;
  status: string;
  endedAt: string;
}

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
  md.push('| experiment | fault | ended | status | hypothesis | resilience |', '|---|---|---|---|---|---|');
  for (const item of items) {
    md.push(`| ${cell(item.name)} | ${item.chaosType} | ${item.endedAt} | ${item.status} | ${item.analysis.hypothesis.held ? 'held' : 'did not hold'} | ${item.analysis.score ? `${item.analysis.score.score}/100` : '—'} |`);
  }
  for (const item of items) {
    const { analysis } = item;
    md.push('', `### ${item.name}`, '', analysis.summary, '', `**Hypothesis**: ${analysis.hypothesis.statement || '(none stated)'} — ${analysis.hypothesis.verdict}.`);
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

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const SEVERITY_COLOUR = { critical: '#b42318', warning: '#b54708', info: '#175cd3' } as const;

function html(title: string, generatedAt: string, items: readonly ReportInput[], conclusions: string[], recommendations: string[]): string {
  const rows = items
    .map(
      (item) =>
        `<tr><td>${escape(item.name)}</td><td>${escape(item.chaosType)}</td><td>${escape(item.endedAt)}</td><td>${escape(item.status)}</td>` +
        `<td>${item.analysis.hypothesis.held ? '✓ held' : '✗ did not hold'}</td><td>${item.analysis.score ? `${item.analysis.score.score}/100` : '—'}</td></tr>`,
    )
    .join('\n');
  const sections = items
    .map(({ name, analysis }) => {
      const probes = analysis.probes.length
        ? `<table><thead><tr><th>probe</th><th>checks</th><th>failed</th><th>longest failing streak</th><th>latency median / p95</th></tr></thead><tbody>${analysis.probes
            .map((p) => `<tr><td>${escape(p.name)}</td><td>${p.checks}</td><td>${p.failed}</td><td>${p.longest_failing_streak}</td><td>${p.latency_ms ? `${p.latency_ms.median} / ${p.latency_ms.p95} ms` : '—'}</td></tr>`)
            .join('')}</tbody></table>`
        : '';
      const findings = analysis.findings.length
        ? `<ul>${analysis.findings.map((f) => `<li><strong style="color:${SEVERITY_COLOUR[f.severity]}">${f.severity}</strong> (${escape(f.about)}): ${escape(f.text)}</li>`).join('')}</ul>`
        : '';
      return `<section><h3>${escape(name)}</h3><p>${escape(analysis.summary)}</p><p><strong>Hypothesis</strong>: ${escape(analysis.hypothesis.statement || '(none stated)')} — ${escape(analysis.hypothesis.verdict)}.</p>${probes}${
        analysis.score ? `<p><strong>Resilience ${analysis.score.score}/100</strong>: ${escape(analysis.score.explanation.join('; '))}.</p>` : ''
      }${findings}</section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#101828}table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #d0d5dd;padding:.3rem .6rem;text-align:left}th{background:#f2f4f7}section{border-top:1px solid #eaecf0;margin-top:1.5rem}</style>
</head><body>
<h1>${escape(title)}</h1><p>Generated ${escape(generatedAt)}.</p>
<h2>Conclusions</h2><ul>${conclusions.map((c) => `<li>${escape(c)}</li>`).join('')}</ul>
<h2>Experiments</h2><table><thead><tr><th>experiment</th><th>fault</th><th>ended</th><th>status</th><th>hypothesis</th><th>resilience</th></tr></thead><tbody>
${rows}
</tbody></table>
${sections}
<h2>Recommendations</h2><ol>${recommendations.map((r) => `<li>${escape(r)}</li>`).join('')}</ol>
</body></html>
`;
}
