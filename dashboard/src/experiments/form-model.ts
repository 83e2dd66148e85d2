/**
 * The new-experiment form, read from the API's own description of what it takes: the `Experiment` schema of the
 * OpenAPI document (one variant per chaos type, each with its target and parameters; the safety settings; a variant
 * per probe type). Every field of it gets an input, so the form covers every chaos type and probe the server knows,
 * and nothing is checked here that the API checks: the form builds the body, and the API's dry run says what is wrong,
 * field by field, in its own words (`parameters.latency_ms`, `probes[0].properties.url`), each shown beside its input.
 *
 * Pure functions over plain data (no DOM), so they are unit-tested against the real document.
 */
import { stringify } from 'yaml';
import type { FieldIssue, OpenApiDocument, Schema } from '../api.js';

/** How an input holds its value: text, a number, a checkbox, a choice, a comma-separated list, `key=value` pairs, or JSON. */
export type FieldKind = 'text' | 'number' | 'boolean' | 'choice' | 'list' | 'map' | 'json';

export interface FieldSpec {
  /** The property's name, as the API names it (the input's label). */
  key: string;
  /** Where the value goes: `parameters.latency_ms`; for a probe's fields, within the probe: `properties.url`. */
  path: string;
  kind: FieldKind;
  /** number: whole numbers only. */
  integer?: boolean;
  /** choice: the values allowed. */
  options?: string[];
  /** list: its items are numbers. */
  numericItems?: boolean;
  /** list: one item is sent as itself, not as a list of one (`expected_status: 200` or `[200, 204]`). */
  single?: boolean;
  default?: unknown;
  required: boolean;
  description?: string;
}

export interface FormModel {
  chaosTypes: string[];
  /** The experiment's own fields: name, description, … (not chaos_type, target, parameters, safety, probes). */
  common: FieldSpec[];
  /** By chaos type: the fields of its target and of its parameters. */
  variants: Map<string, { target: FieldSpec[]; parameters: FieldSpec[] }>;
  safety: FieldSpec[];
  /** By probe type: its fields (name, mode, … and `properties.*`), paths relative to the probe. */
  probes: Map<string, FieldSpec[]>;
}

export type FieldValue = string | boolean;

/** What the form holds: raw input values by path (`target.labels`, `parameters.latency_ms`), each probe's by its own. */
export interface FormState {
  chaosType: string;
  values: Record<string, FieldValue>;
  probes: { type: string; values: Record<string, FieldValue> }[];
}

const GROUPS = new Set(['chaos_type', 'target', 'parameters', 'safety', 'probes']);
const SCALAR_TYPES = new Set(['string', 'integer', 'number', 'boolean']);

/** The form the document describes: throws when it has no `Experiment` schema (a server that takes no experiments). */
export function formModel(document: OpenApiDocument): FormModel {
  const schemas = document.components?.schemas ?? {};
  const resolve = (schema: unknown): Schema => {
    const s = (schema ?? {}) as Schema;
    const ref = typeof s.$ref === 'string' ? /^#\/components\/schemas\/(.+)$/.exec(s.$ref)?.[1] : undefined;
    return ref && schemas[ref] ? resolve(schemas[ref]) : s;
  };
  const fieldsOf = (schema: unknown, prefix: string, skip: ReadonlySet<string> = new Set()): FieldSpec[] => {
    const object = resolve(schema);
    const required = new Set((object.required as string[] | undefined) ?? []);
    return Object.entries((object.properties ?? {}) as Record<string, Schema>).flatMap(([key, property]) => {
      if (skip.has(key)) return [];
      const kind = kindOf(resolve(property), resolve);
      if (!kind) return [];
      const s = resolve(property);
      return [
        {
          key,
          path: prefix ? `${prefix}.${key}` : key,
          ...kind,
          required: required.has(key),
          ...(s.default !== undefined ? { default: s.default } : {}),
          ...(typeof s.description === 'string' ? { description: s.description } : {}),
        },
      ];
    });
  };

  const experiment = resolve(schemas.Experiment);
  const variants = ((experiment.oneOf ?? experiment.anyOf ?? []) as Schema[]).map(resolve);
  if (variants.length === 0) throw new Error('the server describes no Experiment schema: it takes no experiments');
  const chaosTypeOf = (variant: Schema) => String(resolve((variant.properties as Record<string, Schema>).chaos_type).const);
  const first = variants[0] as Schema;
  const properties = first.properties as Record<string, Schema>;
  const probe = resolve(resolve(properties.probes).items);
  return {
    chaosTypes: variants.map(chaosTypeOf),
    common: fieldsOf(first, '', GROUPS),
    variants: new Map(
      variants.map((variant) => {
        const own = variant.properties as Record<string, Schema>;
        return [chaosTypeOf(variant), { target: fieldsOf(own.target, 'target'), parameters: fieldsOf(own.parameters, 'parameters') }];
      }),
    ),
    safety: fieldsOf(properties.safety, 'safety'),
    probes: new Map(
      ((probe.oneOf ?? probe.anyOf ?? []) as Schema[]).map(resolve).map((variant) => {
        const own = variant.properties as Record<string, Schema>;
        return [String(resolve(own.type).const), [...fieldsOf(variant, '', new Set(['type', 'properties'])), ...fieldsOf(own.properties, 'properties')]];
      }),
    ),
  };
}

