/**
 * The store port (`shared/store/store.ts`) on SQLite, for the embedded runtime. Each guarded write is one transaction
 * whose reads decide its writes (`transaction`), and node:sqlite is synchronous, so nothing else runs between them:
 * the guards hold as DynamoDB's condition expressions hold. Items are named in errors by the keys the DynamoDB
 * adapter uses (`EXP#<id>/META`), so a corrupt record reads the same in both.
 *
 * Expired idempotency keys, leases and connections count as absent when read, and are deleted now and then
 * (`purgeExpired`), as DynamoDB's TTL deletes them.
 */
import { ConflictError, ExperimentCancelledError, NotFoundError, TargetLeasedError } from '../../shared/errors.js';
import type { ActivityRecord, JsonObject } from '../../shared/journal/activity.js';
import type { RollbackIntent } from '../../shared/faults/driver.js';
import {
  PHASES,
  isFinal,
  type ExperimentRecord,
  type ExperimentStatus,
  type FinalStatus,
  type JournalEvent,
  type PhaseResult,
  type RollbackEntry,
  type RollbackState,
} from '../../shared/model/lifecycle.js';
import type { ResilienceScore } from '../../shared/analysis/score.js';
import { CorruptRecordError, readEvent, readExperiment, readPage, readPhase, readRollbackEntry, readScore, unreadableEntry } from '../../shared/store/records.js';
import {
  IDEMPOTENCY_TTL_S,
  invalidCursor,
  keys,
  LEASE_TTL_MARGIN_S,
  type EmergencyStop,
  type ExperimentBundle,
  type ExperimentPage,
  type ExperimentStore,
  type ExperimentUpdate,
  type IdempotencyBinding,
  type Lease,
  type ListQuery,
  type RecordsToWrite,
  type ScorePage,
  type ScoreQuery,
  scoreFilterOf,
} from '../../shared/store/store.js';
import { durably, Statements, transaction, type Database } from './database.js';

type Row = Record<string, unknown>;

/** How often expired rows are deleted while the store is open. */
const PURGE_EVERY_MS = 10 * 60_000;

export class SqliteStore implements ExperimentStore {
  private readonly sql: Statements;
  private readonly purger: NodeJS.Timeout;

  constructor(
    readonly db: Database,
    private readonly clock: () => number = Date.now,
  ) {
    this.sql = new Statements(db);
    this.purgeExpired();
    this.purger = setInterval(() => this.purgeExpired(), PURGE_EVERY_MS).unref();
  }

  /** Stops the periodic purge; the database itself belongs to whoever opened it. */
  close(): void {
    clearInterval(this.purger);
  }

  /** Deletes what has expired: idempotency keys, leases an hour past their end, connections (as DynamoDB's TTL). */
  purgeExpired(): void {
    const now = Math.floor(this.clock() / 1000);
    transaction(this.db, () => {
      for (const table of ['idempotency_keys', 'leases', 'connections', 'subscriptions']) {
        this.sql.get(`DELETE FROM ${table} WHERE expires_at < ?`).run(now);
      }
    });
  }

  private now(): string {
    return new Date(this.clock()).toISOString();
  }

  // ---- experiments -------------------------------------------------------------------------------------------------

  async createExperiment(record: ExperimentRecord): Promise<void> {
    const { changes } = this.sql
      .get('INSERT INTO experiments (id, status, phase, chaos_type, created_at, record) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING')
      .run(record.id, record.status, record.phase ?? null, chaosTypeOf(record), record.createdAt, JSON.stringify(record));
    if (changes === 0) throw new ConflictError(`experiment ${record.id} already exists`);
  }

  async getExperiment(id: string): Promise<ExperimentRecord> {
    const row = this.sql.get('SELECT record FROM experiments WHERE id = ?').get(id);
    if (!row) throw new NotFoundError(`experiment ${id} not found`);
    return readExperiment(item(keys.experiment(id), 'META', row.record));
  }

