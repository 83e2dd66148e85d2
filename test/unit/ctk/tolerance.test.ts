/**
 * Judging a probe's output as chaoslib's `within_tolerance` judges it, including the behaviours that surprise people
 * (each named in its test): a mapping never equals a boolean, `1 == True` as in Python, a two-number list is an
 * inclusive range unless the output has a `status`, jsonpath2's single-`=` filters. Also `${name}` substitution and
 * the configuration's environment values, as chaoslib resolves them.
 */
import { describe, expect, it } from 'vitest';
import { convertEnvValue, resolveConfiguration, substitute, substitutionValues } from '../../../shared/ctk/configuration.js';
import { jsonPathMatches, pyEquals, withinTolerance } from '../../../shared/ctk/tolerance.js';

const http = (status: number, body: unknown = '') => ({ status, headers: {}, body: body as never });
const process = (status: number, stdout = '') => ({ status, stdout, stderr: '' });

describe('withinTolerance', () => {
  it('bool: equal; a process or http output (a mapping) never equals a boolean, so `tolerance: true` on one always misses', () => {
    expect(withinTolerance(true, true)).toBe(true);
    expect(withinTolerance(false, true)).toBe(false);
    expect(withinTolerance(true, process(0))).toBe(false);
    // Python: 1 == True.
    expect(withinTolerance(true, 1)).toBe(true);
  });

  it("int: the output, or the output's status", () => {
    expect(withinTolerance(200, http(200))).toBe(true);
    expect(withinTolerance(200, http(503))).toBe(false);
    expect(withinTolerance(0, process(0))).toBe(true);
    expect(withinTolerance(3, 3)).toBe(true);
  });

  it('str: equal', () => {
    expect(withinTolerance('ok', 'ok')).toBe(true);
    expect(withinTolerance('ok', 'OK')).toBe(false);
  });

  it('list: status membership when the output has one; else two items are an inclusive range; else membership', () => {
    expect(withinTolerance([200, 201], http(201))).toBe(true);
    // Surprising: with a status, [200, 204] is membership, so 202 misses.
    expect(withinTolerance([200, 204], http(202))).toBe(false);
    // Without one, [200, 204] is a range, so 202 is met.
    expect(withinTolerance([200, 204], 202)).toBe(true);
    expect(withinTolerance([1, 5], 5)).toBe(true);
    expect(withinTolerance([1, 5], 6)).toBe(false);
    expect(withinTolerance(['a', 'b', 'c'], 'b')).toBe(true);
    // A range against text Python cannot compare: not met.
    expect(withinTolerance([1, 5], 'three')).toBe(false);
  });

  it('range: a number (or numeric text) within [a, b], of the output or its `target`', () => {
    expect(withinTolerance({ type: 'range', range: [0, 0.5] }, 0.25)).toBe(true);
    expect(withinTolerance({ type: 'range', range: [0, 0.5] }, '0.75')).toBe(false);
    expect(withinTolerance({ type: 'range', range: [100, 300], target: 'latency' }, { latency: 120 })).toBe(true);
    expect(withinTolerance({ type: 'range', range: [0, 1] }, 'fast')).toBe(false);
  });

  it('regex: searched in the output or its `target`, Python named groups read as JavaScript ones', () => {
    expect(withinTolerance({ type: 'regex', pattern: 'ready' }, 'all ready now')).toBe(true);
    expect(withinTolerance({ type: 'regex', pattern: '^ok', target: 'stdout' }, process(0, 'ok\n'))).toBe(true);
    expect(withinTolerance({ type: 'regex', pattern: '(?P<n>\\d+) up' }, '3 up')).toBe(true);
    expect(withinTolerance({ type: 'regex', pattern: 'x' }, 42)).toBe(false);
  });

  it('jsonpath: any match, `count` matches, or exactly `expect`; JSON text is parsed first; jsonpath2 filters use one =', () => {
    const body = { items: [{ name: 'web', ready: true }, { name: 'db', ready: false }] };
    expect(withinTolerance({ type: 'jsonpath', path: '$.items[*][?(@.name="web")].ready' }, body)).toBe(true);
    // jsonpath2 filters keep the node they apply to: a list has no `name`, so this matches nothing, as in chaos run.
    expect(withinTolerance({ type: 'jsonpath', path: '$.items[?(@.name="web")].ready' }, body)).toBe(false);
    expect(withinTolerance({ type: 'jsonpath', path: '$.items[*]', count: 2 }, body)).toBe(true);
    expect(withinTolerance({ type: 'jsonpath', path: '$.items[*]', count: 3 }, body)).toBe(false);
    expect(withinTolerance({ type: 'jsonpath', path: '$.items[*][?(@.name="db")].ready', expect: false }, body)).toBe(true);
    expect(withinTolerance({ type: 'jsonpath', path: '$.items[*].name', expect: ['web', 'db'] }, body)).toBe(true);
    expect(withinTolerance({ type: 'jsonpath', path: '$.status', target: 'body' }, http(200, JSON.stringify({ status: 'up' })))).toBe(true);
    expect(withinTolerance({ type: 'jsonpath', path: '$.missing' }, body)).toBe(false);
  });

  it('matches what jsonpath2 matches (each expectation read from jsonpath2, as chaoslib 1.45.1 uses it)', () => {
    const doc = { status: 200, body: { count: 2, services: [{ name: 'web', ready: true, n: 1 }, { name: 'db', ready: false, n: 2 }] } };
    const cases: [string, unknown[]][] = [
      ['$.body.services[?(@.name="web")].ready', []],
      ['$.body.services[*][?(@.name="web")].ready', [true]],
      ['$.body.services[*][?(@.name = "db")].ready', [false]],
      ['$..[?(@.name="web")].ready', [true]],
      ['$.body.services[*].name', ['web', 'db']],
      ['$.body.services[0].name', ['web']],
      ['$.body.services[*][?(@.ready = true)].name', ['web']],
      ['$.body.services[*][?(@.ready = true and @.name = "web")].name', ['web']],
      ['$.body.services[*][?(@.ready = true or @.name = "db")].name', ['web', 'db']],
      ['$.status', [200]],
      ['$.body.missing', []],
      ['$.body.services[*][?(@.name != "web")].name', ['db']],
      ['$["body"]["services"][*][?(@["name"] = "web")]', [{ name: 'web', ready: true, n: 1 }]],
      ['$.body.services[*][?(@.n > 1)].name', ['db']],
      ['$..name', ['web', 'db']],
    ];
    for (const [path, expected] of cases) expect(jsonPathMatches(path, doc), path).toEqual(expected);
  });

  it("Python's equality for containers", () => {
    expect(pyEquals({ a: [1, 2] }, { a: [1, 2] })).toBe(true);
    expect(pyEquals({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(pyEquals([true], [1])).toBe(true);
  });
});

describe('configuration and substitution', () => {
  it("reads environment values with chaoslib's conversions and defaults", () => {
    const { values, issues } = resolveConfiguration(
      {
        url: 'http://x',
        port: { type: 'env', key: 'PORT', env_var_type: 'int' },
        ratio: { type: 'env', key: 'RATIO', env_var_type: 'float' },
        on: { type: 'env', key: 'ON', env_var_type: 'bool' },
        off: { type: 'env', key: 'OFF', env_var_type: 'bool' },
        doc: { type: 'env', key: 'DOC', env_var_type: 'json' },
        fallback: { type: 'env', key: 'NOT_SET', default: 7 },
        kept: { type: 'other', x: 1 },
      },
      { PORT: '8080', RATIO: '0.5', ON: 'yes', OFF: 'No', DOC: '{"a":[1]}' },
      { url: 'http://overridden' },
    );
    expect(issues).toEqual([]);
    expect(values).toEqual({ url: 'http://overridden', port: 8080, ratio: 0.5, on: true, off: false, doc: { a: [1] }, fallback: 7, kept: { type: 'other', x: 1 } });
    expect(() => convertEnvValue('int', '12x')).toThrow("invalid literal for int(): '12x'");
  });

  it('substitutes ${name} from the configuration, then the secrets; a whole placeholder keeps its type; an unknown one stays', () => {
    const values = substitutionValues({ port: 8080, host: 'shop' }, { api: { token: 't0k', host: 'secret-host' } });
    expect(substitute('http://${host}:${port}/?t=${token}', values)).toBe('http://shop:8080/?t=t0k');
    expect(substitute('${port}', values)).toBe(8080);
    expect(substitute({ args: ['${nope}', '${port}'] }, values)).toEqual({ args: ['${nope}', 8080] });
  });
});