/** The input for a property's schema; undefined for a constant (the discriminator, `provider: aws`): nothing to choose. */
function kindOf(s: Schema, resolve: (schema: unknown) => Schema): Pick<FieldSpec, 'kind' | 'integer' | 'options' | 'numericItems' | 'single'> | undefined {
  if (s.const !== undefined) return undefined;
  if (Array.isArray(s.enum)) return { kind: 'choice', options: s.enum.map(String) };
  if (s.type === 'boolean') return { kind: 'boolean' };
  if (s.type === 'integer' || s.type === 'number') return { kind: 'number', integer: s.type === 'integer' };
  if (s.type === 'string') return { kind: 'text' };
  const listOf = (array: Schema) => {
    const items = resolve(array.items);
    return array.type === 'array' && (SCALAR_TYPES.has(items.type as string) || Array.isArray(items.enum)) ? { numericItems: items.type === 'integer' || items.type === 'number' } : undefined;
  };
  const list = listOf(s);
  if (list) return { kind: 'list', ...list };
  if (s.type === 'object' && !s.properties && SCALAR_TYPES.has(resolve(s.additionalProperties).type as string)) return { kind: 'map' };
  // One value or a list of them (`expected_status`, `expected_state`, `command`).
  const options = ((s.anyOf ?? s.oneOf ?? []) as Schema[]).map(resolve);
  const many = options.map(listOf).find(Boolean);
  if (options.length === 2 && many && options.some((o) => SCALAR_TYPES.has(o.type as string) || Array.isArray(o.enum))) return { kind: 'list', ...many, single: true };
  return { kind: 'json' };
}

/** The fields the form shows for a chaos type: common, target, parameters, safety (probes apart). */
export function fieldsFor(model: FormModel, chaosType: string): FieldSpec[] {
  const variant = model.variants.get(chaosType);
  return [...model.common, ...(variant?.target ?? []), ...(variant?.parameters ?? []), ...model.safety];
}

/** Every path the form has an input for: what the API's field errors are placed beside. */
export function inputPaths(model: FormModel, state: FormState): Set<string> {
  const paths = new Set(['chaos_type', ...fieldsFor(model, state.chaosType).map((field) => field.path)]);
  state.probes.forEach((probe, index) => {
    paths.add(`probes[${index}].type`);
    for (const field of model.probes.get(probe.type) ?? []) paths.add(`probes[${index}].${field.path}`);
  });
  return paths;
}

/** An empty form for `chaosType` (every input empty: the API's defaults apply, as its placeholders say). */
export function emptyState(model: FormModel, chaosType = model.chaosTypes[0] ?? ''): FormState {
  return { chaosType, values: {}, probes: [] };
}

export function emptyProbe(type = 'http'): FormState['probes'][number] {
  return { type, values: {} };
}

// ---- form → body -------------------------------------------------------------------------------------------------

/**
 * The experiment the form holds, as the API takes it. Empty inputs are left out (the API's default applies); a value
 * that is not what its field takes is sent as typed (the API names it: "expected number, received string"). Only what
 * cannot be sent at all is a problem here: JSON that does not parse, a pair without `=`.
 */