  async updateExperiment(id: string, fields: ExperimentUpdate, { unlessRollingBack = false }: { unlessRollingBack?: boolean } = {}): Promise<ExperimentRecord> {
    return transaction(this.db, () => {
      const current = this.sql.get('SELECT status, phase, record FROM experiments WHERE id = ?').get(id);
      if (!current) throw new NotFoundError(`experiment ${id} not found`);
      if (isFinal(current.status as ExperimentStatus)) throw new ConflictError(`experiment ${id} has already ended as ${String(current.status)}`);
      if (unlessRollingBack && current.phase === 'ROLLBACK') throw new ConflictError(`experiment ${id} is being rolled back`);
      const defined = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
      const updated = { ...parse(keys.experiment(id), 'META', current.record), ...defined, updatedAt: this.now() };
      // Read back before writing: a corrupt record is reported, not rewritten with its holes.
      const record = readExperiment({ pk: keys.experiment(id), sk: 'META', ...updated });
      this.sql.get('UPDATE experiments SET status = ?, phase = ?, record = ? WHERE id = ?').run(record.status, record.phase ?? null, JSON.stringify(updated), id);
      return record;
    });
  }

  async finishExperiment(id: string, status: FinalStatus, fields: Pick<ExperimentRecord, 'reason' | 'deviated' | 'error'>): Promise<ExperimentRecord> {
    return this.updateExperiment(id, { ...fields, status, endedAt: this.now() });
  }

  async listByStatus(status: ExperimentStatus, limit = 100, cursor?: string): Promise<ExperimentPage> {
    return this.listExperiments({ status, limit, cursor, newestFirst: false });
  }

  async listExperiments({ status, chaosType, limit = 20, cursor, newestFirst = true }: ListQuery): Promise<ExperimentPage> {
    const after = cursor === undefined ? undefined : decodeCursor(cursor, status);
    const where = [
      ...(status ? ['status = $status'] : []),
      ...(chaosType ? ['chaos_type = $type'] : []),
      ...(after ? [`(created_at, id) ${newestFirst ? '<' : '>'} ($createdAt, $id)`] : []),
    ];
    const order = newestFirst ? 'DESC' : 'ASC';
    // One row more than the page: whether there is a next page is then known, not guessed.
    const rows = this.sql
      .get(`SELECT id, created_at, record FROM experiments ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at ${order}, id ${order} LIMIT $limit`)
      .all({
        ...(status ? { status } : {}),
        ...(chaosType ? { type: chaosType } : {}),
        ...(after ? { createdAt: after.createdAt, id: after.id } : {}),
        limit: limit + 1,
      });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const next = rows.length > limit && last ? encodeCursor({ createdAt: String(last.created_at), id: String(last.id), status }) : undefined;
    return { ...readPage(page, (row) => readExperiment(item(keys.experiment(String(row.id)), 'META', row.record))), ...(next ? { cursor: next } : {}) };
  }

  // ---- phases, events, journal -------------------------------------------------------------------------------------

  async putPhaseResult(id: string, result: PhaseResult): Promise<void> {
    this.putPhase(id, result);
  }

  async listPhaseResults(id: string): Promise<PhaseResult[]> {
    return this.phaseRows(id).map((row) => readPhase(item(keys.experiment(id), keys.phase(row.phase, row.ordinal), row.result)));
  }

  async appendEvents(events: readonly JournalEvent[]): Promise<void> {
    await this.writeRecords({ events });
  }

  async writeRecords({ events = [], phase, journal, score }: RecordsToWrite): Promise<void> {
    transaction(this.db, () => {
      const insert = this.sql.get('INSERT INTO events (experiment_id, at, event) VALUES (?, ?, ?)');
      for (const event of events) insert.run(event.experimentId, event.at, JSON.stringify(event));
      if (phase) this.putPhase(phase.experimentId, phase.result);
      if (journal) this.putJournalRow(journal.experimentId, journal.journal);
      if (score) {
        this.sql
          .get(
            `INSERT INTO scores (experiment_id, target, service, chaos_type, ended_at, score) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT DO UPDATE SET target = excluded.target, service = excluded.service, chaos_type = excluded.chaos_type,
               ended_at = excluded.ended_at, score = excluded.score`,
          )
          .run(score.experiment_id, score.target, score.service, score.chaos_type, score.ended_at, JSON.stringify(score));
      }
    });
  }

