/**
 * The `prometheus` probe: one PromQL instant query (`GET` or `POST <url>/api/v1/query`, as Prometheus' HTTP API and
 * the servers that speak it — Thanos, Mimir, VictoriaMetrics — take it), its value judged against `tolerance`. A
 * scalar is one value; an instant vector is within tolerance only when every series is.
 *
 * Like the other probes it never throws for what it measures: a query Prometheus refuses (its own `errorType` and
 * `error` are the reason), an unreachable server, a timeout, an answer that is not Prometheus', a range vector, no
 * series, NaN or ±Inf are failed outcomes that say why. Only cancelling the run (`env.signal`) throws. Plain fetch:
 * it runs the same on the local and the Lambda runtime.
 *
 * The output always has the same fields, so a report can chart `value` over time with `tolerance` drawn in:
 * `{result_type, value, series, series_count, tolerance, failures}` (and `warnings`, when Prometheus gave some).
 * `value` is the worst finite value (the one furthest past its bound, or nearest to it), null when there is none.
 * JSON has no NaN or ±Inf: a series that read one has `value: null` and `non_finite` (`NaN`, `+Inf`, `-Inf`, as
 * Prometheus writes them), and the output lists under `non_finite` the ones any series read, so a stop condition
 * sees a +Inf that went past its bound (`outOfTolerance`) even when the series itself was not kept.
 */
import * as z from 'zod';
import type { PrometheusProbe, ValueTolerance } from '../model/experiment.js';
import { excerpt } from './capture.js';
import { boundedFetch, MAX_BODY_BYTES, moveCredentials } from './http.js';
import type { ProbeEnvironment, ProbeOutcome } from './probe.js';
import { breach, describeTolerance, nonFiniteText, outOfTolerance, withinTolerance, type NonFinite } from './value-tolerance.js';

/** Every series is judged; this many are kept in the journal, worst first (a query can return thousands). */
export const MAX_SERIES_KEPT = 20;
/** Series failures spelled out one by one; the others are counted. */
export const MAX_SERIES_FAILURES = 10;

/** A sample as Prometheus writes it: `[unix seconds, "value"]`, the value a string so NaN and ±Inf survive JSON. */
const sample = z.tuple([z.number(), z.string()]);
const prometheusAnswer = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.discriminatedUnion('resultType', [
      // A native histogram sample comes as `histogram` instead of `value`.
      z.object({ resultType: z.literal('vector'), result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: sample.optional() })) }),
      z.object({ resultType: z.literal('scalar'), result: sample }),
      z.object({ resultType: z.literal('matrix'), result: z.unknown() }),
      z.object({ resultType: z.literal('string'), result: z.unknown() }),
    ]),
    warnings: z.array(z.string()).optional(),
  }),
  z.object({ status: z.literal('error'), errorType: z.string().optional(), error: z.string().optional() }),
]);

export type PrometheusSeries = { labels: Record<string, string>; value: number | null; within_tolerance: boolean; non_finite?: NonFinite };