export function toBody(model: FormModel, state: FormState): { body: Record<string, unknown>; problems: FieldIssue[] } {
  const problems: FieldIssue[] = [];
  const body: Record<string, unknown> = { chaos_type: state.chaosType, target: {} };
  for (const field of fieldsFor(model, state.chaosType)) {
    const value = valueOf(field, state.values[field.path], field.path, problems);
    if (value !== undefined) setPath(body, field.path, value);
  }
  if (state.probes.length > 0) {
    body.probes = state.probes.map((probe, index) => {
      const out: Record<string, unknown> = { type: probe.type, properties: {} };
      for (const field of model.probes.get(probe.type) ?? []) {
        const value = valueOf(field, probe.values[field.path], `probes[${index}].${field.path}`, problems);
        if (value !== undefined) setPath(out, field.path, value);
      }
      return out;
    });
  }
  // Keys in the order a person reads an experiment.
  const { name, description, chaos_type, target, parameters, safety, probes, ...rest } = body;
  const ordered = { name, description, chaos_type, target, parameters, safety, probes, ...rest };
  return { body: Object.fromEntries(Object.entries(ordered).filter(([, value]) => value !== undefined)), problems };
}

function valueOf(field: FieldSpec, raw: FieldValue | undefined, path: string, problems: FieldIssue[]): unknown {
  if (field.kind === 'boolean') {
    const checked = raw === undefined ? field.default === true : raw === true;
    // Sent when it is not what the API would take anyway.
    return checked === (field.default === true) ? undefined : checked;
  }
  const text = typeof raw === 'string' ? raw.trim() : '';
  if (text === '') return undefined;
  switch (field.kind) {
    case 'number':
      return numberOr(text);
    case 'list': {
      const items = text.split(',').map((item) => item.trim()).filter((item) => item !== '').map((item) => (field.numericItems ? numberOr(item) : item));
      return field.single && items.length === 1 ? items[0] : items;
    }
    case 'map': {
      const map: Record<string, string> = {};
      for (const pair of text.split(',').map((item) => item.trim()).filter((item) => item !== '')) {
        const at = pair.indexOf('=');
        if (at <= 0) {
          problems.push({ field: path, message: `"${pair}" is not key=value: write pairs such as app=demo, separated by commas` });
          return undefined;
        }
        map[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
      }
      return map;
    }
    case 'json':
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        problems.push({ field: path, message: `not valid JSON (${(error as Error).message})` });
        return undefined;
      }
    default:
      return text;
  }
}

/** A number when the text is one; the text itself otherwise, for the API to refuse by name. */
const numberOr = (text: string): number | string => (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) ? Number(text) : text);

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let at = target;
  for (const key of keys.slice(0, -1)) at = (at[key] ??= {}) as Record<string, unknown>;
  at[keys.at(-1) as string] = value;
}

// ---- body → form -------------------------------------------------------------------------------------------------

/**
 * The form holding `body` (an experiment written as YAML or JSON, or a draft from another tab); `left` names what the
 * form has no input for (a Chaos Toolkit experiment has none of it: `undefined`, it stays text).
 */
export function fromBody(model: FormModel, body: unknown): { state: FormState; left: string[] } | undefined {
  if (!isObject(body) || body.format === 'chaostoolkit' || (body.chaos_type !== undefined && !model.variants.has(String(body.chaos_type)))) return undefined;
  const chaosType = body.chaos_type === undefined ? (model.chaosTypes[0] ?? '') : String(body.chaos_type);
  const left: string[] = [];
  const values: Record<string, FieldValue> = {};
  const fields = fieldsFor(model, chaosType);
  take(body, '', fields, values, left, new Set(['chaos_type', 'probes']));
  const probes = Array.isArray(body.probes) ? body.probes : [];
  const state: FormState = { chaosType, values, probes: [] };
  probes.forEach((probe, index) => {
    const type = isObject(probe) ? String(probe.type ?? 'http') : '';
    const specs = model.probes.get(type);
    if (!isObject(probe) || !specs) {
      left.push(`probes[${index}]`);
      return;
    }
    const own: Record<string, FieldValue> = {};
    take(probe, '', specs, own, left, new Set(['type']), `probes[${index}].`);
    state.probes.push({ type, values: own });
  });
  if (body.probes !== undefined && !Array.isArray(body.probes)) left.push('probes');
  return { state, left };
}

