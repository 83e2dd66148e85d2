/**
 * DynamoDB access for the lifecycle, through the AWS SDK v3 document client. Every write is a single-item
 * (conditional) write: DynamoDB Local stand-ins such as dynalite have no transactions, and the lifecycle needs none —
 * ordering comes from conditions (status guards, lease holders, rollback entry states) and from atomic counters.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { ConflictError, ExperimentCancelledError, NotFoundError, TargetLeasedError, ValidationError } from '../errors.js';
import type { ActivityRecord, JsonObject } from '../journal/activity.js';
import type { RollbackIntent } from '../faults/driver.js';
import {
  FINAL_STATUSES,
  isFinal,
  type ExperimentRecord,
  type ExperimentStatus,
  type FinalStatus,
  type JournalEvent,
  type PhaseResult,
  type RollbackEntry,
} from '../model/lifecycle.js';
import { PHASES } from '../model/lifecycle.js';
import { GSI1, GSI2 } from './table.js';

export interface StoreOptions {
  client: DynamoDBClient;
  tableName: string;
  clock?: () => number;
}

const IDEMPOTENCY_TTL_S = 24 * 3600;

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
  cursor?: string;
}

export interface RecordsToWrite {
  events?: readonly JournalEvent[];
  phase?: { experimentId: string; result: PhaseResult };
  journal?: { experimentId: string; journal: JsonObject };
}

export interface ExperimentBundle {
  record: ExperimentRecord;
  phases: PhaseResult[];
  events: JournalEvent[];
  /** Newest first. */
  stack: RollbackEntry[];
  journal?: JsonObject;
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

const expKey = (id: string) => `EXP#${id}`;
const rbKey = (seq: number) => `RB#${String(seq).padStart(6, '0')}`;
const statusKey = (status: ExperimentStatus) => `STATUS#${status}`;
const BATCH_LIMIT = 25;

export class ExperimentStore {
  readonly tableName: string;
  private readonly doc: DynamoDBDocumentClient;
  private readonly clock: () => number;