  async loadExperiment(id: string): Promise<ExperimentBundle> {
    // One read transaction: the parts are of one moment, as DynamoDB's single query gives them.
    return transaction(this.db, () => {
      const meta = this.sql.get('SELECT record FROM experiments WHERE id = ?').get(id);
      if (!meta) throw new NotFoundError(`experiment ${id} not found`);
      const unreadable: string[] = [];
      const readable = <T>(read: () => T): T[] => {
        try {
          return [read()];
        } catch (error) {
          if (!(error instanceof CorruptRecordError)) throw error;
          unreadable.push(error.key);
          return [];
        }
      };
      const pk = keys.experiment(id);
      const journal = this.sql.get('SELECT journal FROM journals WHERE experiment_id = ?').get(id);
      return {
        record: readExperiment(item(pk, 'META', meta.record)),
        phases: this.phaseRows(id).flatMap((row) => readable(() => readPhase(item(pk, keys.phase(row.phase, row.ordinal), row.result)))),
        events: this.eventRows(id).flatMap((row) => readable(() => readEvent(item(pk, eventKey(row), row.event)))),
        stack: this.rollbackRows(id),
        journal: journal ? readable(() => readJournal(pk, journal.journal))[0] : undefined,
        unreadable,
      };
    });
  }

  async listEvents(id: string): Promise<JournalEvent[]> {
    return this.eventRows(id).map((row) => readEvent(item(keys.experiment(id), eventKey(row), row.event)));
  }

  async putJournal(id: string, journal: JsonObject): Promise<void> {
    this.putJournalRow(id, journal);
  }

  async getJournal(id: string): Promise<JsonObject | undefined> {
    const row = this.sql.get('SELECT journal FROM journals WHERE experiment_id = ?').get(id);
    return row ? readJournal(keys.experiment(id), row.journal) : undefined;
  }

  async injectionGate(id: string): Promise<{ status: ExperimentStatus; phase?: string; emergencyStop: EmergencyStop }> {
    const record = await this.getExperiment(id);
    return { status: record.status, phase: record.phase, emergencyStop: await this.getEmergencyStop() };
  }

  // ---- resilience scores ------------------------------------------------------------------------------------------

  async getScore(experimentId: string): Promise<ResilienceScore | undefined> {
    const row = this.sql.get('SELECT score FROM scores WHERE experiment_id = ?').get(experimentId);
    return row ? readScore(item(keys.experiment(experimentId), 'SCORE', row.score)) : undefined;
  }

  async listScores(query: ScoreQuery): Promise<ScorePage> {
    const { target, service, chaosType, since, until, limit = 100, cursor } = query;
    const filter = scoreFilterOf(query);
    const after = cursor === undefined ? undefined : decodeScoreCursor(cursor, filter);
    const where = [
      ...(target ? ['target = $target'] : []),
      ...(service ? ['service = $service'] : []),
      ...(chaosType ? ['chaos_type = $chaosType'] : []),
      ...(since ? ['ended_at >= $since'] : []),
      ...(until ? ['ended_at <= $until'] : []),
      ...(after ? ['(ended_at, experiment_id) > ($endedAt, $id)'] : []),
    ];
    const rows = this.sql
      .get(`SELECT experiment_id, ended_at, score FROM scores ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ended_at, experiment_id LIMIT $limit`)
      .all({
        ...(target ? { target } : {}),
        ...(service ? { service } : {}),
        ...(chaosType ? { chaosType } : {}),
        ...(since ? { since } : {}),
        ...(until ? { until } : {}),
        ...(after ? { endedAt: after.endedAt, id: after.id } : {}),
        limit: limit + 1,
      });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const next = rows.length > limit && last ? encodeScoreCursor(String(last.ended_at), String(last.experiment_id), filter) : undefined;
    return { ...readPage(page, (row) => readScore(item(keys.experiment(String(row.experiment_id)), 'SCORE', row.score))), ...(next ? { cursor: next } : {}) };
  }

