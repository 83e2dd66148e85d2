/**
 * The store port (`store.ts`) on DynamoDB, through the AWS SDK v3 document client, in the single table `table.ts`
 * describes. Every write is a single-item (conditional) write: the lifecycle needs no transactions — ordering comes
 * from conditions (status guards, lease holders, rollback entry states) and from atomic counters — and DynamoDB
 * stand-ins such as dynalite, which the contract tests run on, have none.
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
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError, ExperimentCancelledError, NotFoundError, TargetLeasedError } from '../errors.js';
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
  type RollbackState,
} from '../model/lifecycle.js';
import { PHASES } from '../model/lifecycle.js';
import { GSI1, GSI2 } from './table.js';
import type { ResilienceScore } from '../analysis/score.js';
import { CorruptRecordError, idempotencyRecord, journalRecord, readAs, readEvent, readExperiment, readLease, readPage, readPhase, readRollbackEntry, readScore, readStop } from './records.js';
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
} from './store.js';

export interface DynamoDbStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  clock?: () => number;
}

const expKey = keys.experiment;
const rbKey = keys.rollback;
const statusKey = (status: ExperimentStatus) => `STATUS#${status}`;
const BATCH_LIMIT = 25;
const BATCH_GET_LIMIT = 100;

export class DynamoDbStore implements ExperimentStore {
  readonly tableName: string;
  private readonly doc: DynamoDBDocumentClient;
  private readonly clock: () => number;

  constructor({ client, tableName, clock = Date.now }: DynamoDbStoreOptions) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.tableName = tableName;
    this.clock = clock;
  }

  private now(): string {
    return new Date(this.clock()).toISOString();
  }

  // ---- experiments -------------------------------------------------------------------------------------------------

  /** Stores a new experiment; one with this id already stored is a `ConflictError`. */
  async createExperiment(record: ExperimentRecord): Promise<void> {
    await this.doc
      .send(
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
    )
      .catch((error: unknown) => {
        if (error instanceof ConditionalCheckFailedException) throw new ConflictError(`experiment ${record.id} already exists`);
        throw error;
      });
  }

  async getExperiment(id: string): Promise<ExperimentRecord> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: expKey(id), sk: 'META' } }));
    if (!Item) throw new NotFoundError(`experiment ${id} not found`);
    return readExperiment(Item);
  }

  /**
   * Updates an experiment that has not ended yet. A finished experiment is never changed again: a late task from a
   * stopped execution must not overwrite `emergency_stopped` with `running`. With `unlessRollingBack`, an experiment
   * already handed to a rollback run is refused too, so a run that starts late cannot undo an abort.
   */
  async updateExperiment(
    id: string,
    fields: ExperimentUpdate,
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
      return readExperiment(Attributes ?? {});
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
    let startKey = cursor ? decodeCursor(cursor, index) : undefined;
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
    return { ...readPage(items, readExperiment), ...(next ? { cursor: next } : {}) };
  }

  // ---- phases, events, journal -------------------------------------------------------------------------------------

  async putPhaseResult(id: string, result: PhaseResult): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: phaseItem(id, result) }));
  }

  async listPhaseResults(id: string): Promise<PhaseResult[]> {
    return (await this.queryAll({ pk: expKey(id), prefix: 'PHASE#' })).map(readPhase);
  }

  /** Appends journal events; see `writeRecords`. */
  async appendEvents(events: readonly JournalEvent[]): Promise<void> {
    await this.writeRecords({ events });
  }

  /**
   * Writes what a lifecycle step produced — its journal events, its phase result, the assembled journal — with as
   * few calls as DynamoDB allows (25 items a batch), retrying whatever a batch leaves unprocessed.
   */
  async writeRecords({ events = [], phase, journal, score }: RecordsToWrite, signal?: AbortSignal): Promise<void> {
    const items: Record<string, unknown>[] = events.map((event) => ({
      pk: expKey(event.experimentId),
      sk: `EVENT#${event.at}#${randomBytes(4).toString('hex')}`,
      ...event,
    }));
    if (phase) items.push(phaseItem(phase.experimentId, phase.result));
    if (journal) items.push({ pk: expKey(journal.experimentId), sk: 'JOURNAL', journal: journal.journal });
    if (score) items.push(...scoreItems(score));
    for (let i = 0; i < items.length; i += BATCH_LIMIT) {
      let requests = items.slice(i, i + BATCH_LIMIT).map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt > 0) await backoff(attempt, requests.length, signal);
        const { UnprocessedItems } = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }), { abortSignal: signal });
        requests = (UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
      }
    }
  }

  /** Everything stored under one experiment — record, phase results, events, rollback stack, journal — in one query. */
  async loadExperiment(id: string): Promise<ExperimentBundle> {
    const items = await this.queryAll({ pk: expKey(id), prefix: '' });
    const meta = items.find((item) => item.sk === 'META');
    if (!meta) throw new NotFoundError(`experiment ${id} not found`);
    // Only the record itself must read: an unreadable event, phase result or journal is named and left out, so
    // the experiment can still be finished and rolled back (the stack reads its own way, see readRollbackEntry).
    const unreadable: string[] = [];
    const readable = <T>(read: (item: Record<string, unknown>) => T) => (item: Record<string, unknown>): T[] => {
      try {
        return [read(item)];
      } catch (error) {
        if (!(error instanceof CorruptRecordError)) throw error;
        unreadable.push(error.key);
        return [];
      }
    };
    const of = (prefix: string) => items.filter((item) => String(item.sk).startsWith(prefix));
    const journal = items.filter((item) => item.sk === 'JOURNAL').flatMap(readable((item) => readAs<{ journal: JsonObject }>(journalRecord, item).journal))[0];
    return {
      record: readExperiment(meta),
      phases: of('PHASE#').flatMap(readable(readPhase)),
      events: of('EVENT#').flatMap(readable(readEvent)),
      stack: of('RB#').map(readRollbackEntry).reverse(),
      journal,
      unreadable,
    };
  }

  async listEvents(id: string): Promise<JournalEvent[]> {
    return (await this.queryAll({ pk: expKey(id), prefix: 'EVENT#' })).map(readEvent);
  }

  async putJournal(id: string, journal: JsonObject): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { pk: expKey(id), sk: 'JOURNAL', journal } }));
  }

  async getJournal(id: string): Promise<JsonObject | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: expKey(id), sk: 'JOURNAL' } }));
    return Item ? readAs<{ journal: JsonObject }>(journalRecord, Item).journal : undefined;
  }

  /**
   * The experiment's status and phase and the emergency-stop flag, read together and strongly consistent: what INJECT
   * checks between faults, to stop when the run was stopped or rolled back under it.
   */
  async injectionGate(id: string): Promise<{ status: ExperimentStatus; phase?: string; emergencyStop: EmergencyStop }> {
    const items = await this.batchGet([{ pk: expKey(id), sk: 'META' }, { pk: 'CONTROL', sk: 'ESTOP' }], true);
    const meta = items.find((item) => item.sk === 'META');
    if (!meta) throw new NotFoundError(`experiment ${id} not found`);
    const stop = items.find((item) => item.pk === 'CONTROL');
    const record = readExperiment(meta);
    return { status: record.status, phase: record.phase, emergencyStop: stop ? readStop(stop) : { active: false } };
  }

  // ---- resilience scores ------------------------------------------------------------------------------------------

  async getScore(experimentId: string): Promise<ResilienceScore | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: expKey(experimentId), sk: 'SCORE' } }));
    return Item ? readScore(scoreFields(Item)) : undefined;
  }

  /**
   * One query of GSI2 on the most selective filter given (target, then service, then chaos type, else every score),
   * the time window as its sort key range; the other filters are applied to what it reads.
   */
  async listScores(query: ScoreQuery): Promise<ScorePage> {
    const { target, service, chaosType, since, until, limit = 100, cursor } = query;
    const filter = scoreFilterOf(query);
    const partition = target ? scorePartition('TARGET', target) : service ? scorePartition('SERVICE', service) : chaosType ? scorePartition('TYPE', chaosType) : 'SCORES';
    // What the chosen partition does not already filter.
    const rest = [
      ...(target && service ? [['service', service]] : []),
      ...((target || service) && chaosType ? [['chaos_type', chaosType]] : []),
    ] as [string, string][];
    const names: Record<string, string> = { '#pk': 'gsi2pk', '#sk': 'gsi2sk' };
    const values: Record<string, unknown> = { ':pk': partition, ':lo': since ?? '', ':hi': `${until ?? '\uffff'}#\uffff` };
    rest.forEach(([field, value], i) => {
      names['#score'] = 'score';
      names[`#f${i}`] = field;
      values[`:f${i}`] = value;
    });
    const items: Record<string, unknown>[] = [];
    let startKey = cursor === undefined ? undefined : decodeScoreCursor(cursor, filter, partition);
    let more = true;
    while (items.length < limit && more) {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: GSI2,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
          ...(rest.length > 0 ? { FilterExpression: rest.map((_, i) => `#score.#f${i} = :f${i}`).join(' AND ') } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          Limit: limit - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
      more = startKey !== undefined;
    }
    const last = items.at(-1);
    const next = more && last ? encodeCursor({ pk: last.pk, sk: last.sk, gsi2pk: last.gsi2pk, gsi2sk: last.gsi2sk, filter }) : undefined;
    return { ...readPage(items, (item) => readScore(scoreFields(item))), ...(next ? { cursor: next } : {}) };
  }

  // ---- the rollback stack ------------------------------------------------------------------------------------------

  /**
   * Marks the experiment as injecting, adds the targets it leased to its leases, and reserves `count` rollback sequence numbers
   * from an atomic counter — so entries pushed by retries or by several INJECT steps still stack in the order they
   * were written. Returns the first reserved number. Refuses an experiment that has already ended.
   */
  async beginInjection(id: string, leases: string[], count: number): Promise<number> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: expKey(id), sk: 'META' },
          UpdateExpression: 'SET #phase = :phase, leases = list_append(if_not_exists(leases, :none), :leases), updatedAt = :now ADD rollbackSeq :count',
          // Neither ended nor handed to a rollback run: an abort that came first must win over a late INJECT.
          ConditionExpression: `attribute_exists(pk) AND NOT (#status IN (${FINAL_STATUSES.map((_, i) => `:final${i}`).join(', ')})) AND (attribute_not_exists(#phase) OR #phase <> :rollback)`,
          ExpressionAttributeNames: { '#phase': 'phase', '#status': 'status' },
          ExpressionAttributeValues: {
            ':phase': 'INJECT',
            ':rollback': 'ROLLBACK',
            ':leases': leases,
            ':none': [],
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

  /**
   * Reserves `count` rollback sequence numbers outside INJECT (declared Chaos Toolkit rollbacks that a rollback
   * strategy plays although the method never ran). Returns the first.
   */
  async reserveRollbackSeqs(id: string, count: number): Promise<number> {
    const { Attributes } = await this.doc
      .send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: expKey(id), sk: 'META' },
        UpdateExpression: 'ADD rollbackSeq :count',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':count': count },
        ReturnValues: 'UPDATED_NEW',
      }),
    )
      .catch((error: unknown) => {
        if (error instanceof ConditionalCheckFailedException) throw new NotFoundError(`experiment ${id} not found`);
        throw error;
      });
    return Number(Attributes?.rollbackSeq) - count + 1;
  }

  /** Writes a rollback entry ahead of its fault, under a sequence number reserved by `beginInjection`. */
  async pushRollback(id: string, seq: number, intent: RollbackIntent): Promise<RollbackEntry> {
    const entry: RollbackEntry = { ...intent, seq, state: 'pending', createdAt: this.now() };
    await this.doc
      .send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: expKey(id), sk: rbKey(entry.seq), ...entry },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      )
      .catch((error: unknown) => {
        if (error instanceof ConditionalCheckFailedException) throw new ConflictError(`rollback entry ${seq} of experiment ${id} is already written`);
        throw error;
      });
    return entry;
  }

  /** The stack, newest first. */
  async listRollback(id: string): Promise<RollbackEntry[]> {
    const items = await this.queryAll({ pk: expKey(id), prefix: 'RB#', newestFirst: true });
    return items.map(readRollbackEntry);
  }

  /**
   * Settles a pending entry. Returns false when it was already settled (another runner got there first), which keeps
   * a step from being recorded twice when a crashed rollback is finished by the recovery sweep.
   */
  async settleRollback(id: string, seq: number, state: Exclude<RollbackState, 'pending'>, outcome?: ActivityRecord): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: expKey(id), sk: rbKey(seq) },
          UpdateExpression: outcome ? 'SET #state = :state, outcome = :outcome' : 'SET #state = :state',
          ConditionExpression: '#state = :pending',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':state': state, ':pending': 'pending', ...(outcome ? { ':outcome': outcome } : {}) },
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
          Item: { pk: `LOCK#${target}`, sk: 'LEASE', target, holder, heldUntil: expiresAt, expiresAt: Math.ceil(expiresAt / 1000) + LEASE_TTL_MARGIN_S },
          ConditionExpression: 'attribute_not_exists(pk) OR holder = :holder OR heldUntil < :now',
          ExpressionAttributeValues: { ':holder': holder, ':now': this.clock() },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: `LOCK#${target}`, sk: 'LEASE' } }));
      throw new TargetLeasedError(`target ${target} is held by experiment ${Item ? readLease(Item).holder : 'unknown (the lease ended meanwhile; try again)'}`);
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

  /** The leases on these targets that have not expired, by target: a batch read, a hundred keys a call. */
  async liveLeases(targets: readonly string[]): Promise<Map<string, Lease>> {
    const leases = new Map<string, Lease>();
    const keys = [...new Set(targets)].map((target) => ({ pk: `LOCK#${target}`, sk: 'LEASE' }));
    for (let i = 0; i < keys.length; i += BATCH_GET_LIMIT) {
      for (const item of await this.batchGet(keys.slice(i, i + BATCH_GET_LIMIT), false)) {
        const lease = readLease(item);
        if (lease.expiresAt > this.clock()) leases.set(lease.target, lease);
      }
    }
    return leases;
  }

  async getLease(target: string): Promise<Lease | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: `LOCK#${target}`, sk: 'LEASE' } }));
    return Item ? readLease(Item) : undefined;
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
      if (!Item) throw new ConflictError(`Idempotency-Key "${key}" expired while it was being used; send the request again`);
      return { ...readBinding(Item), fresh: false };
    }
  }

  /** The binding of an `Idempotency-Key` that has not expired, if there is one (read strongly consistent). */
  async getIdempotencyBinding(key: string): Promise<IdempotencyBinding | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: `IDEMP#${key}`, sk: 'IDEMP' }, ConsistentRead: true }));
    if (!Item || Number(Item.expiresAt) < Math.floor(this.clock() / 1000)) return undefined;
    return readBinding(Item);
  }

  // ---- emergency stop ----------------------------------------------------------------------------------------------

  async getEmergencyStop(): Promise<EmergencyStop> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: 'CONTROL', sk: 'ESTOP' }, ConsistentRead: true }),
    );
    return Item ? readStop(Item) : { active: false };
  }

  /**
   * Raises the emergency stop, or lifts it. Raising it while it is on changes nothing: the first `since` and `reason`
   * are what people need to see (when did this start, and why), and they are returned.
   */
  async setEmergencyStop(active: boolean, reason = ''): Promise<EmergencyStop> {
    const stop: EmergencyStop = active ? { active, since: this.now(), reason } : { active };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: 'CONTROL', sk: 'ESTOP', ...stop },
          ...(active ? { ConditionExpression: 'attribute_not_exists(pk) OR active = :off', ExpressionAttributeValues: { ':off': false } } : {}),
        }),
      );
      return stop;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return this.getEmergencyStop();
    }
  }

  // ------------------------------------------------------------------------------------------------------------------

  /** Up to a hundred items by key, asking again for any DynamoDB leaves unprocessed (a bounded number of times). */
  private async batchGet(keys: Record<string, unknown>[], consistent: boolean): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let pending = keys;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await backoff(attempt, pending.length);
      const { Responses, UnprocessedKeys } = await this.doc.send(
        new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: consistent } } }),
      );
      items.push(...(Responses?.[this.tableName] ?? []));
      pending = UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    return items;
  }

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

