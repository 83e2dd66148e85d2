/**
 * The analysis routes' cores (`/api/analysis/*`): what each answers, from the store and the analyst, whatever serves
 * it (the analysis Lambda function, or the local server).
 */
import { apiDocument } from '../rest.js';
import { experimentId, nlBody, reportBody, scoreBody, topologyBody, trendQuery } from './routes.js';
import { NoScoreError, resilienceScore, type ResilienceScore } from '../../shared/analysis/score.js';
import { ChaosDuckError, ConflictError, GuardrailError, NotFoundError, ValidationError, fieldIssues, type FieldIssue } from '../../shared/errors.js';
import { ok, type ApiResult } from '../../shared/http/rest.js';
import type { JsonObject } from '../../shared/journal/activity.js';
import type { ExperimentStore, ScoreQuery } from '../../shared/store/store.js';
import type { Analyst, TokenUsage } from '../../shared/analysis/analyst.js';
import { renderReport, type Report, type ReportInput } from '../../shared/analysis/report.js';
import { CorruptRecordError } from '../../shared/store/records.js';
import { parseExperiment } from '../../shared/model/parse.js';
import type { LifecycleDeps } from '../../shared/lifecycle/deps.js';
import { validateExperiment } from '../../shared/lifecycle/control.js';
import { ruleBasedHypothesis } from '../../shared/analysis/prediction.js';

export interface AnalysisDeps {
  store: ExperimentStore;
  analyst: Analyst;
  /** The plan of an experiment, as `POST /api/chaos/dry-run` makes it: every guardrail, nothing stored or injected. */
  dryRun: (experiment: unknown) => Promise<JsonObject>;
  /** What this control plane can target now (the topology routes' answers, and the sandbox where there is one). */
  topology: () => Promise<JsonObject>;
  /** Where experiments run and the guardrails they are checked against, as `POST /api/chaos/experiments` checks them. */
  runtime: LifecycleDeps['runtime'];
  guardrails: LifecycleDeps['guardrails'];
}

/**
 * `POST /api/analysis/resilience-score`: the score of each experiment named by id or given as a record or a journal,
 * and their mean. A stored score is returned as stored; a journal is scored as it is. One that has no score (it
 * applied no fault, it is unknown) is listed under `unscored` with the reason, and the others are still answered.
 */
export async function scoreExperiments(body: unknown, deps: AnalysisDeps): Promise<ApiResult> {
  const parsed = scoreBody.safeParse(body);
  if (!parsed.success) throw new ValidationError(fieldIssues(parsed.error.issues), 'request');
  const scores: ResilienceScore[] = [];
  const unscored: { index: number; experiment: string; reason: string }[] = [];
  for (const [index, item] of parsed.data.experiments.entries()) {
    const id = typeof item === 'string' ? item : typeof item.id === 'string' ? item.id : String((item.chaosduck as JsonObject | undefined)?.id ?? `experiments[${index}]`);
    try {
      scores.push(typeof item === 'string' || !('steady_states' in item) ? await storedScore(id, deps) : resilienceScore(item as JsonObject));
    } catch (error) {
      if (!(error instanceof NoScoreError || error instanceof NotFoundError)) throw error;
      unscored.push({ index, experiment: id, reason: error.message });
    }
  }
  return ok({
    scores,
    mean: scores.length > 0 ? round1(scores.reduce((sum, s) => sum + s.score, 0) / scores.length) : null,
    ...(unscored.length > 0 ? { unscored } : {}),
  });
}

/** The score stored when the experiment ended, or one computed from its journal (an experiment of an earlier version). */
async function storedScore(id: string, deps: AnalysisDeps): Promise<ResilienceScore> {
  const stored = await deps.store.getScore(id);
  if (stored) return stored;
  const journal = await deps.store.getJournal(id);
  if (!journal) {
    await deps.store.getExperiment(id); // NotFoundError for an unknown one
    throw new NoScoreError(`experiment ${id} has not ended yet: it is scored when it ends`);
  }
  return resilienceScore(journal);
}


function scoreQuery(query: Record<string, string | undefined>): ScoreQuery & { limit: number } {
  const parsed = trendQuery.safeParse(query);
  if (!parsed.success) throw new ValidationError(fieldIssues(parsed.error.issues), 'query');
  const { target, service, chaos_type: chaosType, since, until, limit, cursor } = parsed.data;
  // Stored times are UTC (`…Z`); a window given with an offset is compared in the same terms.
  const utc = (time: string | undefined) => (time === undefined ? undefined : new Date(time).toISOString());
  if (since && until && utc(since)! > utc(until)!) throw new ValidationError([{ field: 'since', message: `is after until (${until})` }], 'query');
  return { target, service, chaosType, since: utc(since), until: utc(until), limit, cursor };
}