  constructor({ client, tableName, clock = Date.now }: StoreOptions) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.tableName = tableName;
    this.clock = clock;
  }

  private now(): string {
    return new Date(this.clock()).toISOString();
  }

  // ---- experiments -------------------------------------------------------------------------------------------------

  async createExperiment(record: ExperimentRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: expKey(record.id),
          sk: 'META',
          ...record,
          gsi1pk: statusKey(record.status),
          gsi1sk: record.createdAt,
          gsi2pk: 'EXPERIMENTS',
          gsi2sk: `${record.createdAt}#${record.id}`,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getExperiment(id: string): Promise<ExperimentRecord> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: expKey(id), sk: 'META' } }));
    if (!Item) throw new NotFoundError(`experiment ${id} not found`);
    return toRecord(Item);
  }

  /**
   * Updates an experiment that has not ended yet. A finished experiment is never changed again: a late task from a
   * stopped execution must not overwrite `emergency_stopped` with `running`. With `unlessRollingBack`, an experiment
   * already handed to a rollback run is refused too, so a run that starts late cannot undo an abort.
   */
  async updateExperiment(
    id: string,
    fields: Partial<Omit<ExperimentRecord, 'id' | 'spec' | 'createdAt'>>,
    { unlessRollingBack = false }: { unlessRollingBack?: boolean } = {},
  ): Promise<ExperimentRecord> {
    const values: Record<string, unknown> = { ...fields, updatedAt: this.now() };
    if (fields.status) values.gsi1pk = statusKey(fields.status);
    const names: Record<string, string> = { '#status': 'status' };
    const exprValues: Record<string, unknown> = {};
    const sets = Object.entries(values)
      .filter(([, value]) => value !== undefined)
      .map(([key, value], index) => {
        names[`#f${index}`] = key;
        exprValues[`:v${index}`] = value;
        return `#f${index} = :v${index}`;
      });
    FINAL_STATUSES.forEach((status, index) => (exprValues[`:final${index}`] = status));
    let condition = `attribute_exists(pk) AND NOT (#status IN (${FINAL_STATUSES.map((_, i) => `:final${i}`).join(', ')}))`;
    if (unlessRollingBack) {
      names['#phase'] = 'phase';
      exprValues[':rollback'] = 'ROLLBACK';
      condition += ' AND (attribute_not_exists(#phase) OR #phase <> :rollback)';
    }
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: expKey(id), sk: 'META' },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: exprValues,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toRecord(Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const current = await this.getExperiment(id);
        throw new ConflictError(
          isFinal(current.status) ? `experiment ${id} has already ended as ${current.status}` : `experiment ${id} is being rolled back`,
        );
      }
      throw error;
    }
  }

  async finishExperiment(id: string, status: FinalStatus, fields: Pick<ExperimentRecord, 'reason' | 'deviated' | 'error'>): Promise<ExperimentRecord> {
    return this.updateExperiment(id, { ...fields, status, endedAt: this.now() });
  }

  /** Experiments in one status, oldest first, a page at a time (the recovery sweep's view). */
  async listByStatus(status: ExperimentStatus, limit = 100, cursor?: string): Promise<ExperimentPage> {
    return this.listExperiments({ status, limit, cursor, newestFirst: false });
  }

  /**
   * A page of experiments, newest first unless asked otherwise, optionally of one status (GSI1) and one chaos type.
   * The cursor is opaque to callers: the index key of the last experiment returned.
   */
  async listExperiments({ status, chaosType, limit = 20, cursor, newestFirst = true }: ListQuery): Promise<ExperimentPage> {
    const index = status ? { name: GSI1, pk: 'gsi1pk', value: statusKey(status) } : { name: GSI2, pk: 'gsi2pk', value: 'EXPERIMENTS' };
    const items: Record<string, unknown>[] = [];
    let startKey = cursor ? decodeCursor(cursor) : undefined;
    let more = true;
    // A filter (chaos type) is applied after DynamoDB's own page limit, so keep reading until the page is full.
    while (items.length < limit && more) {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index.name,
          KeyConditionExpression: '#pk = :pk',
          ...(chaosType ? { FilterExpression: '#spec.#type = :type' } : {}),
          ExpressionAttributeNames: { '#pk': index.pk, ...(chaosType ? { '#spec': 'spec', '#type': 'chaos_type' } : {}) },
          ExpressionAttributeValues: { ':pk': index.value, ...(chaosType ? { ':type': chaosType } : {}) },
          ScanIndexForward: !newestFirst,
          Limit: limit - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
      more = startKey !== undefined;
    }
    const last = items.at(-1);
    const next =
      more && last
        ? encodeCursor({ pk: last.pk, sk: last.sk, [index.pk]: last[index.pk], [index.pk.replace('pk', 'sk')]: last[index.pk.replace('pk', 'sk')] })
        : undefined;
    return { items: items.map(toRecord), ...(next ? { cursor: next } : {}) };
  }

  // ---- phases, events, journal -------------------------------------------------------------------------------------

  async putPhaseResult(id: string, result: PhaseResult): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: phaseItem(id, result) }));
  }

  async listPhaseResults(id: string): Promise<PhaseResult[]> {
    return (await this.queryAll({ pk: expKey(id), prefix: 'PHASE#' })).map(({ pk: _pk, sk: _sk, ...rest }) => rest as unknown as PhaseResult);
  }

  /** Appends journal events; see `writeRecords`. */
  async appendEvents(events: readonly JournalEvent[]): Promise<void> {
    await this.writeRecords({ events });
  }

  /**
   * Writes what a lifecycle step produced — its journal events, its phase result, the assembled journal — with as
   * few calls as DynamoDB allows (25 items a batch), retrying whatever a batch leaves unprocessed.
   */
  async writeRecords({ events = [], phase, journal }: RecordsToWrite): Promise<void> {
    const items: Record<string, unknown>[] = events.map((event) => ({
      pk: expKey(event.experimentId),
      sk: `EVENT#${event.at}#${randomBytes(4).toString('hex')}`,
      ...event,
    }));
    if (phase) items.push(phaseItem(phase.experimentId, phase.result));
    if (journal) items.push({ pk: expKey(journal.experimentId), sk: 'JOURNAL', journal: journal.journal });
    for (let i = 0; i < items.length; i += BATCH_LIMIT) {
      let requests = items.slice(i, i + BATCH_LIMIT).map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        const { UnprocessedItems } = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }));
        requests = (UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
        if (requests.length > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)));
      }
    }
  }

  /** Everything stored under one experiment — record, phase results, events, rollback stack, journal — in one query. */
  async loadExperiment(id: string): Promise<ExperimentBundle> {
    const items = await this.queryAll({ pk: expKey(id), prefix: '' });
    const meta = items.find((item) => item.sk === 'META');
    if (!meta) throw new NotFoundError(`experiment ${id} not found`);
    const strip = ({ pk: _pk, sk: _sk, ...rest }: Record<string, unknown>) => rest;
    const of = (prefix: string) => items.filter((item) => String(item.sk).startsWith(prefix)).map(strip);
    return {
      record: toRecord(meta),
      phases: of('PHASE#') as unknown as PhaseResult[],
      events: of('EVENT#') as unknown as JournalEvent[],
      stack: (of('RB#') as unknown as RollbackEntry[]).reverse(),
      journal: items.find((item) => item.sk === 'JOURNAL')?.journal as JsonObject | undefined,
    };
  }

  async listEvents(id: string): Promise<JournalEvent[]> {
    return (await this.queryAll({ pk: expKey(id), prefix: 'EVENT#' })).map(({ pk: _pk, sk: _sk, ...rest }) => rest as unknown as JournalEvent);
  }

  async putJournal(id: string, journal: JsonObject): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { pk: expKey(id), sk: 'JOURNAL', journal } }));
  }

  async getJournal(id: string): Promise<JsonObject | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: expKey(id), sk: 'JOURNAL' } }));
    return Item?.journal as JsonObject | undefined;
  }

  /**
   * The experiment's status and phase and the emergency-stop flag, read together and strongly consistent: what INJECT
   * checks between faults, to stop when the run was stopped or rolled back under it.
   */
  async injectionGate(id: string): Promise<{ status: ExperimentStatus; phase?: string; emergencyStop: EmergencyStop }> {
    const items: Record<string, unknown>[] = [];
    let keys: Record<string, unknown>[] = [{ pk: expKey(id), sk: 'META' }, { pk: 'CONTROL', sk: 'ESTOP' }];
    while (keys.length > 0) {
      const { Responses, UnprocessedKeys } = await this.doc.send(
        new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
      );
      items.push(...(Responses?.[this.tableName] ?? []));
      keys = UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    const meta = items.find((item) => item.sk === 'META');
    if (!meta) throw new NotFoundError(`experiment ${id} not found`);
    const stop = items.find((item) => item.pk === 'CONTROL');
    return {
      status: meta.status as ExperimentStatus,
      phase: meta.phase as string | undefined,
      emergencyStop: stop?.active ? { active: true, since: String(stop.since), reason: String(stop.reason ?? '') } : { active: false },
    };
  }

  // ---- the rollback stack ------------------------------------------------------------------------------------------

  /**
   * Marks the experiment as injecting, records the targets it leased, and reserves `count` rollback sequence numbers
   * from an atomic counter — so entries pushed by retries or by several INJECT steps still stack in the order they
   * were written. Returns the first reserved number. Refuses an experiment that has already ended.
   */
  async beginInjection(id: string, leases: string[], count: number): Promise<number> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: expKey(id), sk: 'META' },
          UpdateExpression: 'SET #phase = :phase, leases = :leases, updatedAt = :now ADD rollbackSeq :count',
          // Neither ended nor handed to a rollback run: an abort that came first must win over a late INJECT.
          ConditionExpression: `attribute_exists(pk) AND NOT (#status IN (${FINAL_STATUSES.map((_, i) => `:final${i}`).join(', ')})) AND #phase <> :rollback`,
          ExpressionAttributeNames: { '#phase': 'phase', '#status': 'status' },
          ExpressionAttributeValues: {
            ':phase': 'INJECT',
            ':rollback': 'ROLLBACK',
            ':leases': leases,
            ':now': this.now(),
            ':count': count,
            ...Object.fromEntries(FINAL_STATUSES.map((status, i) => [`:final${i}`, status])),
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(Attributes?.rollbackSeq) - count + 1;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new ExperimentCancelledError(`experiment ${id} was stopped before its faults were applied`);
      }
      throw error;
    }
  }

  /** Writes a rollback entry ahead of its fault, under a sequence number reserved by `beginInjection`. */
  async pushRollback(id: string, seq: number, intent: RollbackIntent): Promise<RollbackEntry> {
    const entry: RollbackEntry = { ...intent, seq, state: 'pending', createdAt: this.now() };
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: expKey(id), sk: rbKey(entry.seq), ...entry },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return entry;
  }

  /** The stack, newest first. */
  async listRollback(id: string): Promise<RollbackEntry[]> {
    const items = await this.queryAll({ pk: expKey(id), prefix: 'RB#', newestFirst: true });
    return items.map(({ pk: _pk, sk: _sk, ...rest }) => rest as unknown as RollbackEntry);
  }

  /**
   * Settles a pending entry. Returns false when it was already settled (another runner got there first), which keeps
   * a step from being recorded twice when a crashed rollback is finished by the recovery sweep.
   */
  async settleRollback(id: string, seq: number, state: 'done' | 'failed', outcome: ActivityRecord): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: expKey(id), sk: rbKey(seq) },
          UpdateExpression: 'SET #state = :state, outcome = :outcome',
          ConditionExpression: '#state = :pending',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':state': state, ':outcome': outcome, ':pending': 'pending' },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  // ---- leases ------------------------------------------------------------------------------------------------------

  /** Takes a target for one experiment; a lease left by a dead run expires, so a crash never locks a target forever. */
  async acquireLease(target: string, holder: string, expiresAt: number): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          // `heldUntil` is epoch ms; `expiresAt` (epoch s) lets DynamoDB's TTL clear a lease a crash left behind.
          Item: { pk: `LOCK#${target}`, sk: 'LEASE', target, holder, heldUntil: expiresAt, expiresAt: Math.ceil(expiresAt / 1000) + 3600 },
          ConditionExpression: 'attribute_not_exists(pk) OR holder = :holder OR heldUntil < :now',
          ExpressionAttributeValues: { ':holder': holder, ':now': this.clock() },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: `LOCK#${target}`, sk: 'LEASE' } }));
      throw new TargetLeasedError(`target ${target} is held by experiment ${String(Item?.holder ?? 'unknown')}`);
    }
  }

  /** Releases a lease if this holder still has it; releasing twice is fine. */
  async releaseLease(target: string, holder: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: `LOCK#${target}`, sk: 'LEASE' },
          ConditionExpression: 'holder = :holder',
          ExpressionAttributeValues: { ':holder': holder },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async getLease(target: string): Promise<Lease | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: `LOCK#${target}`, sk: 'LEASE' } }));
    return Item ? { target: Item.target, holder: Item.holder, expiresAt: Item.heldUntil } : undefined;
  }

  // ---- idempotency -------------------------------------------------------------------------------------------------

  /**
   * Binds an `Idempotency-Key` to the experiment a request creates, for 24 hours. Returns the binding that holds:
   * this one when the key was free, or the earlier one (whose `requestHash` tells a replay from a conflicting reuse).
   */
  async bindIdempotencyKey(key: string, experimentId: string, requestHash: string): Promise<IdempotencyBinding & { fresh: boolean }> {
    const now = this.clock();
    const binding: IdempotencyBinding = { experimentId, requestHash };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: `IDEMP#${key}`, sk: 'IDEMP', ...binding, createdAt: this.now(), expiresAt: Math.ceil(now / 1000) + IDEMPOTENCY_TTL_S },
          // DynamoDB's TTL deletes expired items within days, not at once: an expired binding counts as free.
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
          ExpressionAttributeValues: { ':now': Math.floor(now / 1000) },
        }),
      );
      return { ...binding, fresh: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const { Item } = await this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: { pk: `IDEMP#${key}`, sk: 'IDEMP' }, ConsistentRead: true }),
      );
      return { experimentId: String(Item?.experimentId), requestHash: String(Item?.requestHash), fresh: false };
    }
  }

  // ---- emergency stop ----------------------------------------------------------------------------------------------

  async getEmergencyStop(): Promise<EmergencyStop> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: 'CONTROL', sk: 'ESTOP' }, ConsistentRead: true }),
    );
    return Item?.active ? { active: true, since: Item.since, reason: Item.reason } : { active: false };
  }

  async setEmergencyStop(active: boolean, reason = ''): Promise<EmergencyStop> {
    const stop: EmergencyStop = active ? { active, since: this.now(), reason } : { active };
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { pk: 'CONTROL', sk: 'ESTOP', ...stop } }));
    return stop;
  }

  // ------------------------------------------------------------------------------------------------------------------

  private async queryAll({ pk, prefix, newestFirst = false }: { pk: string; prefix: string; newestFirst?: boolean }) {
    const items: Record<string, unknown>[] = [];
    let ExclusiveStartKey: QueryCommandInput['ExclusiveStartKey'];
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
          ScanIndexForward: !newestFirst,
          ExclusiveStartKey,
        }),
      );
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }
}

function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string): Record<string, unknown> {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    if (key && typeof key === 'object' && !Array.isArray(key)) return key as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw new ValidationError([{ field: 'cursor', message: 'not a cursor returned by this API' }], 'request');
}

function phaseItem(id: string, result: PhaseResult): Record<string, unknown> {
  return { pk: expKey(id), sk: `PHASE#${PHASES.indexOf(result.phase) + 1}#${result.phase}`, ...result };
}

function toRecord(item: Record<string, unknown>): ExperimentRecord {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, gsi2pk: _g3, gsi2sk: _g4, rollbackSeq: _seq, ...record } = item;
  return record as unknown as ExperimentRecord;
}

