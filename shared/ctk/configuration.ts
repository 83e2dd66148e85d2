/**
 * A Chaos Toolkit experiment's `configuration` and `secrets`, resolved as chaoslib resolves them, and `${name}`
 * substitution where chaoslib substitutes. Problems come back as field issues in chaoslib's own words, all of them
 * (chaoslib stops at the first).
 */
import type { FieldIssue } from '../errors.js';
import type { JsonObject, JsonValue } from '../journal/activity.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** Values given outside the file (`--var`, `--var-file`), which win over the file's own. */
export interface Overrides {
  configuration?: JsonObject;
  secrets?: Record<string, JsonObject>;
}

const ENV_VAR_TYPES = ['str', 'string', 'int', 'integer', 'float', 'number', 'bytes', 'bool', 'json'] as const;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** An environment value as `env_var_type` asks (chaoslib's `convert_to_type`); throws on a value that does not convert. */
export function convertEnvValue(type: string | undefined, value: JsonValue): JsonValue {
  if (type === undefined || type === 'str' || type === 'string' || typeof value !== 'string') return value;
  switch (type) {
    case 'int':
    case 'integer':
      if (!/^\s*[-+]?\d+\s*$/.test(value)) throw new Error(`invalid literal for int(): '${value}'`);
      return Number.parseInt(value, 10);
    case 'float':
    case 'number': {
      const number = Number(value);
      if (value.trim() === '' || Number.isNaN(number)) throw new Error(`could not convert string to float: '${value}'`);
      return number;
    }
    case 'bytes':
      return value;
    case 'bool':
      return !['false', '0', 'no'].includes(value.toLowerCase());
    case 'json':
      return value === '' ? value : (JSON.parse(value) as JsonValue);
    default:
      throw new Error('variable type can only be: bool, str, int, float, bytes or json');
  }
}

/**
 * The configuration's values. A value is kept as it is, or read from the environment (`{type: env, key, default?,
 * env_var_type?}`); `{type: probe, …}` (dynamic configuration) is refused.
 */
export function resolveConfiguration(configuration: unknown, env: Env, overrides: JsonObject = {}): { values: JsonObject; issues: FieldIssue[] } {
  const values: JsonObject = {};
  const issues: FieldIssue[] = [];
  if (configuration === undefined || configuration === null) return { values: { ...overrides }, issues };
  if (!isObject(configuration)) return { values, issues: [{ field: 'configuration', message: 'configuration must be a mapping' }] };
  for (const [key, raw] of Object.entries(configuration)) {
    const field = `configuration.${key}`;
    if (key in overrides) {
      values[key] = overrides[key] as JsonValue;
      continue;
    }
    if (isObject(raw) && raw.type === 'env') {
      const envKey = raw.key;
      if (typeof envKey !== 'string' || envKey === '') {
        issues.push({ field: `${field}.key`, message: 'an env configuration value needs the `key` of the environment variable' });
        continue;
      }
      const type = raw.env_var_type;
      if (type !== undefined && !(ENV_VAR_TYPES as readonly unknown[]).includes(type)) {
        issues.push({ field: `${field}.env_var_type`, message: 'variable type can only be: bool, str, int, float, bytes or json' });
        continue;
      }
      const present = env[envKey];
      if (present === undefined && !('default' in raw)) {
        issues.push({ field, message: `Configuration makes reference to an environment key that does not exist: ${envKey}` });
        continue;
      }
      try {
        values[key] = convertEnvValue(type as string | undefined, (present ?? raw.default) as JsonValue);
      } catch (error) {
        issues.push({ field, message: `${envKey} cannot be read as ${String(type)}: ${(error as Error).message}` });
      }
    } else if (isObject(raw) && raw.type === 'probe') {
      // chaoslib runs it once before the experiment; ChaosDuck would have to keep its value (often a credential)
      // between phases, in the store. Refused, with what to do instead.
      issues.push({ field, message: 'dynamic configuration (type: probe) is not supported; compute the value before the run and pass it with --var or an env configuration value' });
    } else {
      values[key] = raw as JsonValue;
    }
  }
  for (const [key, value] of Object.entries(overrides)) if (!(key in values)) values[key] = value;
  return { values, issues };
}

/** The secrets, by scope: a value as it is, or read from the environment (no default, as in chaoslib). */
export function resolveSecrets(secrets: unknown, env: Env, overrides: Record<string, JsonObject> = {}): { values: Record<string, JsonObject>; issues: FieldIssue[] } {
  const values: Record<string, JsonObject> = {};
  const issues: FieldIssue[] = [];
  if (secrets === undefined || secrets === null) return { values: { ...overrides }, issues };
  if (!isObject(secrets)) return { values, issues: [{ field: 'secrets', message: 'secrets must be a mapping of scopes' }] };
  for (const [scope, entries] of Object.entries(secrets)) {
    if (!isObject(entries)) {
      issues.push({ field: `secrets.${scope}`, message: 'a secrets scope must be a mapping of names to values' });
      continue;
    }
    const resolved: JsonObject = {};
    for (const [name, raw] of Object.entries(entries)) {
      const field = `secrets.${scope}.${name}`;
      if (isObject(raw) && raw.type === 'env') {
        const present = typeof raw.key === 'string' ? env[raw.key] : undefined;
        if (present === undefined) issues.push({ field, message: `Secrets make reference to an environment key that does not exist: ${String(raw.key)}` });
        else resolved[name] = present;
      } else if (isObject(raw) && raw.type === 'vault') {
        issues.push({ field, message: 'Vault secrets are not read by ChaosDuck: give the value through the environment (type: env)' });
      } else {
        resolved[name] = raw as JsonValue;
      }
    }
    values[scope] = { ...resolved, ...overrides[scope] };
  }
  for (const [scope, entries] of Object.entries(overrides)) values[scope] ??= entries;
  return { values, issues };
}

/** What `${name}` can stand for: the configuration first, then every secret, scopes flattened. */
export function substitutionValues(configuration: JsonObject, secrets: Record<string, JsonObject>): Map<string, JsonValue> {
  const values = new Map<string, JsonValue>();
  for (const scope of Object.values(secrets)) for (const [name, value] of Object.entries(scope)) values.set(name, value);
  for (const [name, value] of Object.entries(configuration)) values.set(name, value);
  return values;
}

const WHOLE = /^\$\{([^}]+)\}$/;
const ANY = /\$\{([^}]+)\}/g;

/**
 * `${name}` substituted in every string of `value`. A string that is exactly `${name}` takes the value's own type
 * (a number stays a number); an unknown name is left as it is, as chaoslib leaves it.
 */
export function substitute(value: JsonValue, values: ReadonlyMap<string, JsonValue>): JsonValue {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole && values.has(whole[1] as string)) return values.get(whole[1] as string) as JsonValue;
    return value.replace(ANY, (placeholder, name: string) => {
      const found = values.get(name);
      return found === undefined ? placeholder : typeof found === 'string' ? found : JSON.stringify(found);
    });
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, values));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substitute(item, values)]));
  return value;
}
