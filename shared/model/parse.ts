import { ValidationError, fieldIssues } from '../errors.js';
import { experimentSchema, type ExperimentSpec } from './experiment.js';

/** Validates an experiment, naming every bad field at once. */
export function parseExperiment(input: unknown): ExperimentSpec {
  const result = experimentSchema.safeParse(input);
  if (!result.success) throw new ValidationError(fieldIssues(result.error.issues));
  return result.data;
}