/** Puts each value of `object` (under `prefix`) in its input; what has none is named in `left`. */
function take(object: Record<string, unknown>, prefix: string, fields: FieldSpec[], values: Record<string, FieldValue>, left: string[], skip: Set<string>, shown = ''): void {
  const byPath = new Map(fields.map((field) => [field.path, field]));
  for (const [key, value] of Object.entries(object)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (!prefix && skip.has(key)) continue;
    const field = byPath.get(path);
    if (field) {
      values[path] = rawOf(field, value);
    } else if (isObject(value) && fields.some((f) => f.path.startsWith(`${path}.`))) {
      take(value, path, fields, values, left, skip, shown);
    } else if (!(isConstant(path) && typeof value === 'string')) {
      left.push(`${shown}${path}`);
    }
  }
}

/** `target.provider: aws` of an AWS chaos type is fixed by the schema: it has no input, and needs none. */
const isConstant = (path: string) => path === 'target.provider';

function rawOf(field: FieldSpec, value: unknown): FieldValue {
  switch (field.kind) {
    case 'boolean':
      return value === true;
    case 'list':
      return Array.isArray(value) ? value.map(String).join(', ') : String(value);
    case 'map':
      return isObject(value) ? Object.entries(value).map(([k, v]) => `${k}=${String(v)}`).join(', ') : JSON.stringify(value);
    case 'json':
      return JSON.stringify(value);
    default:
      return typeof value === 'string' ? value : JSON.stringify(value);
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The form after a draft from another tab: `merge` keeps what the form holds and sets only what the draft gives. When
 * the draft's target has fields the current chaos type's target lacks, the first chaos type whose target has them all
 * is chosen.
 */
export function applyDraft(model: FormModel, state: FormState, draft: Record<string, unknown>, merge: boolean): { state: FormState; left: string[] } | undefined {
  const base = merge ? toBody(model, state).body : {};
  const next: Record<string, unknown> = { ...base, ...draft };
  if (merge && draft.chaos_type === undefined && isObject(draft.target)) {
    const keys = Object.keys(draft.target).filter((key) => !isConstant(`target.${key}`));
    const fits = (type: string) => keys.every((key) => model.variants.get(type)?.target.some((field) => field.key === key));
    if (!fits(state.chaosType)) next.chaos_type = model.chaosTypes.find(fits) ?? state.chaosType;
  }
  return fromBody(model, next);
}

// ---- the API's errors, beside their inputs -----------------------------------------------------------------------

/**
 * Each field error the API named, placed at its input: the input for its path, or for the nearest path above it that
 * has one (`target.labels.app` → `target.labels`; `probes[0].properties.expected_status[1]` → its list). What no input
 * holds (the experiment as a whole, a field the form has no place for) is `unplaced`, listed at the top of the form.
 */
export function placeIssues(issues: readonly FieldIssue[], inputs: ReadonlySet<string>): { placed: Map<string, string[]>; unplaced: FieldIssue[] } {
  const placed = new Map<string, string[]>();
  const unplaced: FieldIssue[] = [];
  for (const issue of issues) {
    let path = issue.field;
    while (path !== '' && !inputs.has(path)) path = path.replace(/(\.[^.[\]]+|\[\d+\]|^[^.[\]]+)$/, '');
    if (path === '') unplaced.push(issue);
    else placed.set(path, [...(placed.get(path) ?? []), issue.message]);
  }
  return { placed, unplaced };
}

/** What the new-experiment form holds, kept by the shell while the person is on another tab. */
export interface FormMemory {
  state: FormState;
  mode: 'form' | 'text';
  text: string;
  /** The fields of the last draft the form has no input for. */
  left: string[];
}

/**
 * The form as it opens: as it was left (or empty when fresh), with the draft from another tab, if any, applied to it
 * (merged into what is there, or in its place); a draft the form has no place for opens as YAML text.
 */
export function initialForm(model: FormModel, memory: FormMemory | undefined, draft: { experiment: Record<string, unknown>; merge: boolean } | undefined): FormMemory {
  const base: FormMemory = memory ?? { state: emptyState(model), mode: 'form', text: '', left: [] };
  if (!draft) return base;
  const applied = applyDraft(model, base.state, draft.experiment, draft.merge);
  return applied ? { ...base, state: applied.state, left: applied.left, mode: 'form' } : { ...base, mode: 'text', text: stringify(draft.experiment) };
}