/** `GET /api/analysis/resilience-trend`: scores in time order, filtered, a page at a time. */
export async function trend(query: Record<string, string | undefined>, deps: AnalysisDeps): Promise<ApiResult> {
  const page = await deps.store.listScores(scoreQuery(query));
  return ok({
    items: page.items.map(point),
    next_cursor: page.cursor ?? null,
    ...(page.corrupt ? { corrupt: page.corrupt.map((error) => ({ key: error.key, message: error.message })) } : {}),
  });
}

/** How many scores a summary reads at most: the latest ones of the window. */
const SUMMARY_SCORES = 5000;

/**
 * `GET /api/analysis/resilience-trend/summary`: over the window and filters, how many, the latest, the mean, the
 * change from the first to the latest, and the worst; and the same per target, service or chaos type beneath.
 */
export async function trendSummary(query: Record<string, string | undefined>, deps: AnalysisDeps): Promise<ApiResult> {
  const { cursor: _ignored, ...filter } = scoreQuery(query);
  const scores: ResilienceScore[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.listScores({ ...filter, limit: 500, cursor });
    scores.push(...page.items);
    cursor = page.cursor;
  } while (cursor && scores.length < SUMMARY_SCORES);
  const by = (key: (s: ResilienceScore) => string) => {
    const groups = new Map<string, ResilienceScore[]>();
    for (const score of scores) groups.set(key(score), [...(groups.get(key(score)) ?? []), score]);
    return Object.fromEntries([...groups].map(([name, list]) => [name, summarize(list)]));
  };
  return ok({
    ...summarize(scores),
    ...(cursor ? { truncated: `only the first ${scores.length} scores of the window were read; narrow it with since/until` } : {}),
    by_target: by((s) => s.target),
    by_service: by((s) => s.service),
    by_chaos_type: by((s) => s.chaos_type),
  });
}

function summarize(scores: readonly ResilienceScore[]) {
  if (scores.length === 0) return { count: 0, latest: null, mean: null, change: null, worst: null };
  const first = scores[0] as ResilienceScore;
  const latest = scores.at(-1) as ResilienceScore;
  const worst = scores.reduce((a, b) => (b.score < a.score ? b : a));
  return {
    count: scores.length,
    latest: point(latest),
    mean: round1(scores.reduce((sum, s) => sum + s.score, 0) / scores.length),
    change: scores.length > 1 ? latest.score - first.score : null,
    worst: point(worst),
  };
}

const point = ({ experiment_id, score, ended_at, target, service, chaos_type, components }: ResilienceScore) => ({
  experiment_id,
  score,
  ended_at,
  target,
  service,
  chaos_type,
  components,
});

const round1 = (value: number) => Math.round(value * 10) / 10;


/**
 * `POST /api/analysis/nl-experiment`: a prompt in any language → the experiment it describes, validated by the same
 * model as `POST /api/chaos/experiments`, and its dry-run plan (or the guardrail that refuses it). Nothing is
 * submitted: a person reads it, and posts `experiment` to run it.
 */
export async function nlExperiment(body: unknown, deps: AnalysisDeps): Promise<ApiResult> {
  const parsed = nlBody.safeParse(body);
  if (!parsed.success) throw new ValidationError(fieldIssues(parsed.error.issues), 'request');
  // What can be targeted sizes the pools, so the blast radius proposed is what the selection needs; without it the
  // experiment keeps the default, and a dry run says what to raise it to.
  const topology = await deps.topology().catch(() => undefined);
  const { result, ...by } = await deps.analyst.experimentFromText(parsed.data.prompt, topology);
  const checked = checkExperiment(result.experiment);
  return ok({
    prompt: parsed.data.prompt,
    ...by,
    experiment: checked.valid ? checked.experiment : result.experiment,
    understood: result.understood,
    assumptions: result.assumptions,
    ...checked,
    ...(checked.valid ? await planOf(checked.experiment, deps) : {}),
    submitted: false,
    to_run_it: 'POST /api/chaos/experiments with `experiment` as the body (or save it to a file and `chaosduck run` it)',
  });
}