/** How often a batch call is repeated for the items DynamoDB left unprocessed (throttling) before giving up. */
const MAX_BATCH_ATTEMPTS = 8;

/**
 * Waits before the next attempt of a batch call: exponential with jitter, 25 ms to 1 s, as AWS advises for unprocessed
 * items. Gives up (throws) after `MAX_BATCH_ATTEMPTS`, or at once when `signal` is aborted.
 */
async function backoff(attempt: number, left: number, signal?: AbortSignal): Promise<void> {
  if (attempt >= MAX_BATCH_ATTEMPTS) throw new Error(`DynamoDB left ${left} item(s) unprocessed after ${MAX_BATCH_ATTEMPTS} attempts`);
  await sleep(Math.min(1000, 25 * 2 ** attempt) * (0.5 + Math.random() / 2), undefined, { signal });
}

function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * A cursor is handed back as DynamoDB's ExclusiveStartKey, so it must be exactly a key this listing could have
 * returned: the table's and the index's key attributes, of this index and partition. Anything else is the caller's
 * mistake (a cursor of another listing, an edited one), not DynamoDB's.
 */
function decodeCursor(cursor: string, index: { pk: string; value: string }): Record<string, unknown> {
  const indexSk = index.pk.replace('pk', 'sk');
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    key = undefined;
  }
  const fields = key && typeof key === 'object' && !Array.isArray(key) ? (key as Record<string, unknown>) : undefined;
  const valid =
    fields !== undefined &&
    Object.keys(fields).sort().join() === ['pk', 'sk', index.pk, indexSk].sort().join() &&
    Object.values(fields).every((value) => typeof value === 'string' && value.length > 0 && value.length <= 1024) &&
    String(fields.pk).startsWith('EXP#') &&
    fields.sk === 'META' &&
    fields[index.pk] === index.value;
  if (!valid) throw invalidCursor();
  return fields;
}

