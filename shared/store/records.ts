/**
 * What the store reads back, checked: one schema per record type. An item that does not fit (edited by hand, written
 * by another version, cut short) is a `CorruptRecordError` naming its key, never a record with holes that a guardrail
 * or a rollback would then trust. Schemas accept extra attributes (the table's own keys, fields a newer version adds).
 */
import * as z from 'zod';
import { ChaosDuckError, fieldIssues } from '../errors.js';
import type { JsonObject } from '../journal/activity.js';
import { storedSpecSchema } from '../model/experiment.js';
import { resilienceScoreSchema, type ResilienceScore } from '../analysis/score.js';
import type { EmergencyStop, Lease } from './store.js';
import { FINAL_STATUSES, PHASES, type ExperimentRecord, type JournalEvent, type PhaseResult, type RollbackEntry } from '../model/lifecycle.js';

/** A stored item that does not read as its record type. */
export class CorruptRecordError extends ChaosDuckError {
  override readonly name = 'CorruptRecordError';
  readonly status = 500;
  constructor(
    readonly key: string,
    readonly problem: string,
  ) {
    super(`stored item ${key} is corrupt (${problem}); it is left as it is, for a person to look at`);
  }
}

const text = z.string().min(1);
const json = z.record(z.string(), z.unknown()) as unknown as z.ZodType<JsonObject>;

const experimentRecord = z.looseObject({
  id: text,
  spec: storedSpecSchema,
  status: z.enum(['pending', 'running', ...FINAL_STATUSES]),
  phase: z.enum(PHASES).optional(),
  createdAt: text,
  updatedAt: text,
  startedAt: text.optional(),
  endedAt: text.optional(),
  executionArn: text.optional(),
  owner: text.optional(),
  reason: z.string().optional(),
  error: z.string().optional(),
  deviated: z.boolean().optional(),
  leases: z.array(text).optional(),
});

const phaseResult = z.looseObject({
  phase: z.enum(PHASES),
  status: z.enum(['succeeded', 'failed', 'skipped']),
  start: text,
  end: text,
  detail: json,
});

const journalEvent = z.looseObject({ experimentId: text, at: text, type: text, phase: z.enum(PHASES).optional(), detail: json });

const activityRecord = z.looseObject({
  activity: z.looseObject({ type: z.enum(['probe', 'action']), name: z.string(), provider: json }),
  status: z.enum(['succeeded', 'failed']),
  start: text,
  end: text,
  duration: z.number(),
});

const rollbackEntry = z.looseObject({
  provider: text,
  action: text,
  target: z.looseObject({ provider: text, id: text, labels: z.record(z.string(), z.string()), details: json }),
  params: json,
  snapshot: json,
  seq: z.number().int().min(1),
  state: z.enum(['pending', 'done', 'failed', 'skipped']),
  createdAt: text,
  outcome: activityRecord.optional(),
});

const leaseRecord = z.looseObject({ target: text, holder: text, heldUntil: z.number() });
export const idempotencyRecord = z.looseObject({ experimentId: text, requestHash: text });
const emergencyStopRecord = z.looseObject({ active: z.boolean(), since: text.optional(), reason: z.string().optional() });
export const journalRecord = z.looseObject({ journal: json });

/** The item's key as the error names it: `EXP#exp-…/META`. */
export const itemKey = (item: Record<string, unknown>): string => `${String(item.pk)}/${String(item.sk)}`;

/** The item as `schema` reads it, or a `CorruptRecordError` naming its key and every field at fault. */
export function readAs<T>(schema: z.ZodType, item: Record<string, unknown>): T {
  const result = schema.safeParse(item);
  if (result.success) return result.data as T;
  const problem = fieldIssues(result.error.issues)
    .map((issue) => `${issue.field || '(item)'}: ${issue.message}`)
    .join('; ');
  throw new CorruptRecordError(itemKey(item), problem);
}

export const readExperiment = (item: Record<string, unknown>): ExperimentRecord => {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, gsi2pk: _g3, gsi2sk: _g4, rollbackSeq: _seq, ...record } = readAs<Record<string, unknown>>(experimentRecord, item);
  return record as unknown as ExperimentRecord;
};
const strip = <T>({ pk: _pk, sk: _sk, ...rest }: Record<string, unknown>): T => rest as T;
export const readPhase = (item: Record<string, unknown>): PhaseResult => strip(readAs(phaseResult, item));
export const readEvent = (item: Record<string, unknown>): JournalEvent => strip(readAs(journalEvent, item));

/**
 * A rollback entry. One that cannot be read is still an entry of the stack: it comes back as a failed step whose
 * error says why, so the rollback goes on with the others, the experiment ends `failed`, and the journal names it,
 * instead of the stack silently losing a fault that may still be in place.
 */
export function readRollbackEntry(item: Record<string, unknown>): RollbackEntry {
  try {
    return strip(readAs(rollbackEntry, item));
  } catch (error) {
    if (!(error instanceof CorruptRecordError)) throw error;
    return unreadableEntry(error, Number(/^RB#(\d+)$/.exec(String(item.sk))?.[1] ?? 0));
  }
}

/** The failed step that stands in the stack for the entry `error` names. */
export function unreadableEntry(error: CorruptRecordError, seq: number): RollbackEntry {
  const now = new Date().toISOString();
  return {
    provider: 'unknown',
    action: 'unreadable_entry',
    target: { provider: 'unknown', id: error.key, labels: {}, details: {} },
    params: {},
    snapshot: {},
    seq,
    state: 'failed',
    createdAt: now,
    corrupt: error.message,
    outcome: {
      activity: { type: 'action', name: `rollback entry ${error.key}`, provider: { type: 'unknown', seq } },
      status: 'failed',
      start: now,
      end: now,
      duration: 0,
      exception: [error.message],
    },
  };
}

export function readLease(item: Record<string, unknown>): Lease {
  const { target, holder, heldUntil } = readAs<{ target: string; holder: string; heldUntil: number }>(leaseRecord, item);
  return { target, holder, expiresAt: heldUntil };
}

export function readStop(item: Record<string, unknown>): EmergencyStop {
  const stop = readAs<EmergencyStop>(emergencyStopRecord, item);
  return stop.active ? { active: true, since: stop.since, reason: stop.reason ?? '' } : { active: false };
}

/** A score: its fields, beside the key that names it in errors. */
export function readScore(item: Record<string, unknown>): ResilienceScore {
  return readAs<ResilienceScore>(resilienceScoreSchema, item);
}

/**
 * A page of stored items read one by one: the ones that read, and beside them the ones that do not, each naming its
 * key. One bad item must not hide every other one (a listing serves the rest and reports it).
 */
export function readPage<T>(items: readonly Record<string, unknown>[], read: (item: Record<string, unknown>) => T): { items: T[]; corrupt?: CorruptRecordError[] } {
  const good: T[] = [];
  const corrupt: CorruptRecordError[] = [];
  for (const item of items) {
    try {
      good.push(read(item));
    } catch (error) {
      if (!(error instanceof CorruptRecordError)) throw error;
      corrupt.push(error);
    }
  }
  return { items: good, ...(corrupt.length > 0 ? { corrupt } : {}) };
}
