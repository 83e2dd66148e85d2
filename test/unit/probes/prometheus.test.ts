/**
 * The `prometheus` probe without a server: its schema (every bad field named), the value tolerance it judges with,
 * and the stop-condition rules for it (which probes OBSERVE runs, which fired, what the halt says). The probe against
 * a real Prometheus server is in test/integration/prometheus-probe.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ruleBasedHypothesis } from '../../../shared/analysis/prediction.js';
import type { ActivityRecord, JsonValue } from '../../../shared/journal/activity.js';
import { probesFor } from '../../../shared/lifecycle/events.js';
import type { ValueTolerance } from '../../../shared/model/experiment.js';
import { parseExperiment } from '../../../shared/model/parse.js';
import { describeStopConditions, firedStopConditions } from '../../../shared/probes/index.js';
import { breach, describeTolerance, outOfTolerance, withinTolerance } from '../../../shared/probes/value-tolerance.js';
import { issuesOf } from './fixtures.js';

const experiment = (probes: unknown[]) => ({
  name: 'prometheus-probe',
  chaos_type: 'pod_delete',
  target: { labels: { app: 'demo' } },
  parameters: { duration_seconds: 10 },
  probes,
});
const promProbe = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  name: 'errors',
  type: 'prometheus',
  properties: { url: 'http://prometheus:9090', query: 'sum(rate(http_requests_total{code=~"5.."}[1m]))', tolerance: { lt: 1 }, ...properties },
  ...extra,
});

describe('prometheus probe schema', () => {
  it('fills in the defaults: GET, 5 s, no empty result, not a stop condition', () => {
    const spec = parseExperiment(experiment([promProbe({})]));
    expect(spec.probes[0]).toEqual({
      name: 'errors',
      mode: 'continuous',
      type: 'prometheus',
      properties: {
        url: 'http://prometheus:9090',
        query: 'sum(rate(http_requests_total{code=~"5.."}[1m]))',
        method: 'GET',
        headers: {},
        timeout_ms: 5000,
        tolerance: { lt: 1 },
        allow_empty: false,
        stop_condition: false,
      },
    });
  });

  it('accepts a path prefix, credentials, headers, POST, each tolerance kind and a stop condition', () => {
    for (const tolerance of [{ equals: 1 }, { lt: 0.05 }, { gt: 0.99 }, { gt: 0, lt: 1 }, { range: [0.99, 1] }, { range: [-1, -1] }]) {
      const spec = parseExperiment(
        experiment([
          promProbe({
            url: 'https://user:token@mimir.example.com/prometheus/',
            method: 'POST',
            headers: { 'X-Scope-OrgID': 'shop' },
            timeout_ms: 2000,
            tolerance,
            allow_empty: true,
            stop_condition: true,
          }),
        ]),
      );
      expect(spec.probes[0]?.properties).toMatchObject({ tolerance, stop_condition: true, allow_empty: true });
    }
  });

  it.each([
    ['a missing url', { url: undefined }, 'probes[0].properties.url'],
    ['a url that is not http', { url: 'ftp://prometheus:9090' }, 'probes[0].properties.url'],
    ['the query endpoint instead of the base URL', { url: 'http://prometheus:9090/api/v1/query' }, 'probes[0].properties.url'],
    ['a url with a query string', { url: 'http://prometheus:9090/?tenant=a' }, 'probes[0].properties.url'],
    ['a missing query', { query: undefined }, 'probes[0].properties.query'],
    ['a blank query', { query: '  ' }, 'probes[0].properties.query'],
    ['a query over 8192 characters', { query: 'x'.repeat(8193) }, 'probes[0].properties.query'],
    ['an unknown method', { method: 'PUT' }, 'probes[0].properties.method'],
    ['a zero timeout', { timeout_ms: 0 }, 'probes[0].properties.timeout_ms'],
    ['a missing tolerance', { tolerance: undefined }, 'probes[0].properties.tolerance'],
    ['an empty tolerance', { tolerance: {} }, 'probes[0].properties.tolerance'],
    ['a tolerance that is not a number', { tolerance: { lt: '1' } }, 'probes[0].properties.tolerance.lt'],
    ['a range of one number', { tolerance: { range: [1] } }, 'probes[0].properties.tolerance.range'],
    ['a range upside down', { tolerance: { range: [1, 0] } }, 'probes[0].properties.tolerance.range'],
    ['gt not below lt', { tolerance: { gt: 1, lt: 1 } }, 'probes[0].properties.tolerance.lt'],
    ['equals with a bound', { tolerance: { equals: 1, gt: 0 } }, 'probes[0].properties.tolerance.gt'],
    ['range with a bound', { tolerance: { range: [0, 1], lt: 2 } }, 'probes[0].properties.tolerance.lt'],
    ['a non-boolean allow_empty', { allow_empty: 'yes' }, 'probes[0].properties.allow_empty'],
    ['a non-boolean stop condition', { stop_condition: 1 }, 'probes[0].properties.stop_condition'],
    ['an unknown property (typo)', { stop_conditon: true }, 'probes[0].properties.stop_conditon'],
  ])('names the field for %s', (_what, properties, field) => {
    const issues = issuesOf(experiment([promProbe(properties)]));
    expect(issues.map((i) => i.field)).toEqual([field]);
  });

  it('names an unknown tolerance kind, and says which ones there are', () => {
    expect(issuesOf(experiment([promProbe({ tolerance: { le: 1 } })]))).toEqual([
      { field: 'probes[0].properties.tolerance.le', message: 'unknown field' },
      { field: 'probes[0].properties.tolerance', message: "give the value's tolerance: equals, lt, gt (one or both) or range: [min, max]" },
    ]);
  });

  it('says why a tolerance is contradictory', () => {
    const message = (tolerance: unknown) => issuesOf(experiment([promProbe({ tolerance })]))[0]?.message;
    expect(message({})).toBe("give the value's tolerance: equals, lt, gt (one or both) or range: [min, max]");
    expect(message({ gt: 5, lt: 1 })).toBe('no value is both greater than 5 (gt) and less than 1 (lt)');
    expect(message({ range: [1, 0] })).toBe("the range's minimum 1 is above its maximum 0; write it as [min, max]");
    expect(message({ equals: 1, range: [0, 2] })).toBe('equals already fixes the value; range cannot be added to it');
    expect(message({ range: [0, 2], gt: 0 })).toBe('range already gives both bounds; put this one in range, or use lt and gt alone');
    expect(issuesOf(experiment([promProbe({ url: 'http://p:9090/api/v1/query' })]))[0]?.message).toBe(
      "give the server's base URL (such as http://prometheus:9090): the probe adds /api/v1/query itself",
    );
  });
});

describe('value tolerance', () => {
  it.each<[ValueTolerance, number[], number[], string]>([
    [{ equals: 1 }, [1], [0.999, 1.001, Number.NaN], '= 1'],
    [{ lt: 0.5 }, [0.49, -10], [0.5, 0.51, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY], '< 0.5'],
    [{ gt: 0.5 }, [0.51], [0.5, Number.NaN], '> 0.5'],
    [{ gt: 0, lt: 1 }, [0.5], [0, 1], '> 0 and < 1'],
    [{ range: [0, 1] }, [0, 0.5, 1], [-0.01, 1.01], 'within [0, 1]'],
  ])('%j: within for %j, not for %j', (tolerance, inside, outside, text) => {
    for (const value of inside) expect(withinTolerance(value, tolerance), String(value)).toBe(true);
    for (const value of outside) expect(withinTolerance(value, tolerance), String(value)).toBe(false);
    expect(describeTolerance(tolerance)).toBe(text);
  });

  it('ranks values by how far past their nearest bound they are, so the largest is the worst', () => {
    expect(breach(0.3, { lt: 0.1 })).toBeCloseTo(0.2);
    expect(breach(0.01, { lt: 0.1 })).toBeCloseTo(-0.09);
    expect(breach(0.5, { gt: 0.9 })).toBeCloseTo(0.4);
    expect(breach(3, { equals: 1 })).toBe(2);
    expect(breach(1.2, { range: [0, 1] })).toBeCloseTo(0.2);
    expect(breach(-0.5, { range: [0, 1] })).toBeCloseTo(0.5);
    // Inside a range, the value nearest either end is nearest to leaving it.
    expect(breach(0.9, { range: [0, 1] })).toBeGreaterThan(breach(0.5, { range: [0, 1] }));
    expect(breach(0.05, { gt: 0, lt: 1 })).toBeGreaterThan(breach(0.5, { gt: 0, lt: 1 }));
  });

  it.each<[ValueTolerance, number[], number[]]>([
    [{ lt: 0.5 }, [0.5, 0.51, Infinity], [0.49, -Infinity, Number.NaN]],
    [{ gt: 0.5 }, [0.5, -Infinity], [0.51, Infinity, Number.NaN]],
    [{ gt: 0, lt: 1 }, [1, Infinity, -Infinity], [0.5, Number.NaN]],
    [{ range: [0, 1] }, [1.01, Infinity, -Infinity], [0, 1, Number.NaN]],
    [{ equals: 1 }, [0.999, Infinity, -Infinity], [1, Number.NaN]],
  ])('%j: out of tolerance for %j (an infinity past a bound), not for %j (NaN and an infinity on the open side measured nothing)', (tolerance, out, notOut) => {
    for (const value of out) expect(outOfTolerance(value, tolerance), String(value)).toBe(true);
    for (const value of notOut) expect(outOfTolerance(value, tolerance), String(value)).toBe(false);
  });
});

// ---- stop conditions ---------------------------------------------------------------------------------------------------

/** A probe record as the runner writes it, with the output the prometheus probe gives. */
const recordOf = (name: string, output: JsonValue, met: boolean): ActivityRecord => ({
  activity: { type: 'probe', name, provider: { type: 'prometheus' } },
  status: met ? 'succeeded' : 'failed',
  tolerance_met: met,
  start: '2026-01-01T00:00:00.000Z',
  end: '2026-01-01T00:00:00.010Z',
  duration: 0.01,
  output,
});
const measured = (value: number | null, failures: string[] = []) => ({ result_type: 'vector', value, series: [], series_count: value === null ? 0 : 1, tolerance: { lt: 0.5 }, failures });

