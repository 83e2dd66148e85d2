/**
 * Reads an experiment file (JSON or YAML) and fills `${NAME}` placeholders in its strings, as Chaos Toolkit fills
 * configuration values — e.g. `${SANDBOX_URL}` for the local sandbox's address. A placeholder with no value is a
 * validation error that names the field holding it.
 */
import { readFileSync } from 'node:fs';
import { ValidationError, fieldPath, type FieldIssue } from '../shared/errors.js';
import { parseDocumentText } from '../shared/model/document.js';

export function readExperimentFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ValidationError([{ field: '', message: `cannot read ${path}: ${(error as Error).message}` }], 'file');
  }
  return parseDocumentText(text, path);
}

export function interpolate(document: unknown, values: Readonly<Record<string, string | undefined>>): unknown {
  const issues: FieldIssue[] = [];
  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === 'string') {
      return node.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (placeholder, name: string) => {
        const value = values[name];
        if (value === undefined) issues.push({ field: fieldPath(path), message: `${placeholder} has no value (set the environment variable ${name})` });
        return value ?? placeholder;
      });
    }
    if (Array.isArray(node)) return node.map((item, index) => walk(item, [...path, index]));
    if (node && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, walk(value, [...path, key])]));
    }
    return node;
  };
  const result = walk(document, []);
  if (issues.length > 0) throw new ValidationError(issues);
  return result;
}

/** The target provider a raw (not yet validated) document asks for, to know whether to start the sandbox first. */
export function requestedProvider(document: unknown): string | undefined {
  const target = (document as { target?: { provider?: unknown } } | null)?.target;
  return typeof target?.provider === 'string' ? target.provider : undefined;
}