/** An experiment an analyst proposed, through the API's own model: with its defaults, or every problem named. */
function checkExperiment(experiment: unknown): { valid: true; experiment: JsonObject } | { valid: false; problems: { field: string; message: string }[] } {
  try {
    return { valid: true, experiment: parseExperiment(experiment) as unknown as JsonObject };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { valid: false, problems: error.issues };
  }
}

/**
 * The dry run's plan, or what stopped it, said as the API says it: a guardrail, no matching target, a provider this
 * control plane cannot reach (no kubeconfig, say). A corrupt record is not the proposal's doing, and is raised.
 */
async function planOf(
  experiment: JsonObject,
  deps: AnalysisDeps,
): Promise<{ dry_run: JsonObject } | { refused: { code: string; message: string; fields?: FieldIssue[] } }> {
  try {
    return { dry_run: await deps.dryRun(experiment) };
  } catch (error) {
    if (!(error instanceof ChaosDuckError) || error instanceof CorruptRecordError) throw error;
    // The setting that would let it through, as the API's 409 names it (`safety.max_blast_radius`).
    const fields = error instanceof GuardrailError && error.fields?.length ? { fields: error.fields } : {};
    return { refused: { code: error.code, message: error.message, ...fields } };
  }
}

/** `POST /api/analysis/experiment/{id}`: what a finished experiment's journal shows, and what to do next. */
export async function analyzeExperiment(id: string, deps: AnalysisDeps): Promise<ApiResult> {
  if (!experimentId.safeParse(id).success) throw new NotFoundError(`experiment ${id.slice(0, 64)} not found`);
  const journal = await deps.store.getJournal(id);
  if (!journal) {
    const record = await deps.store.getExperiment(id); // NotFoundError for an unknown one
    throw new ConflictError(`experiment ${id} is still ${record.status}: it can be analysed once it has ended`);
  }
  const { result, ...by } = await deps.analyst.analyzeExperiment(journal);
  return ok({ ...by, analysis: result });
}


/** The topology a request names, or this control plane's own. */
async function topologyOf(body: unknown, deps: AnalysisDeps) {
  const parsed = topologyBody.safeParse(body ?? {});
  if (!parsed.success) throw new ValidationError(fieldIssues(parsed.error.issues), 'request');
  const { topology, steady_state: steadyState, limit } = parsed.data;
  return { topology: (topology ?? (await deps.topology())) as JsonObject, from: topology ? 'request' : 'control plane', steadyState: steadyState as JsonObject | undefined, limit };
}

/**
 * `POST /api/analysis/hypotheses` (`{topology, steady_state}`, or nothing for this control plane's topology): failure
 * hypotheses ranked by likelihood and impact, each with the experiment that would test it, checked by the model.
 */
export async function hypotheses(body: unknown, deps: AnalysisDeps): Promise<ApiResult> {
  const { topology, from, steadyState, limit } = await topologyOf(body, deps);
  const { result, ...by } = await deps.analyst.hypotheses(topology, steadyState);
  return ok({
    ...by,
    topology_from: from,
    hypotheses: result.slice(0, limit).map((hypothesis) => {
      const checked = checkExperiment(hypothesis.experiment);
      return { ...hypothesis, ...(checked.valid ? { experiment: checked.experiment } : { problems: checked.problems }), valid: checked.valid };
    }),
  });
}

/**
 * `POST /api/analysis/generate-experiments`: candidate experiments for the topology, each validated and dry-run (its
 * plan, or what refused it); the ones that would run first. None is submitted.
 */
export async function generateExperiments(body: unknown, deps: AnalysisDeps): Promise<ApiResult> {
  const { topology, from, steadyState, limit } = await topologyOf(body, deps);
  const { result, ...by } = await deps.analyst.hypotheses(topology, steadyState);
  const candidates = await Promise.all(
    result.slice(0, limit).map(async ({ title, statement, experiment }) => {
      const checked = checkExperiment(experiment);
      return checked.valid
        ? { title, hypothesis: statement, experiment: checked.experiment, valid: true, ...(await planOf(checked.experiment, deps)) }
        : { title, hypothesis: statement, experiment, valid: false, problems: checked.problems };
    }),
  );
  const runnable = (c: (typeof candidates)[number]) => ('dry_run' in c ? 0 : 1);
  return ok({ ...by, topology_from: from, candidates: [...candidates].sort((a, b) => runnable(a) - runnable(b)), submitted: false });
}


/**
 * `POST /api/analysis/report` (`{experiments: [ids]}`): a narrative report of finished experiments — conclusions,
 * each experiment's reading and charts, their comparison, recommendations — as Markdown and as a self-contained HTML
 * page.
 */