describe('prometheus stop conditions', () => {
  it('run on every OBSERVE tick whatever their mode; other prometheus probes follow their mode', () => {
    const spec = parseExperiment(
      experiment([
        promProbe({ stop_condition: true }, { name: 'stop-sot', mode: 'sot' }),
        promProbe({ stop_condition: true }, { name: 'stop-eot', mode: 'eot' }),
        promProbe({}, { name: 'plain-sot', mode: 'sot' }),
        promProbe({}, { name: 'plain-on-chaos', mode: 'on_chaos' }),
      ]),
    );
    const names = (when: 'before' | 'during' | 'after') => probesFor(spec, when).map((p) => p.name);
    expect(names('before')).toEqual(['stop-sot', 'plain-sot']);
    expect(names('during')).toEqual(['stop-sot', 'stop-eot', 'plain-on-chaos']);
    expect(names('after')).toEqual(['stop-eot']);
  });

  it('fire only for stop conditions whose value was measured out of tolerance', () => {
    const spec = parseExperiment(
      experiment([
        promProbe({ stop_condition: true, tolerance: { lt: 0.5 } }, { name: 'out' }),
        promProbe({ stop_condition: true, tolerance: { lt: 0.5 } }, { name: 'within' }),
        promProbe({ tolerance: { lt: 0.5 } }, { name: 'watch-only' }), // out of tolerance, but only a failed probe
        promProbe({ stop_condition: true, tolerance: { lt: 0.5 } }, { name: 'empty' }),
        promProbe({ stop_condition: true, tolerance: { lt: 0.5 } }, { name: 'unreachable' }),
        { name: 'alarm', type: 'cloudwatch_alarm', properties: { alarm_name: 'api-5xx', stop_condition: true } },
      ]),
    );
    const failure = '{job="api"} = 0.9, expected < 0.5';
    const records = [
      recordOf('out', measured(0.9, [failure]), false),
      recordOf('within', measured(0.1), true),
      recordOf('watch-only', measured(0.9, [failure]), false),
      recordOf('empty', measured(null, ['the query returned no series']), false),
      recordOf('unreachable', measured(null, ['connection refused: connect ECONNREFUSED 127.0.0.1:9090']), false),
      recordOf('alarm', { alarm_name: 'api-5xx', state: 'ALARM', reason: 'errors above threshold' }, false),
    ];

    const fired = firedStopConditions(spec.probes, records);

    expect(fired).toEqual([
      { probe: 'out', query: 'sum(rate(http_requests_total{code=~"5.."}[1m]))', value: 0.9, reason: failure },
      { probe: 'alarm', alarm_name: 'api-5xx', reason: 'errors above threshold' },
    ]);
    expect(describeStopConditions(fired)).toBe(`CloudWatch alarm "api-5xx" (probe alarm) is in ALARM; Prometheus probe out: ${failure}`);
  });

  it('fire on a series that read ±Inf past a bound, saying which; not on NaN, nor on an infinity on the open side', () => {
    const stop = (name: string, tolerance: ValueTolerance) => promProbe({ stop_condition: true, tolerance }, { name });
    const spec = parseExperiment(
      experiment([stop('inf-lt', { lt: 0.5 }), stop('minus-inf-range', { range: [0, 1] }), stop('inf-gt', { gt: 0 }), stop('nan', { lt: 0.5 }), stop('inf-beside-finite', { lt: 0.5 })]),
    );
    const inf = '{job="api"} = +Inf, expected < 0.5 (x/0, or a quantile above the highest histogram bucket)';
    // As the probe writes them: no finite value, or the worst finite one within tolerance beside an infinite series.
    const nonFinite = (value: number | null, written: string[], failures: string[]) => ({ ...measured(value, failures), non_finite: written });
    const records = [
      recordOf('inf-lt', nonFinite(null, ['+Inf'], [inf]), false),
      recordOf('minus-inf-range', nonFinite(null, ['-Inf'], ['{} = -Inf, expected within [0, 1] (x/0, …)']), false),
      recordOf('inf-gt', nonFinite(null, ['+Inf'], ['{} = +Inf, not a finite number (x/0, …)']), false),
      recordOf('nan', nonFinite(null, ['NaN'], ['{} = NaN, which no tolerance accepts']), false),
      recordOf('inf-beside-finite', nonFinite(0.1, ['+Inf'], [inf]), false),
    ];

    expect(firedStopConditions(spec.probes, records)).toEqual([
      { probe: 'inf-lt', query: 'sum(rate(http_requests_total{code=~"5.."}[1m]))', value: '+Inf', reason: inf },
      { probe: 'minus-inf-range', query: 'sum(rate(http_requests_total{code=~"5.."}[1m]))', value: '-Inf', reason: '{} = -Inf, expected within [0, 1] (x/0, …)' },
      { probe: 'inf-beside-finite', query: 'sum(rate(http_requests_total{code=~"5.."}[1m]))', value: '+Inf', reason: inf },
    ]);
  });

  it('judge the value against the probe\'s own tolerance, not what its output says', () => {
    const spec = parseExperiment(experiment([promProbe({ stop_condition: true, tolerance: { lt: 0.5 } })]));
    const forged = { ...measured(0.9), tolerance: { lt: 1 } };
    expect(firedStopConditions(spec.probes, [recordOf('errors', forged, true)])).toMatchObject([{ probe: 'errors', value: 0.9 }]);
  });

  it('keep the CloudWatch wording, alarms together', () => {
    const fired = [
      { probe: 'a', alarm_name: 'first', reason: null },
      { probe: 'b', alarm_name: 'second', reason: 'r' },
    ];
    expect(describeStopConditions(fired)).toBe('CloudWatch alarm "first" (probe a), "second" (probe b) is in ALARM');
  });

  it('appear in the hypothesis with their tolerance', () => {
    const spec = parseExperiment(
      experiment([
        promProbe({ stop_condition: true, tolerance: { range: [0.99, 1] }, query: 'avg(up{job="api"})' }, { name: 'up' }),
        promProbe({ allow_empty: true, tolerance: { lt: 1 } }, { name: 'errors', mode: 'eot' }),
      ]),
    );
    expect(ruleBasedHypothesis(spec).expectations).toEqual([
      'up: Prometheus query avg(up{job="api"}) stays within [0.99, 1] in every series (stop condition: a value out of tolerance halts the experiment)',
      'errors: Prometheus query sum(rate(http_requests_total{code=~"5.."}[1m])) stays < 1 in every series, or no series',
    ]);
  });
});