function phaseItem(id: string, result: PhaseResult): Record<string, unknown> {
  return { pk: expKey(id), sk: keys.phase(result.phase, PHASES.indexOf(result.phase) + 1), ...result };
}

function readBinding(item: Record<string, unknown>): IdempotencyBinding {
  const { experimentId, requestHash } = readAs<IdempotencyBinding>(idempotencyRecord, item);
  return { experimentId, requestHash };
}

const scorePartition = (dimension: 'TARGET' | 'SERVICE' | 'TYPE', value: string) => `SCORES#${dimension}#${value}`;

/**
 * A score is four items in its experiment's partition: `SCORE` (read by id, and listed in `SCORES`, every score by
 * time) and one per dimension the trend filters on, each in its own GSI2 partition sorted by `ended_at`.
 */
function scoreItems(score: ResilienceScore): Record<string, unknown>[] {
  const sortKey = `${score.ended_at}#${score.experiment_id}`;
  const item = (sk: string, gsi2pk: string) => ({ pk: expKey(score.experiment_id), sk, gsi2pk, gsi2sk: sortKey, score });
  return [
    item('SCORE', 'SCORES'),
    item('SCORE#TARGET', scorePartition('TARGET', score.target)),
    item('SCORE#SERVICE', scorePartition('SERVICE', score.service)),
    item('SCORE#TYPE', scorePartition('TYPE', score.chaos_type)),
  ];
}

/** A score item's score, named (in errors) as its `SCORE` item whichever index it was found through. */
const scoreFields = (item: Record<string, unknown>): Record<string, unknown> => ({ ...(item.score as Record<string, unknown>), pk: item.pk, sk: 'SCORE' });

/** A score cursor: the key of the last item read, in the partition and with the filters it was read for. */
function decodeScoreCursor(cursor: string, filter: string, partition: string): Record<string, unknown> {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    key = undefined;
  }
  const fields = key && typeof key === 'object' && !Array.isArray(key) ? (key as Record<string, unknown>) : {};
  const { filter: given, ...startKey } = fields;
  const valid =
    given === filter &&
    Object.keys(startKey).sort().join() === 'gsi2pk,gsi2sk,pk,sk' &&
    startKey.gsi2pk === partition &&
    Object.values(startKey).every((value) => typeof value === 'string' && value.length > 0 && value.length <= 2048);
  if (!valid) throw invalidCursor('the same filters');
  return startKey;
}