export async function report(body: unknown, deps: AnalysisDeps): Promise<ApiResult> {
  const parsed = reportBody.safeParse(body);
  if (!parsed.success) throw new ValidationError(fieldIssues(parsed.error.issues), 'request');
  const journals = [];
  for (const [index, id] of parsed.data.experiments.entries()) {
    const journal = await deps.store.getJournal(id);
    if (!journal) {
      const record = await deps.store.getExperiment(id).catch((error: unknown) => {
        if (error instanceof NotFoundError) throw new ValidationError([{ field: `experiments[${index}]`, message: `experiment ${id} not found` }], 'request');
        throw error;
      });
      throw new ValidationError([{ field: `experiments[${index}]`, message: `experiment ${id} is still ${record.status}; report on it once it has ended` }], 'request');
    }
    journals.push(journal);
  }
  const { by, ...rendered } = await reportOn(journals, deps.analyst);
  return ok({ ...by, experiments: parsed.data.experiments, ...rendered });
}

/** `GET /openapi.json`: every route this runtime serves, described as OpenAPI 3.1, with the address it was asked at. */
export function openApi(serverUrl: string | undefined, deps: Pick<AnalysisDeps, 'runtime'>): ApiResult {
  return ok(apiDocument(deps.runtime, serverUrl));
}

/**
 * `GET /api/chaos/experiments/{id}/report`: one finished experiment's report, as the HTML page itself (its charts
 * inline, nothing to fetch). An unknown experiment is a 404, one still running a 409, as for its analysis.
 */
export async function experimentReport(id: string, deps: AnalysisDeps): Promise<Report> {
  if (!experimentId.safeParse(id).success) throw new NotFoundError(`experiment ${id.slice(0, 64)} not found`);
  const journal = await deps.store.getJournal(id);
  if (!journal) {
    const record = await deps.store.getExperiment(id); // NotFoundError for an unknown one
    throw new ConflictError(`experiment ${id} is still ${record.status}: its report can be made once it has ended`);
  }
  return await reportOn([journal], deps.analyst);
}

/** Who wrote a report's readings: the rules, or Claude (its model and the tokens used), and why the rules stood in. */
export interface ReportAuthors {
  source: string;
  model: string | null;
  usage: TokenUsage | null;
  note?: string;
}

/**
 * The report on finished experiments' journals (the API's, or files a user gives the CLI): each read by the analyst,
 * then rendered with its charts.
 */
export async function reportOn(journals: readonly JsonObject[], analyst: Analyst): Promise<Report & { by: ReportAuthors }> {
  const items: ReportInput[] = [];
  const by: { source: string; model: string | null; notes: string[]; usage: TokenUsage } = { source: 'rules', model: null, notes: [], usage: { input_tokens: 0, output_tokens: 0 } };
  for (const journal of journals) {
    const answer = await analyst.analyzeExperiment(journal);
    if (answer.source === 'claude') Object.assign(by, { source: 'claude', model: answer.model });
    if (answer.note) by.notes.push(answer.note);
    by.usage.input_tokens += answer.usage?.input_tokens ?? 0;
    by.usage.output_tokens += answer.usage?.output_tokens ?? 0;
    const experiment = (journal.experiment ?? {}) as JsonObject;
    const duck = (journal.chaosduck ?? {}) as JsonObject;
    items.push({
      analysis: answer.result,
      journal,
      name: String(experiment.name ?? experiment.title ?? duck.id ?? 'experiment'),
      chaosType: String(experiment.chaos_type ?? 'chaostoolkit'),
      status: String(journal.status ?? ''),
      endedAt: String(journal.end ?? ''),
    });
  }
  const rendered = renderReport(items, new Date().toISOString());
  return {
    ...rendered,
    by: {
      source: by.source,
      model: by.model,
      usage: by.source === 'claude' ? by.usage : null,
      ...(by.notes.length > 0 ? { note: [...new Set(by.notes)].join('; ') } : {}),
    },
  };
}

/**
 * `POST /api/analysis/predict` (an experiment, as `POST /api/chaos/experiments` takes it): the hypothesis it would run
 * with, and the impact predicted while its fault is in place, without running it. The HYPOTHESIS phase in AWS asks this.
 */
export async function predictExperiment(body: unknown, deps: AnalysisDeps): Promise<ApiResult> {
  const spec = validateExperiment(body, deps);
  const { result, ...by } = await deps.analyst.predict(spec, ruleBasedHypothesis(spec));
  return ok({ ...by, hypothesis: result });
}
