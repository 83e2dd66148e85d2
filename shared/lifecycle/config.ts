/**
 * Settings read from the environment, the same in Lambda and in the local runtime. Each is parsed strictly: a value
 * that does not parse stops start-up naming the variable, because a guardrail that silently reads `NaN` (and so never
 * refuses anything) is worse than no start at all. An unset or empty variable means the default.
 */
import { ConfigurationError } from '../errors.js';
import { DEFAULT_GUARDRAILS, type GuardrailConfig } from './deps.js';

type Env = Readonly<Record<string, string | undefined>>;

/** `text` as a whole number in [min, max]; anything else is a `ConfigurationError` naming the setting. */
export function parseInteger(text: string, name: string, { min, max }: { min: number; max: number }): number {
  const raw = text.trim();
  if (!/^\d+$/.test(raw)) throw new ConfigurationError(`${name}=${JSON.stringify(text)} is not a whole number (expected ${min} to ${max})`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigurationError(`${name}=${raw} is out of range (expected ${min} to ${max})`);
  return value;
}

/** The environment variable `name` as a whole number in [min, max], or undefined when it is unset or empty. */
export function integerSetting(env: Env, name: string, range: { min: number; max: number }): number | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : parseInteger(raw, name, range);
}

/** A case-insensitive regular expression, or undefined when `name` is unset. */
export function patternSetting(env: Env, name: string): RegExp | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  try {
    return new RegExp(raw, 'i');
  } catch (error) {
    throw new ConfigurationError(`${name}=${JSON.stringify(raw)} is not a regular expression: ${(error as Error).message}`);
  }
}

/** `MAX_TIMEOUT_SECONDS` (1 to 86400) and `PRODUCTION_PATTERN`, over the defaults. */
export function guardrailsFromEnv(env: Env = process.env): GuardrailConfig {
  return {
    maxTimeoutSeconds: integerSetting(env, 'MAX_TIMEOUT_SECONDS', { min: 1, max: 86_400 }) ?? DEFAULT_GUARDRAILS.maxTimeoutSeconds,
    productionPattern: patternSetting(env, 'PRODUCTION_PATTERN') ?? DEFAULT_GUARDRAILS.productionPattern,
  };
}
