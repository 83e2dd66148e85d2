/**
 * `chaos run`'s options, spelled as Chaos Toolkit spells them, made into the settings of a Chaos Toolkit experiment:
 * a CI job that calls `chaos run` works with `chaosduck run` by changing the command name only.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { ValidationError } from '../shared/errors.js';
import type { JsonObject, JsonValue } from '../shared/journal/activity.js';
import { parseDocumentText } from '../shared/model/document.js';
import type { ChaosToolkitSettings } from '../shared/model/experiment.js';

export interface ChaosToolkitOptions {
  var: string[];
  varFile: string[];
  rollbackStrategy?: string;
  hypothesisStrategy?: string;
  hypothesisFrequency?: string;
  failFast: boolean;
  dry?: string;
}

/** `key[:type]=value`, `type` one of str, int, float, bytes (chaoslib's `convert_vars`). */
export function parseVar(text: string): [string, JsonValue] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new ValidationError([{ field: '--var', message: `"${text}": var needs to be in the format name[:type]=value` }], 'option');
  let key = text.slice(0, eq);
  const raw = text.slice(eq + 1);
  const colon = key.lastIndexOf(':');
  if (colon < 0) return [key, raw];
  const type = key.slice(colon + 1);
  key = key.slice(0, colon);
  const number = Number(raw);
  switch (type) {
    case 'str':
    case 'bytes':
      return [key, raw];
    case 'int':
      if (!/^\s*[-+]?\d+\s*$/.test(raw)) break;
      return [key, Number.parseInt(raw, 10)];
    case 'float':
      if (raw.trim() === '' || Number.isNaN(number)) break;
      return [key, number];
    default:
      throw new ValidationError([{ field: '--var', message: `"${text}": the type must be one of str, int, float, bytes, not "${type}"` }], 'option');
  }
  throw new ValidationError([{ field: '--var', message: `"${text}": var cannot convert value to required type` }], 'option');
}

/**
 * The var files, in order (a later one wins): JSON or YAML `{configuration, secrets}`, or a `.env` file, whose
 * variables are set in this process's environment, as chaoslib sets them.
 */
export function readVarFiles(paths: readonly string[]): { configuration: JsonObject; secrets: Record<string, JsonObject> } {
  const configuration: JsonObject = {};
  const secrets: Record<string, JsonObject> = {};
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ValidationError([{ field: '--var-file', message: `cannot read ${path}: ${(error as Error).message}` }], 'option');
    }
    if (['.json', '.yaml', '.yml'].includes(extname(path))) {
      const data = parseDocumentText(text, path) as { configuration?: JsonObject; secrets?: Record<string, JsonObject> } | null;
      Object.assign(configuration, data?.configuration ?? {});
      Object.assign(secrets, data?.secrets ?? {});
      continue;
    }
    for (const line of text.split(/\r?\n/).map((l) => l.trim())) {
      if (line === '' || line.startsWith('#')) continue;
      const eq = line.indexOf('=');
      if (eq <= 0) throw new ValidationError([{ field: '--var-file', message: `${path}: "${line}" is not NAME=value` }], 'option');
      process.env[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  return { configuration, secrets };
}

/** The run's settings; `--var` wins over the var files, as in chaoslib. */
export function chaosToolkitSettings(options: ChaosToolkitOptions): Partial<ChaosToolkitSettings> {
  const files = readVarFiles(options.varFile);
  const vars = Object.fromEntries(options.var.map(parseVar));
  const frequency = options.hypothesisFrequency === undefined ? undefined : Number(options.hypothesisFrequency);
  if (frequency !== undefined && !(Number.isFinite(frequency) && frequency >= 0)) {
    throw new ValidationError([{ field: '--hypothesis-frequency', message: `"${options.hypothesisFrequency}" is not a number of seconds` }], 'option');
  }
  const hypothesis = options.hypothesisStrategy === 'continously' ? 'continuously' : options.hypothesisStrategy;
  return {
    ...(options.rollbackStrategy ? { rollback_strategy: options.rollbackStrategy as ChaosToolkitSettings['rollback_strategy'] } : {}),
    ...(hypothesis ? { hypothesis_strategy: hypothesis as ChaosToolkitSettings['hypothesis_strategy'] } : {}),
    ...(frequency !== undefined ? { hypothesis_frequency: frequency } : {}),
    ...(options.failFast ? { fail_fast: true } : {}),
    ...(options.dry ? { dry: options.dry as ChaosToolkitSettings['dry'] } : {}),
    configuration: { ...files.configuration, ...vars },
    secrets: files.secrets,
  };
}
