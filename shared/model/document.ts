/**
 * Experiment files as people write them: JSON or YAML text. Kept apart from `parse.ts` so the Lambda bundles, which
 * only ever see JSON, do not carry a YAML parser.
 */
import { parse as parseYaml } from 'yaml';
import { ValidationError } from '../errors.js';
import type { ExperimentSpec } from './experiment.js';
import { parseExperiment } from './parse.js';

/** Reads a document's text: JSON or YAML (JSON is YAML, but JSON errors read better from JSON.parse). */
export function parseDocumentText(text: string, source = 'experiment'): unknown {
  // Editors on Windows often save UTF-8 with a byte-order mark; JSON.parse rejects it (YAML skips it).
  const body = text.replace(/^\uFEFF/, '');
  try {
    return body.trimStart().startsWith('{') ? JSON.parse(body) : parseYaml(body);
  } catch (error) {
    throw new ValidationError([{ field: '', message: `${source} is not valid JSON or YAML: ${(error as Error).message}` }], 'file');
  }
}

export function parseExperimentText(text: string, source = 'experiment'): ExperimentSpec {
  return parseExperiment(parseDocumentText(text, source));
}
