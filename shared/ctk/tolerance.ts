/**
 * Chaos Toolkit tolerances: checking one as chaoslib validates it (its words, for every problem) and judging a probe's
 * output against it as chaoslib's `within_tolerance` does, Python's equality and ordering included (`1 == True`, a
 * mapping never equals a boolean, a two-number list is an inclusive range unless the output has a `status`).
 *
 * JSON paths: chaoslib uses the jsonpath2 dialect, whose filters compare with a single `=` and keep the node they
 * are applied to (`$.items[*][?(@.name="web")]`); they are evaluated with jsonpath-plus, filter by filter.
 */
import { JSONPath } from 'jsonpath-plus';
import type { JsonValue } from '../journal/activity.js';

const isObject = (value: unknown): value is Record<string, JsonValue> => typeof value === 'object' && value !== null && !Array.isArray(value);

const TYPE_MESSAGE =
  'hypothesis probe tolerance must either be an integer, a string, a boolean or a pair of values for boundaries. It can also be a dictionary which is a probe activity definition that takes an argument called `value` with the value of the probe itself to be validated';

/** A Python `re` pattern as a JavaScript one: the two differ in named groups (`(?P<name>…)`, `(?P=name)`). */
export function regexOf(pattern: string): RegExp {
  return new RegExp(pattern.replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>'));
}

/**
 * A jsonpath2 filter expression as jsonpath-plus evaluates one: `=` is `==` (leaving `==`, `!=`, `<=`, `>=` alone),
 * `and`/`or`/`not` are `&&`/`||`/`!`; string literals are left as they are.
 */
export function filterExpression(expression: string): string {
  return expression
    .split(/("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')/)
    .map((part, index) =>
      index % 2 === 1
        ? part
        : part
            .replace(/(?<![=!<>])=(?!=)/g, '==')
            .replace(/\band\b/g, '&&')
            .replace(/\bor\b/g, '||')
            .replace(/\bnot\b\s*/g, '!'),
    )
    .join('');
}

type PathPart = { path: string } | { filter: string };

/** A path cut at its filters: `$.a[?(@.x="v")].b` is `$.a`, the filter `@.x="v"`, then `.b`. */
function pathParts(path: string): PathPart[] {
  const parts: PathPart[] = [];
  let rest = path;
  for (let open = rest.indexOf('[?('); open >= 0; open = rest.indexOf('[?(')) {
    if (open > 0) parts.push({ path: rest.slice(0, open) });
    // The filter ends at the `)]` that closes its own `(`, strings and nested brackets skipped.
    let depth = 0;
    let end = -1;
    let quote: string | undefined;
    for (let i = open + 2; i < rest.length; i++) {
      const c = rest[i] as string;
      if (quote) {
        if (c === '\\') i++;
        else if (c === quote) quote = undefined;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '(') depth++;
      else if (c === ')' && --depth === 0) {
        if (rest[i + 1] !== ']') throw new SyntaxError(`filter at ${open} is not closed by )]`);
        end = i;
        break;
      }
    }
    if (end < 0) throw new SyntaxError(`filter at ${open} is not closed`);
    parts.push({ filter: rest.slice(open + 3, end) });
    rest = rest.slice(end + 2);
  }
  if (rest !== '') parts.push({ path: rest });
  return parts;
}

/**
 * The values a JSON path matches, with jsonpath2's semantics (the dialect chaoslib uses), evaluated with jsonpath-plus.
 * They differ in filters: in jsonpath2, `X[?(expr)]` keeps the node X itself when `expr` holds of it (so filtering a
 * list's items is `$.items[*][?(@.name="web")]`, and `$.items[?(@.name="web")]` matches nothing), where jsonpath-plus
 * would filter X's children.
 */
export function jsonPathMatches(path: string, document: JsonValue): JsonValue[] {
  const evaluate = (expression: string, json: JsonValue): JsonValue[] =>
    json !== null && typeof json === 'object' ? (JSONPath({ path: expression, json, wrap: true, eval: 'safe' }) as JsonValue[]) : [];
  let nodes: JsonValue[] = [document];
  for (const part of pathParts(path.trim())) {
    if ('filter' in part) {
      const expression = `$[?(${filterExpression(part.filter)})]`;
      nodes = nodes.filter((node) => evaluate(expression, [node]).length > 0);
      continue;
    }
    let text = part.path.startsWith('$') ? part.path.slice(1) : part.path;
    // `..` right before a filter: the node and every node under it are candidates.
    const descend = text.endsWith('..');
    if (descend) text = text.slice(0, -2);
    if (text !== '') nodes = nodes.flatMap((node) => evaluate(`$${text}`, node));
    if (descend) nodes = nodes.flatMap((node) => [node, ...evaluate('$..*', node)]);
  }
  return nodes;
}

/**
 * Why the tolerance is invalid, in chaoslib's words; undefined when it is valid. A `probe` tolerance is an activity,
 * checked by the caller (`checkActivity`), which is given here.
 */
export function toleranceProblem(tolerance: unknown, checkActivity: (activity: unknown) => string | undefined): string | undefined {
  if (typeof tolerance === 'number' && !Number.isInteger(tolerance)) return TYPE_MESSAGE;
  if (!['boolean', 'number', 'string', 'object'].includes(typeof tolerance) || tolerance === null) return TYPE_MESSAGE;
  if (!isObject(tolerance)) return undefined; // bool, int, str or list
  const type = tolerance.type;
  switch (type) {
    case 'probe':
      return checkActivity(tolerance);
    case 'regex': {
      if (!('pattern' in tolerance)) return 'hypothesis regex probe tolerance must have a `pattern` key';
      const pattern = tolerance.pattern;
      if (typeof pattern !== 'string') return `hypothesis probe tolerance pattern ${String(pattern)} has an invalid type`;
      try {
        regexOf(pattern);
      } catch (error) {
        return `hypothesis probe tolerance pattern ${pattern} seems invalid: ${(error as Error).message}`;
      }
      return undefined;
    }
    case 'jsonpath': {
      if (!('path' in tolerance)) return 'hypothesis jsonpath probe tolerance must have a `path` key';
      const path = tolerance.path;
      if (typeof path !== 'string') return `hypothesis probe tolerance JSON path ${String(path)} has an invalid type`;
      if (path === '') return 'hypothesis probe tolerance JSON path cannot be empty';
      try {
        if (!path.trim().startsWith('$')) throw new SyntaxError('a JSON path starts at $');
        jsonPathMatches(path, { probe: [{ probe: 1 }] });
      } catch {
        return `hypothesis probe tolerance JSON path ${path} is invalid`;
      }
      return undefined;
    }
    case 'range': {
      if (!('range' in tolerance)) return 'hypothesis range probe tolerance must have a `range` key';
      const range = tolerance.range;
      if (!Array.isArray(range)) return 'hypothesis range must be a sequence';
      if (range.length !== 2) return 'hypothesis range sequence must be made of two values';
      if (typeof range[0] !== 'number') return 'hypothesis range lower boundary must be a number';
      if (typeof range[1] !== 'number') return 'hypothesis range upper boundary must be a number';
      return undefined;
    }
    default:
      return `hypothesis probe tolerance type '${String(type)}' is unsupported`;
  }
}

/** Python's `==` on JSON values: booleans are the integers 0 and 1; containers compare by content. */
export function pyEquals(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  const numeric = (v: unknown) => typeof v === 'number' || typeof v === 'boolean';
  if (numeric(a) && numeric(b)) return Number(a) === Number(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => pyEquals(item, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => key in b && pyEquals(a[key], b[key]));
  }
  return a === b;
}

/** Python's `a <= b`, or undefined where Python raises TypeError (a string against a number, say). */
function pyLessOrEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean | undefined {
  const numeric = (v: unknown) => typeof v === 'number' || typeof v === 'boolean';
  if (numeric(a) && numeric(b)) return Number(a) <= Number(b);
  if (typeof a === 'string' && typeof b === 'string') return a <= b;
  return undefined;
}

const targetOf = (value: JsonValue, target: JsonValue | undefined): JsonValue =>
  typeof target === 'string' && target !== '' && isObject(value) ? (value[target] ?? value) : value;

/** Python's truth value of a JSON value: empty, zero, None and False are false. */
export function pyTruthy(value: JsonValue): boolean {
  if (value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isObject(value)) return Object.keys(value).length > 0;
  return true;
}

/**
 * Whether `output` meets `tolerance` (anything but a `probe` tolerance, which runs an activity: the caller's). A
 * comparison Python could not make (a regex on a number, a range on text) is not met.
 */
export function withinTolerance(tolerance: JsonValue, output: JsonValue): boolean {
  if (typeof tolerance === 'boolean' || typeof tolerance === 'string') return pyEquals(output, tolerance);
  if (typeof tolerance === 'number') return isObject(output) && 'status' in output ? pyEquals(output.status, tolerance) : pyEquals(output, tolerance);
  if (Array.isArray(tolerance)) {
    if (isObject(output) && 'status' in output) return tolerance.some((item) => pyEquals(output.status, item));
    if (tolerance.length === 2) return (pyLessOrEqual(tolerance[0], output) ?? false) && (pyLessOrEqual(output, tolerance[1]) ?? false);
    return tolerance.some((item) => pyEquals(output, item));
  }
  if (!isObject(tolerance)) return false;
  const value = targetOf(output, tolerance.target);
  switch (tolerance.type) {
    case 'regex':
      return typeof value === 'string' && regexOf(String(tolerance.pattern)).test(value);
    case 'range': {
      const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
      const [low, high] = tolerance.range as [number, number];
      return !Number.isNaN(number) && low <= number && number <= high;
    }
    case 'jsonpath': {
      let document: JsonValue = value;
      if (typeof document === 'string') {
        try {
          document = JSON.parse(document) as JsonValue;
        } catch {
          // Not JSON: matched as the string it is.
        }
      }
      const matches = jsonPathMatches(String(tolerance.path), document);
      let met = matches.length > 0;
      if (tolerance.count !== undefined && tolerance.count !== null) met = matches.length === tolerance.count;
      if ('expect' in tolerance) met = pyEquals(matches, Array.isArray(tolerance.expect) ? tolerance.expect : [tolerance.expect as JsonValue]);
      return met;
    }
    default:
      return false;
  }
}
