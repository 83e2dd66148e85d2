/**
 * Experiment files as people write them: JSON or YAML text. Kept apart from `parse.ts` so the Lambda bundles, which
 * only ever see JSON, do not carry a YAML parser.
 */
import { parseDocument } from 'yaml';
import { ValidationError } from '../errors.js';
import type { FaultSpec } from './experiment.js';
import { parseExperiment } from './parse.js';

/**
 * Reads a document's text: JSON or YAML (JSON is YAML, but JSON errors read better from JSON.parse). YAML is read
 * safely: a tag that asks for an object to be constructed (`!!python/object/apply:os.system`) is refused at load, as
 * Chaos Toolkit's `safe_load` refuses it, rather than read as the plain value under it.
 */
export function parseDocumentText(text: string, source = 'experiment'): unknown {
  // Editors on Windows often save UTF-8 with a byte-order mark; JSON.parse rejects it (YAML skips it).
  const body = text.replace(/^\uFEFF/, '');
  const invalid = (message: string) => new ValidationError([{ field: '', message }], 'file');
  if (body.trimStart().startsWith('{')) {
    try {
      return JSON.parse(body);
    } catch (error) {
      throw invalid(`${source} is not valid JSON or YAML: ${(error as Error).message}`);
    }
  }
  const document = parseDocument(body);
  if (document.errors.length > 0) throw invalid(`${source} is not valid JSON or YAML: ${document.errors[0]!.message}`);
  const tag = document.warnings.find((warning) => warning.code === 'TAG_RESOLVE_FAILED');
  if (tag) {
    const name = /Unresolved tag: (\S+)/.exec(tag.message)?.[1] ?? 'unknown';
    throw invalid(`Failed parsing YAML experiment: could not determine a constructor for the tag '${name}'`);
  }
  return document.toJS();
}

export function parseExperimentText(text: string, source = 'experiment'): FaultSpec {
  return parseExperiment(parseDocumentText(text, source));
}
