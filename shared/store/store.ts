/**
 * The store port: where the control plane keeps experiments, their journals and rollback stacks, target leases,
 * idempotency keys and the emergency-stop flag. Two adapters with one contract (test/integration/store-contract.test.ts):
 * DynamoDB in AWS (`dynamodb.ts`, SDK v3) and SQLite in the embedded runtime (`local/sqlite/store.ts`).
 *
 * What the lifecycle relies on, whatever the adapter: every write is atomic and every guard below is checked in the
 * same write (never read-then-write), a write that returned is durable (a crash right after loses nothing), reads see
 * every write that returned, and what is read back is checked (`records.ts`): a record that does not fit is a
 * `CorruptRecordError` naming its key, the same key in both adapters.
 */
import type { ResilienceScore } from '../analysis/score.js';
import type { ActivityRecord, JsonObject } from '../journal/activity.js';
import type { RollbackIntent } from '../faults/driver.js';
import type { ExperimentRecord, ExperimentStatus, FinalStatus, JournalEvent, PhaseResult, RollbackEntry, RollbackState } from '../model/lifecycle.js';
import { ValidationError } from '../errors.js';
import type { CorruptRecordError } from './records.js';

/** How long an `Idempotency-Key` stays bound to the experiment its request created. */
export const IDEMPOTENCY_TTL_S = 24 * 3600;

/** How long past its end a lease is kept (then cleared by the store: DynamoDB's TTL, SQLite's purge). */
export const LEASE_TTL_MARGIN_S = 3600;

export interface IdempotencyBinding {
  experimentId: string;
  requestHash: string;
}

export interface ListQuery {
  status?: ExperimentStatus;
  chaosType?: string;
  limit?: number;
  cursor?: string;
  newestFirst?: boolean;
}

export interface ExperimentPage {
  items: ExperimentRecord[];
  /** Where the next page starts; absent when this page is known to be the last (a page may also come back empty). */
  cursor?: string;
  /** Items of this page that could not be read, each naming its key; the page holds the others. */
  corrupt?: CorruptRecordError[];
}

export interface RecordsToWrite {
  events?: readonly JournalEvent[];
  phase?: { experimentId: string; result: PhaseResult };
  journal?: { experimentId: string; journal: JsonObject };
  /** The experiment's resilience score, written with its journal. */
  score?: ResilienceScore;
}

/** A trend's filter: any of target, service and chaos type, and a time window on `ended_at` (ISO, inclusive). */
export interface ScoreQuery {
  target?: string;
  service?: string;
  chaosType?: string;
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string;
}

export interface ScorePage {
  /** Oldest first: a trend reads forward in time. */
  items: ResilienceScore[];
  cursor?: string;
  corrupt?: CorruptRecordError[];
}

export interface ExperimentBundle {
  record: ExperimentRecord;
  phases: PhaseResult[];
  events: JournalEvent[];
  /** Newest first. */
  stack: RollbackEntry[];
  journal?: JsonObject;
  /** Keys of the experiment's items that could not be read and are left out above. */
  unreadable: string[];
}

export interface EmergencyStop {
  active: boolean;
  since?: string;
  reason?: string;
}

export interface Lease {
  target: string;
  holder: string;
  expiresAt: number;
}

export type ExperimentUpdate = Partial<Omit<ExperimentRecord, 'id' | 'spec' | 'createdAt'>>;

export interface ExperimentStore {
  // ---- experiments
  /** Stores a new experiment; one with this id already stored is a `ConflictError`. */
  createExperiment(record: ExperimentRecord): Promise<void>;
  /** The experiment, or `NotFoundError`. */
  getExperiment(id: string): Promise<ExperimentRecord>;
  /**
   * Updates an experiment that has not ended yet, and returns it as updated. A finished experiment is never changed
   * again (a late task from a stopped execution must not overwrite `emergency_stopped` with `running`): that is a
   * `ConflictError` saying how it ended. With `unlessRollingBack`, an experiment already handed to a rollback run is
   * refused too, so a run that starts late cannot undo an abort. Fields set to `undefined` are left as they are.
   */
  updateExperiment(id: string, fields: ExperimentUpdate, options?: { unlessRollingBack?: boolean }): Promise<ExperimentRecord>;
  /** Ends an experiment (`updateExperiment` with the final status and `endedAt`). */
  finishExperiment(id: string, status: FinalStatus, fields: Pick<ExperimentRecord, 'reason' | 'deviated' | 'error'>): Promise<ExperimentRecord>;
  /** Experiments in one status, oldest first, a page at a time (the recovery sweep's view). */
  listByStatus(status: ExperimentStatus, limit?: number, cursor?: string): Promise<ExperimentPage>;
  /**
   * A page of experiments by creation time, newest first unless asked otherwise, optionally of one status and one
   * chaos type, found by an index (never a scan). The cursor is opaque; one from another listing (another status
   * filter) or edited is a `ValidationError` naming `cursor`.
   */
  listExperiments(query: ListQuery): Promise<ExperimentPage>;