  // ---- the rollback stack ------------------------------------------------------------------------------------------

  async beginInjection(id: string, leases: string[], count: number): Promise<number> {
    return transaction(this.db, () => {
      const current = this.sql.get('SELECT status, phase, rollback_seq, record FROM experiments WHERE id = ?').get(id);
      if (!current || isFinal(current.status as ExperimentStatus) || current.phase === 'ROLLBACK') {
        throw new ExperimentCancelledError(`experiment ${id} was stopped before its faults were applied`);
      }
      const record = parse(keys.experiment(id), 'META', current.record);
      const held = Array.isArray(record.leases) ? (record.leases as string[]) : [];
      const updated = { ...record, phase: 'INJECT', leases: [...held, ...leases], updatedAt: this.now() };
      const seq = Number(current.rollback_seq) + count;
      this.sql.get("UPDATE experiments SET phase = 'INJECT', rollback_seq = ?, record = ? WHERE id = ?").run(seq, JSON.stringify(updated), id);
      return seq - count + 1;
    });
  }

  async reserveRollbackSeqs(id: string, count: number): Promise<number> {
    const row = this.sql.get('UPDATE experiments SET rollback_seq = rollback_seq + ? WHERE id = ? RETURNING rollback_seq').get(count, id);
    if (!row) throw new NotFoundError(`experiment ${id} not found`);
    return Number(row.rollback_seq) - count + 1;
  }

  async pushRollback(id: string, seq: number, intent: RollbackIntent): Promise<RollbackEntry> {
    const entry: RollbackEntry = { ...intent, seq, state: 'pending', createdAt: this.now() };
    // Synced to the disk: the fault it undoes is applied next, and must never outlive the knowledge of how to undo it.
    const { changes } = durably(this.db, () =>
      this.sql
        .get("INSERT INTO rollback_entries (experiment_id, seq, state, entry) VALUES (?, ?, 'pending', ?) ON CONFLICT DO NOTHING")
        .run(id, seq, JSON.stringify(entry)),
    );
    if (changes === 0) throw new ConflictError(`rollback entry ${seq} of experiment ${id} is already written`);
    return entry;
  }

  async listRollback(id: string): Promise<RollbackEntry[]> {
    return this.rollbackRows(id);
  }

  async settleRollback(id: string, seq: number, state: Exclude<RollbackState, 'pending'>, outcome?: ActivityRecord): Promise<boolean> {
    const { changes } = this.sql
      .get("UPDATE rollback_entries SET state = ?, outcome = ? WHERE experiment_id = ? AND seq = ? AND state = 'pending'")
      .run(state, outcome ? JSON.stringify(outcome) : null, id, seq);
    return changes > 0;
  }

  // ---- leases ------------------------------------------------------------------------------------------------------

  async acquireLease(target: string, holder: string, expiresAt: number): Promise<void> {
    const { changes } = this.sql
      .get(
        `INSERT INTO leases (target, holder, held_until, expires_at) VALUES ($target, $holder, $heldUntil, $expiresAt)
         ON CONFLICT (target) DO UPDATE SET holder = excluded.holder, held_until = excluded.held_until, expires_at = excluded.expires_at
         WHERE leases.holder = excluded.holder OR leases.held_until < $now`,
      )
      .run({ target, holder, heldUntil: expiresAt, expiresAt: Math.ceil(expiresAt / 1000) + LEASE_TTL_MARGIN_S, now: this.clock() });
    if (changes === 0) {
      const lease = await this.getLease(target);
      throw new TargetLeasedError(`target ${target} is held by experiment ${lease?.holder ?? 'unknown (the lease ended meanwhile; try again)'}`);
    }
  }

  async releaseLease(target: string, holder: string): Promise<void> {
    this.sql.get('DELETE FROM leases WHERE target = ? AND holder = ?').run(target, holder);
  }

