/**
 * A journal read back from a file: ChaosDuck's (`chaosduck run`, `chaosduck journal`, the API) or the real Chaos
 * Toolkit's (`chaos run`), which share the layout this checks — the experiment, its status, the steady-state checks,
 * the method's activities and the rollbacks. What is not a journal is refused naming the field that says so.
 */
import * as z from 'zod';
import { ValidationError, fieldIssues } from '../errors.js';
import type { JsonObject } from './activity.js';

const activity = z.looseObject({
  activity: z.looseObject({ type: z.string(), name: z.string() }),
  status: z.string().optional(),
  start: z.string().optional(),
  end: z.string().optional(),
});
const hypothesisCheck = z.looseObject({ probes: z.array(activity) });

export const journalSchema = z.looseObject({
  experiment: z.looseObject({}),
  status: z.string(),
  start: z.string().optional(),
  end: z.string().optional(),
  steady_states: z.looseObject({
    before: hypothesisCheck.nullable().optional(),
    after: hypothesisCheck.nullable().optional(),
    during: z.array(hypothesisCheck).optional(),
  }),
  run: z.array(activity),
  rollbacks: z.array(activity).optional(),
});

/** A journal, or a ValidationError naming each field that is missing or of the wrong kind. */
export function parseJournal(value: unknown): JsonObject {
  const parsed = journalSchema.safeParse(value);
  if (parsed.success) return parsed.data as JsonObject;
  const document = value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  // An experiment given where its journal was meant: say what to do rather than list what a journal has.
  if (!('run' in document) && ('method' in document || 'chaos_type' in document)) {
    throw new ValidationError([{ field: '', message: 'this is an experiment, not a journal: run it (chaosduck run) and give the journal it writes' }], 'journal');
  }
  throw new ValidationError(fieldIssues(parsed.error.issues), 'journal');
}