export async function runPrometheusProbe(probe: PrometheusProbe, env: ProbeEnvironment): Promise<ProbeOutcome> {
  const props = probe.properties;
  const output = (resultType: string | null, judged: Judged[], failures: string[], warnings: string[] = []) => {
    const nonFinite = [...new Set(judged.flatMap((s) => (s.non_finite ? [s.non_finite] : [])))];
    return {
      result_type: resultType,
      value: judged.find((s) => s.value !== null)?.value ?? null,
      series: judged.slice(0, MAX_SERIES_KEPT).map(({ rank: _rank, failure: _failure, ...series }): PrometheusSeries => series),
      series_count: judged.length,
      tolerance: props.tolerance,
      failures,
      ...(nonFinite.length > 0 ? { non_finite: nonFinite } : {}),
      ...(warnings.length > 0 ? { warnings: warnings.slice(0, MAX_SERIES_FAILURES).map(excerpt) } : {}),
    };
  };
  const failed = (reason: string): ProbeOutcome => ({ ok: false, output: output(null, [], [reason]) });

  const { url, headers } = moveCredentials(props.url, props.headers);
  const endpoint = new URL(url);
  endpoint.pathname = `${endpoint.pathname.replace(/\/+$/, '')}/api/v1/query`;
  // Prometheus gives up on its side too, rather than evaluating a query nobody waits for any more.
  const params = new URLSearchParams({ query: props.query, timeout: `${props.timeout_ms}ms` });
  if (props.method === 'GET') endpoint.search = params.toString();
  const response = await boundedFetch(endpoint, { method: props.method, headers, body: props.method === 'POST' ? params : undefined }, props.timeout_ms, env.signal);
  if ('error' in response) return failed(response.error === 'timeout' ? `no answer from Prometheus within ${props.timeout_ms} ms` : response.reason);
  const { status, body: text } = response;

  const answer = prometheusAnswer.safeParse(parseJson(text));
  if (answer.success && answer.data.status === 'error') {
    const { errorType, error } = answer.data;
    return failed(`Prometheus could not run the query (HTTP ${status}${errorType ? ` ${errorType}` : ''}): ${error ?? 'no reason given'}`);
  }
  if (status < 200 || status > 299) return failed(`HTTP ${status} from the Prometheus API: ${excerpt(text.trim()) || '(empty body)'}`);
  if (!answer.success || answer.data.status !== 'success') {
    const cut = Buffer.byteLength(text) >= MAX_BODY_BYTES ? ` (the answer is over ${MAX_BODY_BYTES / 1024 / 1024} MiB: narrow the query)` : '';
    return failed(`the answer is not a Prometheus query result (is the URL a Prometheus server?)${cut}: ${excerpt(text.trim()) || '(empty body)'}`);
  }

  const { data, warnings = [] } = answer.data;
  if (data.resultType === 'matrix') {
    return failed('the query returned a range vector (matrix); the probe judges an instant vector or a scalar: drop the [range] selector, or wrap it in a function such as rate() or max_over_time()');
  }
  if (data.resultType === 'string') return failed('the query returned a string; the probe judges numbers (an instant vector or a scalar)');
  const samples = data.resultType === 'scalar' ? [{ metric: null, value: data.result }] : data.result;
  const judged = samples.map(({ metric, value }) => judge(metric, value?.[1], props.tolerance)).sort((a, b) => b.rank - a.rank);
  if (judged.length === 0) {
    if (props.allow_empty) return { ok: true, output: output(data.resultType, [], [], warnings) };
    return { ok: false, output: output(data.resultType, [], [`the query returned no series (nothing matched it; when that is fine, as with no errors yet, set allow_empty: true)`], warnings) };
  }
  const out = judged.filter((s) => !s.within_tolerance);
  const failures = out.slice(0, MAX_SERIES_FAILURES).map((s) => s.failure);
  if (out.length > MAX_SERIES_FAILURES) failures.push(`and ${out.length - MAX_SERIES_FAILURES} more series out of tolerance`);
  return { ok: failures.length === 0, output: output(data.resultType, judged, failures, warnings) };
}

interface Judged extends PrometheusSeries {
  /** Worst first: how far past its bound (`breach`); a value that cannot be judged comes before all. */
  rank: number;
  failure: string;
}

/** `metric` null: a scalar. `text` undefined: a native histogram, which has no single value. */
function judge(metric: Record<string, string> | null, text: string | undefined, tolerance: ValueTolerance): Judged {
  const labels = Object.fromEntries(Object.entries(metric ?? {}).map(([name, value]) => [name, excerpt(value)]));
  const series = metric === null ? 'the scalar' : selector(labels);
  const base = { labels, value: null, within_tolerance: false, rank: Infinity };
  if (text === undefined) return { ...base, failure: `${series} is a native histogram, not a number: query one from it (histogram_quantile, histogram_count, histogram_sum)` };
  const value = sampleValue(text);
  if (Number.isNaN(value)) return { ...base, non_finite: 'NaN', failure: `${series} = NaN, which no tolerance accepts (0/0: often a ratio over a window with no requests)` };
  if (!Number.isFinite(value)) {
    const written = nonFiniteText(value);
    const cause = '(x/0, or a quantile above the highest histogram bucket)';
    // Past a bound it is out of tolerance (a stop condition fires on it); on a bound's open side no tolerance places it.
    const verdict = outOfTolerance(value, tolerance) ? `expected ${describeTolerance(tolerance)}` : 'not a finite number';
    return { ...base, non_finite: written, failure: `${series} = ${written}, ${verdict} ${cause}` };
  }
  const within = withinTolerance(value, tolerance);
  return { labels, value, within_tolerance: within, rank: breach(value, tolerance), failure: within ? '' : `${series} = ${value}, expected ${describeTolerance(tolerance)}` };
}

/** Prometheus writes the special values as Go does: `NaN`, `+Inf`, `-Inf`. */
function sampleValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return text.trim() === '' ? Number.NaN : Number(text);
}

/** A series as PromQL writes it: `http_requests_total{code="500", job="api"}`, `{}` for one without labels. */
function selector(labels: Record<string, string>): string {
  const { __name__: name = '', ...rest } = labels;
  return `${name}{${Object.entries(rest).map(([label, value]) => `${label}=${JSON.stringify(value)}`).join(', ')}}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