  async liveLeases(targets: readonly string[]): Promise<Map<string, Lease>> {
    const rows = this.sql
      .get('SELECT target, holder, held_until FROM leases WHERE target IN (SELECT value FROM json_each(?)) AND held_until > ?')
      .all(JSON.stringify([...new Set(targets)]), this.clock());
    return new Map(rows.map((row) => [String(row.target), toLease(row)]));
  }

  async getLease(target: string): Promise<Lease | undefined> {
    const row = this.sql.get('SELECT target, holder, held_until FROM leases WHERE target = ?').get(target);
    return row ? toLease(row) : undefined;
  }

  // ---- idempotency -------------------------------------------------------------------------------------------------

  async bindIdempotencyKey(key: string, experimentId: string, requestHash: string): Promise<IdempotencyBinding & { fresh: boolean }> {
    const now = this.clock();
    const { changes } = this.sql
      .get(
        `INSERT INTO idempotency_keys (key, experiment_id, request_hash, created_at, expires_at) VALUES ($key, $experimentId, $requestHash, $createdAt, $expiresAt)
         ON CONFLICT (key) DO UPDATE SET experiment_id = excluded.experiment_id, request_hash = excluded.request_hash,
           created_at = excluded.created_at, expires_at = excluded.expires_at
         WHERE idempotency_keys.expires_at < $now`,
      )
      .run({ key, experimentId, requestHash, createdAt: this.now(), expiresAt: Math.ceil(now / 1000) + IDEMPOTENCY_TTL_S, now: Math.floor(now / 1000) });
    if (changes > 0) return { experimentId, requestHash, fresh: true };
    const row = this.sql.get('SELECT experiment_id, request_hash FROM idempotency_keys WHERE key = ?').get(key);
    if (!row) throw new ConflictError(`Idempotency-Key "${key}" expired while it was being used; send the request again`);
    return { experimentId: String(row.experiment_id), requestHash: String(row.request_hash), fresh: false };
  }

  async getIdempotencyBinding(key: string): Promise<IdempotencyBinding | undefined> {
    const row = this.sql.get('SELECT experiment_id, request_hash FROM idempotency_keys WHERE key = ? AND expires_at >= ?').get(key, Math.floor(this.clock() / 1000));
    return row ? { experimentId: String(row.experiment_id), requestHash: String(row.request_hash) } : undefined;
  }

  // ---- emergency stop ----------------------------------------------------------------------------------------------

  async getEmergencyStop(): Promise<EmergencyStop> {
    const row = this.sql.get('SELECT active, since, reason FROM emergency_stop WHERE id = 1').get();
    return row?.active ? { active: true, since: String(row.since), reason: String(row.reason ?? '') } : { active: false };
  }

  async setEmergencyStop(active: boolean, reason = ''): Promise<EmergencyStop> {
    if (!active) {
      this.sql.get('INSERT INTO emergency_stop (id, active) VALUES (1, 0) ON CONFLICT (id) DO UPDATE SET active = 0, since = NULL, reason = NULL').run();
      return { active: false };
    }
    const stop = { active: true, since: this.now(), reason };
    const { changes } = this.sql
      .get('INSERT INTO emergency_stop (id, active, since, reason) VALUES (1, 1, ?, ?) ON CONFLICT (id) DO UPDATE SET active = 1, since = excluded.since, reason = excluded.reason WHERE active = 0')
      .run(stop.since, reason);
    return changes > 0 ? stop : this.getEmergencyStop();
  }

  // ------------------------------------------------------------------------------------------------------------------

  private putPhase(id: string, result: PhaseResult): void {
    this.sql
      .get('INSERT INTO phases (experiment_id, ordinal, result) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET result = excluded.result')
      .run(id, PHASES.indexOf(result.phase) + 1, JSON.stringify(result));
  }

  private putJournalRow(id: string, journal: JsonObject): void {
    this.sql.get('INSERT INTO journals (experiment_id, journal) VALUES (?, ?) ON CONFLICT DO UPDATE SET journal = excluded.journal').run(id, JSON.stringify(journal));
  }

