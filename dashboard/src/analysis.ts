/**
 * The Analysis tab: the resilience score over time (GET /api/analysis/resilience-trend and its summary, filtered by
 * target, service and chaos type), failure hypotheses for this control plane's topology (POST
 * /api/analysis/hypotheses with no body), and an experiment written from a sentence (POST
 * /api/analysis/nl-experiment). Each answer says who made it (Claude or the offline rules, and why the rules stood in).
 * A proposed experiment is never submitted from here: "Open in the form" puts it in the new-experiment form, where the
 * person checks it and starts it.
 */
import { useEffect, useState } from 'preact/hooks';
import { stringify } from 'yaml';
import { lineChart } from '../../shared/analysis/charts.js';
import { ApiError, type FieldIssue } from './api.js';
import { PlanView } from './experiments/plan.js';
import { html } from './html.js';
import type { AnalysisTabProps, TabProps } from './tabs.js';
import type { DryRunPlan } from './types.js';
import './analysis.css';

/** What a trend chart draws at most; a window with more says so (narrow it with the filters). */
const MAX_TREND_POINTS = 1000;
const TREND_PAGE = 500;
const WINDOWS = [
  { label: 'all time', ms: 0 },
  { label: 'the last 24 hours', ms: 24 * 3600_000 },
  { label: 'the last 7 days', ms: 7 * 24 * 3600_000 },
  { label: 'the last 30 days', ms: 30 * 24 * 3600_000 },
];

interface ScorePoint {
  experiment_id: string;
  score: number;
  ended_at: string;
  target: string;
  service: string;
  chaos_type: string;
  components: { steady_state: number; hypothesis: number; recovery: number; rollback: number };
}

interface Summary {
  count: number;
  latest: ScorePoint | null;
  mean: number | null;
  change: number | null;
  worst: ScorePoint | null;
  truncated?: string;
  by_target: Record<string, { count: number }>;
  by_service: Record<string, { count: number }>;
  by_chaos_type: Record<string, { count: number }>;
}

/** Who answered an analysis question, as every analysis answer says. */
interface ByAnalyst {
  source: 'claude' | 'rules';
  model: string | null;
  note?: string;
}

interface Hypothesis {
  rank: number;
  title: string;
  statement: string;
  likelihood: 'high' | 'medium' | 'low';
  impact: 'high' | 'medium' | 'low';
  rationale: string;
  experiment: Record<string, unknown>;
  valid: boolean;
  problems?: FieldIssue[];
}

interface NlAnswer extends ByAnalyst {
  prompt: string;
  experiment: Record<string, unknown>;
  understood: string[];
  assumptions: string[];
  valid: boolean;
  problems?: FieldIssue[];
  dry_run?: DryRunPlan;
  refused?: { code: string; message: string };
}

const problemOf = (error: unknown) => (error instanceof ApiError ? error.message : String(error));
const LEVEL_TONES = { high: 'bad', medium: 'warn', low: 'neutral' } as const;

export function AnalysisTab({ api, live, onDraftExperiment }: AnalysisTabProps) {
  return html`<section class="panel analysis" aria-labelledby="analysis-title">
      <h2 id="analysis-title" tabindex="-1">Analysis</h2>
      <p class="muted">
        How resilient the system has been, what could fail next, and an experiment written from a sentence. Proposed experiments are never started from here:
        open one in the form, check it, and start it there.
      </p>
    </section>
    <${Trend} api=${api} live=${live} />
    <${Hypotheses} api=${api} onDraft=${onDraftExperiment} />
    <${NaturalLanguage} api=${api} onDraft=${onDraftExperiment} />`;
}

function Answerer({ by }: { by: ByAnalyst }) {
  return html`<p class="answerer" data-source=${by.source}>
    Answered by <strong>${by.source === 'claude' ? `Claude${by.model ? ` (${by.model})` : ''}` : 'the offline rules'}</strong>${by.note
      ? html`<span class="muted"> — ${by.note}</span>`
      : by.source === 'rules'
        ? html`<span class="muted"> (no Anthropic API key is configured for this control plane: Claude answers once one is)</span>`
        : null}
  </p>`;
}

// ---- the resilience trend ------------------------------------------------------------------------------------------

interface Filters {
  target: string;
  service: string;
  chaos_type: string;
  window: number;
}