  // ---- phases, events, journal
  /** Stores a phase's result, replacing an earlier result of the same phase. */
  putPhaseResult(id: string, result: PhaseResult): Promise<void>;
  /** Phase results in phase order. */
  listPhaseResults(id: string): Promise<PhaseResult[]>;
  /** Appends journal events; see `writeRecords`. */
  appendEvents(events: readonly JournalEvent[]): Promise<void>;
  /**
   * Writes what a lifecycle step produced (its events, its phase result, the assembled journal) with as few calls as
   * the store allows. `signal` stops retrying a throttled write.
   */
  writeRecords(records: RecordsToWrite, signal?: AbortSignal): Promise<void>;
  /** Everything stored under one experiment: record, phase results, events, rollback stack, journal. */
  loadExperiment(id: string): Promise<ExperimentBundle>;
  /** The experiment's events in time order (in the order written, for events of the same instant in SQLite). */
  listEvents(id: string): Promise<JournalEvent[]>;
  putJournal(id: string, journal: JsonObject): Promise<void>;
  getJournal(id: string): Promise<JsonObject | undefined>;
  /**
   * The experiment's status and phase and the emergency-stop flag, read together and strongly consistent: what INJECT
   * checks between faults, to stop when the run was stopped or rolled back under it.
   */
  injectionGate(id: string): Promise<{ status: ExperimentStatus; phase?: string; emergencyStop: EmergencyStop }>;

  // ---- resilience scores
  /** The score stored when the experiment ended, if it has one. */
  getScore(experimentId: string): Promise<ResilienceScore | undefined>;
  /**
   * Scores in time order, filtered by an index on target, service or chaos type (never a scan); a cursor from
   * another filter is a `ValidationError` naming `cursor`.
   */
  listScores(query: ScoreQuery): Promise<ScorePage>;

  // ---- the rollback stack
  /**
   * Marks the experiment as injecting, adds `leases` to its leases, and reserves `count` rollback sequence numbers
   * from an atomic counter, so entries pushed by retries or by several INJECT steps still stack in the order they were
   * written. Returns the first reserved number. An experiment that has ended, or was handed to a rollback run, or does
   * not exist, is an `ExperimentCancelledError`: an abort that came first wins over a late INJECT.
   */
  beginInjection(id: string, leases: string[], count: number): Promise<number>;
  /**
   * Reserves `count` rollback sequence numbers outside INJECT (declared Chaos Toolkit rollbacks that a rollback
   * strategy plays although the method never ran). Returns the first.
   */
  reserveRollbackSeqs(id: string, count: number): Promise<number>;
  /** Writes a rollback entry ahead of its fault under a reserved sequence number; a number used twice is a `ConflictError`. */
  pushRollback(id: string, seq: number, intent: RollbackIntent): Promise<RollbackEntry>;
  /** The stack, newest first. An entry that cannot be read comes back as a failed step naming it (`readRollbackEntry`). */
  listRollback(id: string): Promise<RollbackEntry[]>;
  /**
   * Settles a pending entry. Returns false when it was already settled (another runner got there first), which keeps
   * a step from being recorded twice when a crashed rollback is finished by the recovery sweep.
   */
  settleRollback(id: string, seq: number, state: Exclude<RollbackState, 'pending'>, outcome?: ActivityRecord): Promise<boolean>;

  // ---- leases
  /**
   * Takes a target for one experiment until `expiresAt` (epoch ms): free, held by the same holder (renewed), or held
   * by a lease that has expired, so a crash never locks a target forever. Otherwise a `TargetLeasedError` naming the
   * holder.
   */
  acquireLease(target: string, holder: string, expiresAt: number): Promise<void>;
  /** Releases a lease if this holder still has it; releasing twice, or another's lease, changes nothing. */
  releaseLease(target: string, holder: string): Promise<void>;
  /** The leases on these targets that have not expired, by target. */
  liveLeases(targets: readonly string[]): Promise<Map<string, Lease>>;
  /** The lease on a target, expired or not, until the store clears it (an hour after it expired, or later). */
  getLease(target: string): Promise<Lease | undefined>;

  // ---- idempotency
  /**
   * Binds an `Idempotency-Key` to the experiment a request creates, for `IDEMPOTENCY_TTL_S`. Returns the binding that
   * holds: this one when the key was free (or its binding expired), or the earlier one, whose `requestHash` tells a
   * replay from a conflicting reuse.
   */
  bindIdempotencyKey(key: string, experimentId: string, requestHash: string): Promise<IdempotencyBinding & { fresh: boolean }>;
  /** The binding of an `Idempotency-Key` that has not expired, if there is one. */
  getIdempotencyBinding(key: string): Promise<IdempotencyBinding | undefined>;

  // ---- emergency stop
  getEmergencyStop(): Promise<EmergencyStop>;
  /**
   * Raises the emergency stop, or lifts it. Raising it while it is on changes nothing: the first `since` and `reason`
   * are what people need to see (when did this start, and why), and they are returned.
   */
  setEmergencyStop(active: boolean, reason?: string): Promise<EmergencyStop>;
}

/** The keys a stored item is named by (in errors, and in DynamoDB's single table): `EXP#<id>/META`, `EXP#<id>/RB#000001`. */
export const keys = {
  experiment: (id: string) => `EXP#${id}`,
  rollback: (seq: number) => `RB#${String(seq).padStart(6, '0')}`,
  phase: (phase: PhaseResult['phase'], ordinal: number) => `PHASE#${ordinal}#${phase}`,
};

/** A listing's cursor that this listing did not hand out (another filter, edited, made up). */
export const invalidCursor = (filter = 'same status filter'): ValidationError =>
  new ValidationError([{ field: 'cursor', message: `not a cursor returned by this API for this listing (${filter})` }], 'request');

/** The filter a score cursor belongs to, as a string both adapters compare. */
export const scoreFilterOf = ({ target, service, chaosType, since, until }: ScoreQuery): string =>
  JSON.stringify([target ?? null, service ?? null, chaosType ?? null, since ?? null, until ?? null]);