  private phaseRows(id: string): { ordinal: number; phase: PhaseResult['phase']; result: unknown }[] {
    return this.sql
      .get('SELECT ordinal, result FROM phases WHERE experiment_id = ? ORDER BY ordinal')
      .all(id)
      .map((row) => ({ ordinal: Number(row.ordinal), phase: PHASES[Number(row.ordinal) - 1] ?? PHASES[0], result: row.result }));
  }

  private eventRows(id: string): Row[] {
    return this.sql.get('SELECT id, at, event FROM events WHERE experiment_id = ? ORDER BY at, id').all(id);
  }

  /** The stack, newest first; an entry that cannot be read is a failed step naming it (see `readRollbackEntry`). */
  private rollbackRows(id: string): RollbackEntry[] {
    const pk = keys.experiment(id);
    return this.sql
      .get('SELECT seq, state, entry, outcome FROM rollback_entries WHERE experiment_id = ? ORDER BY seq DESC')
      .all(id)
      .map((row) => {
        const seq = Number(row.seq);
        const sk = keys.rollback(seq);
        try {
          const outcome = row.outcome === null ? {} : { outcome: parse(pk, sk, row.outcome) };
          return readRollbackEntry({ ...parse(pk, sk, row.entry), seq, state: row.state, ...outcome, pk, sk });
        } catch (error) {
          if (!(error instanceof CorruptRecordError)) throw error;
          return unreadableEntry(error, seq);
        }
      });
  }
}

const chaosTypeOf = (record: ExperimentRecord): string | null => ('chaos_type' in record.spec ? record.spec.chaos_type : null);

const eventKey = (row: Row) => `EVENT#${String(row.at)}#${String(row.id)}`;

function toLease(row: Row): Lease {
  return { target: String(row.target), holder: String(row.holder), expiresAt: Number(row.held_until) };
}

function readJournal(pk: string, text: unknown): JsonObject {
  const journal = parse(pk, 'JOURNAL', text);
  return journal as JsonObject;
}

/** A stored JSON column as an object, or a `CorruptRecordError` naming its key. */
function parse(pk: string, sk: string, text: unknown): Row {
  let value: unknown;
  try {
    value = JSON.parse(String(text));
  } catch {
    throw new CorruptRecordError(`${pk}/${sk}`, 'not JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new CorruptRecordError(`${pk}/${sk}`, 'not a JSON object');
  return value as Row;
}

/** The item as the record readers take it: its fields, named by its DynamoDB-style key. */
const item = (pk: string, sk: string, text: unknown): Row => ({ ...parse(pk, sk, text), pk, sk });

interface Cursor {
  createdAt: string;
  id: string;
  status?: ExperimentStatus;
}

function encodeCursor({ createdAt, id, status }: Cursor): string {
  return Buffer.from(JSON.stringify([createdAt, id, status ?? null])).toString('base64url');
}

/** A cursor must be one this listing (same status filter) could have returned. */
function decodeCursor(cursor: string, status: ExperimentStatus | undefined): Cursor {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    throw invalidCursor();
  }
  const text = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 1024;
  if (!Array.isArray(value) || value.length !== 3 || !text(value[0]) || !text(value[1]) || value[2] !== (status ?? null)) throw invalidCursor();
  return { createdAt: value[0], id: value[1], status };
}

function encodeScoreCursor(endedAt: string, id: string, filter: string): string {
  return Buffer.from(JSON.stringify([endedAt, id, filter])).toString('base64url');
}

/** A score cursor must be one this trend (the same filter) handed out. */
function decodeScoreCursor(cursor: string, filter: string): { endedAt: string; id: string } {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    throw invalidCursor('the same filters');
  }
  if (!Array.isArray(value) || value.length !== 3 || typeof value[0] !== 'string' || typeof value[1] !== 'string' || value[2] !== filter) {
    throw invalidCursor('the same filters');
  }
  return { endedAt: value[0], id: value[1] };
}