function Trend({ api, live }: Pick<TabProps, 'api' | 'live'>) {
  const [filters, setFilters] = useState<Filters>({ target: '', service: '', chaos_type: '', window: 0 });
  const [choices, setChoices] = useState<Summary | undefined>();
  const [view, setView] = useState<{ summary: Summary; points: ScorePoint[]; more: boolean } | undefined>();
  const [problem, setProblem] = useState<string | undefined>();
  const [changed, setChanged] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    const { window: windowMs, ...rest } = filters;
    const query = { ...rest, ...(windowMs > 0 ? { since: new Date(Date.now() - windowMs).toISOString() } : {}) };
    (async () => {
      const [all, summary] = await Promise.all([
        api.call<Summary>('resilienceTrendSummary', { signal: controller.signal }),
        api.call<Summary>('resilienceTrendSummary', { query, signal: controller.signal }),
      ]);
      const points: ScorePoint[] = [];
      let cursor: string | undefined;
      do {
        const page = await api.call<{ items: ScorePoint[]; next_cursor: string | null }>('resilienceTrend', { query: { ...query, limit: TREND_PAGE, cursor }, signal: controller.signal });
        points.push(...page.items);
        cursor = page.next_cursor ?? undefined;
      } while (cursor && points.length < MAX_TREND_POINTS);
      setChoices(all);
      setView({ summary, points, more: cursor !== undefined });
      setProblem(undefined);
    })().catch((error: unknown) => {
      if (!controller.signal.aborted) setProblem(problemOf(error));
    });
    return () => controller.abort();
  }, [api, filters, changed]);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = live.watch('*', (event) => {
      if (event.type !== 'experiment.finished') return;
      clearTimeout(timer);
      timer = setTimeout(() => setChanged((n) => n + 1), 500);
    });
    return () => {
      clearTimeout(timer);
      stop();
    };
  }, [live]);

  const select = (name: keyof Filters, label: string, options: { value: string; label: string }[]) => html`<div>
    <label for=${`trend-${name}`}>${label}</label>
    <select
      id=${`trend-${name}`}
      value=${String(filters[name])}
      onChange=${(event: Event) => {
        const value = (event.target as HTMLSelectElement).value;
        setFilters((f) => ({ ...f, [name]: name === 'window' ? Number(value) : value }));
      }}
    >
      ${options.map((option) => html`<option value=${option.value}>${option.label}</option>`)}
    </select>
  </div>`;
  const any = (groups: Record<string, { count: number }> | undefined, chosen: string) => [
    { value: '', label: 'any' },
    ...[...new Set([...Object.keys(groups ?? {}), ...(chosen ? [chosen] : [])])].sort().map((key) => ({ value: key, label: `${key} (${groups?.[key]?.count ?? 0})` })),
  ];
  const summary = view?.summary;

  return html`<section class="panel" aria-labelledby="trend-title">
    <h3 id="trend-title">Resilience trend</h3>
    <div class="filters" role="group" aria-label="Filters of the trend">
      ${select('target', 'Target', any(choices?.by_target, filters.target))} ${select('service', 'Service', any(choices?.by_service, filters.service))}
      ${select('chaos_type', 'Chaos type', any(choices?.by_chaos_type, filters.chaos_type))}
      ${select('window', 'Ended in', WINDOWS.map((w) => ({ value: String(w.ms), label: w.label })))}
    </div>
    ${problem ? html`<p class="problem" role="alert">${problem}</p>` : null}
    ${!view && !problem ? html`<p role="status">Reading the scores…</p>` : null}
    ${summary
      ? html`<dl class="facts trend-facts" aria-label="Summary">
          <dt>Scored experiments</dt><dd data-fact="count">${summary.count}</dd>
          <dt>Latest</dt><dd data-fact="latest">${summary.latest ? `${summary.latest.score} / 100 (${summary.latest.experiment_id}, ${new Date(summary.latest.ended_at).toLocaleString()})` : '–'}</dd>
          <dt>Mean</dt><dd data-fact="mean">${summary.mean ?? '–'}</dd>
          <dt>Change, first to latest</dt><dd data-fact="change">${summary.change === null ? '–' : `${summary.change > 0 ? '+' : ''}${summary.change}`}</dd>
          <dt>Worst</dt><dd data-fact="worst">${summary.worst ? `${summary.worst.score} / 100 (${summary.worst.experiment_id})` : '–'}</dd>
        </dl>
        ${summary.truncated ? html`<p class="muted">${summary.truncated}</p>` : null}`
      : null}
    ${view && view.points.length === 0
      ? html`<p>No scored experiment${filters.target || filters.service || filters.chaos_type || filters.window ? ' matches these filters' : ' yet'}: an experiment is scored when it ends having applied its fault.</p>`
      : null}
    ${view && view.points.length > 0
      ? html`<div class="trend-chart" dangerouslySetInnerHTML=${{ __html: trendChart(view.points) }}></div>
          ${view.more ? html`<p class="muted">The first ${view.points.length} scores of this window are drawn: narrow it to see the rest.</p>` : null}
          <details>
            <summary>The scores as a table</summary>
            <table class="scores">
              <thead><tr><th scope="col">Ended</th><th scope="col">Score</th><th scope="col">Experiment</th><th scope="col">Target</th><th scope="col">Chaos type</th><th scope="col">Hypothesis</th></tr></thead>
              <tbody>
                ${view.points.map(
                  (point) => html`<tr>
                    <td>${new Date(point.ended_at).toLocaleString()}</td>
                    <td>${point.score}</td>
                    <td><a href=${`#/experiments/${encodeURIComponent(point.experiment_id)}`}><code>${point.experiment_id}</code></a></td>
                    <td><code>${point.target}</code></td>
                    <td>${point.chaos_type}</td>
                    <td>${point.components.hypothesis === 1 ? html`<span class="tag good">✓ held</span>` : html`<span class="tag bad">✗ did not hold</span>`}</td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </details>`
      : null}
  </section>`;
}

/** The scores by the time each experiment ended, drawn as the report draws its trend (shared/analysis/charts.ts). */
function trendChart(points: ScorePoint[]): string {
  const times = points.map((point) => Date.parse(point.ended_at));
  const first = Math.min(...times);
  const last = Math.max(...times);
  const pad = Math.max((last - first) * 0.04, 60_000);
  const held = points.filter((point) => point.components.hypothesis === 1).length;
  return lineChart({
    id: 'resilience-trend',
    title: 'Resilience score over time',
    description: `The resilience score of ${points.length} experiments by the time each ended, ${held} whose hypothesis held and ${points.length - held} whose did not (in red).`,
    x: { kind: 'time', min: first - pad, max: last + pad },
    y: { label: 'resilience score', min: 0, max: 100 },
    points: points.map((point, index) => ({
      x: times[index] as number,
      y: point.score,
      failed: point.components.hypothesis !== 1,
      label: `${point.experiment_id} on ${point.target} (${point.chaos_type}), ended ${point.ended_at}: ${point.score}/100${point.components.hypothesis !== 1 ? ', hypothesis did not hold' : ''}`,
    })),
    legend: { ok: held === 1 ? 'hypothesis held' : 'hypotheses held', failed: 'did not hold' },
  });
}

// ---- hypotheses ----------------------------------------------------------------------------------------------------

function Hypotheses({ api, onDraft }: { api: TabProps['api']; onDraft: AnalysisTabProps['onDraftExperiment'] }) {
  const [answer, setAnswer] = useState<(ByAnalyst & { topology_from: string; hypotheses: Hypothesis[] }) | undefined>();
  const [problem, setProblem] = useState<string | undefined>();
  const [asked, setAsked] = useState(0);
  const [busy, setBusy] = useState(true);

  useEffect(() => {
    const controller = new AbortController();
    setBusy(true);
    api
      .call<ByAnalyst & { topology_from: string; hypotheses: Hypothesis[] }>('hypotheses', { signal: controller.signal })
      .then((found) => {
        setAnswer(found);
        setProblem(undefined);
      })
      .catch((error: unknown) => {
        if (!controller.signal.aborted) setProblem(problemOf(error));
      })
      .finally(() => {
        if (!controller.signal.aborted) setBusy(false);
      });
    return () => controller.abort();
  }, [api, asked]);

  return html`<section class="panel" aria-labelledby="hypotheses-title">
    <div class="toolbar">
      <h3 id="hypotheses-title">Failure hypotheses for what can be targeted now</h3>
      <button type="button" onClick=${() => setAsked((n) => n + 1)} disabled=${busy}>${busy ? 'Asking…' : 'Ask again'}</button>
    </div>
    ${problem ? html`<p class="problem" role="alert">${problem}</p>` : null}
    ${answer ? html`<${Answerer} by=${answer} />` : busy ? html`<p role="status">Asking…</p>` : null}
    ${answer && answer.hypotheses.length === 0
      ? html`<p>Nothing to hypothesise about: this control plane sees no workloads, instances or databases (see the Topology tab).</p>`
      : null}
    ${answer && answer.hypotheses.length > 0
      ? html`<ol class="hypotheses">
          ${answer.hypotheses.map(
            (hypothesis) => html`<li data-rank=${hypothesis.rank}>
              <h4>${hypothesis.title}</h4>
              <p>${hypothesis.statement}</p>
              <p>
                <span class=${`tag ${LEVEL_TONES[hypothesis.likelihood]}`}>likelihood ${hypothesis.likelihood}</span>
                <span class=${`tag ${LEVEL_TONES[hypothesis.impact]}`}>impact ${hypothesis.impact}</span>
              </p>
              <p class="muted">${hypothesis.rationale}</p>
              <details>
                <summary>The experiment that tests it: <code>${String(hypothesis.experiment.name ?? '')}</code> (${String(hypothesis.experiment.chaos_type ?? '')})</summary>
                <pre>${stringify(hypothesis.experiment)}</pre>
              </details>
              ${hypothesis.valid ? null : html`<${Problems} problems=${hypothesis.problems ?? []} />`}
              <div class="actions">
                <button type="button" onClick=${() => onDraft(hypothesis.experiment)} aria-label=${`Open “${hypothesis.title}”'s experiment in the form`}>Open in the form</button>
              </div>
            </li>`,
          )}
        </ol>`
      : null}
  </section>`;
}

function Problems({ problems }: { problems: FieldIssue[] }) {
  return html`<div class="problem">
    <p><span class="tag bad">Not valid as it is</span> the form will show where:</p>
    <ul>${problems.map((issue) => html`<li><code>${issue.field || '(the experiment)'}</code>: ${issue.message}</li>`)}</ul>
  </div>`;
}

// ---- natural language → experiment ---------------------------------------------------------------------------------

const EXAMPLES = ['kill one sandbox replica and watch it recover', 'add 200ms latency to the checkout pods in namespace shop for 2 minutes', 'nginx pod 하나를 랜덤으로 죽이고 복구 시간 관찰'];

function NaturalLanguage({ api, onDraft }: { api: TabProps['api']; onDraft: AnalysisTabProps['onDraftExperiment'] }) {
  const [prompt, setPrompt] = useState('');
  const [answer, setAnswer] = useState<NlAnswer | undefined>();
  const [problem, setProblem] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!prompt.trim()) {
      setProblem('Describe the experiment first.');
      return;
    }
    setBusy(true);
    setProblem(undefined);
    try {
      setAnswer(await api.call<NlAnswer>('nlExperiment', { body: { prompt } }));
    } catch (error) {
      setAnswer(undefined);
      // The API names the prompt when it cannot read it: said beside it.
      setProblem(error instanceof ApiError && error.fields.length > 0 ? error.fields.map((issue) => issue.message).join('; ') : problemOf(error));
    } finally {
      setBusy(false);
    }
  };

  return html`<section class="panel nl" aria-labelledby="nl-title">
    <h3 id="nl-title">An experiment from a sentence</h3>
    <form onSubmit=${submit} novalidate>
      <label for="nl-prompt">Describe the experiment <span class="hint">(English or Korean)</span></label>
      <textarea
        id="nl-prompt"
        rows="3"
        value=${prompt}
        placeholder=${EXAMPLES[0]}
        aria-invalid=${problem ? 'true' : undefined}
        aria-describedby=${problem ? 'nl-problem' : 'nl-examples'}
        onInput=${(event: Event) => setPrompt((event.target as HTMLTextAreaElement).value)}
      ></textarea>
      ${problem ? html`<p class="field-error" id="nl-problem" role="alert"><span aria-hidden="true">✗ </span>${problem}</p>` : null}
      <p class="muted" id="nl-examples">For example: ${EXAMPLES.map((example, index) => html`${index > 0 ? '; ' : ''}<q>${example}</q>`)}.</p>
      <div class="actions"><button type="submit" class="primary" disabled=${busy}>${busy ? 'Writing…' : 'Write the experiment'}</button></div>
    </form>
    ${answer
      ? html`<div class="nl-answer" aria-live="polite">
          <${Answerer} by=${answer} />
          <h4>What each phrase was read as</h4>
          <ul class="understood">${answer.understood.map((line) => html`<li>${line}</li>`)}</ul>
          ${answer.assumptions.length > 0 ? html`<h4>Assumed</h4><ul class="assumed">${answer.assumptions.map((line) => html`<li>${line}</li>`)}</ul>` : null}
          <h4>The experiment</h4>
          <pre class="nl-experiment">${stringify(answer.experiment)}</pre>
          ${answer.valid ? null : html`<${Problems} problems=${answer.problems ?? []} />`}
          ${answer.dry_run ? html`<${PlanView} plan=${answer.dry_run} />` : null}
          ${answer.refused
            ? html`<p class="problem" role="status"><span class="tag bad">Refused</span> The dry run was refused (${answer.refused.code}): ${answer.refused.message}</p>`
            : null}
          <p class="muted">Nothing was started. Open it in the form to check it and start it.</p>
          <div class="actions"><button type="button" class="primary" onClick=${() => onDraft(answer.experiment)}>Open this experiment in the form</button></div>
        </div>`
      : null}
  </section>`;
}
