/**
 * One contract, two adapters: the store port (experiments, journals, rollback stacks, leases, idempotency keys, the
 * emergency stop) and the connections port, run against SQLite (the embedded runtime's) and DynamoDB (AWS's, on
 * dynalite over the real wire). Every guard the lifecycle relies on is checked here, concurrent callers included, so
 * the two cannot drift. Each test gets a fresh database (a fresh table for DynamoDB) and a clock of its own.
 */
import { PutItemCommand, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SqliteConnectionStore } from '../../local/sqlite/connections.js';
import { openDatabase, type Database } from '../../local/sqlite/database.js';
import { SqliteStore } from '../../local/sqlite/store.js';
import { ConflictError, ExperimentCancelledError, NotFoundError, TargetLeasedError, ValidationError } from '../../shared/errors.js';
import type { RollbackIntent } from '../../shared/faults/driver.js';
import { experimentSchema } from '../../shared/model/experiment.js';
import type { ExperimentRecord, JournalEvent, PhaseResult } from '../../shared/model/lifecycle.js';
import { DynamoDbConnectionStore } from '../../shared/store/dynamodb-connections.js';
import { DynamoDbStore } from '../../shared/store/dynamodb.js';
import { CorruptRecordError } from '../../shared/store/records.js';
import type { ResilienceScore } from '../../shared/analysis/score.js';
import { IDEMPOTENCY_TTL_S, type ExperimentStore } from '../../shared/store/store.js';
import { ALL_EXPERIMENTS, type ConnectionStore } from '../../shared/websocket/connections.js';
import { ensureTable, startDynalite, type LocalDynamo } from '../support/dynalite.js';

/** What a test reaches past the port for: corrupting a stored record as a hand edit would, and counting what is left. */
interface Backdoor {
  /** Gives a stored experiment's record a field value no version writes. */
  setRecordField(id: string, field: string, value: string): Promise<void>;
  /** Replaces a rollback entry with one that does not read. */
  breakRollbackEntry(id: string, seq: number): Promise<void>;
  /** How many stored rows (items) a connection still has: its record and its subscriptions. */
  connectionRows(connectionId: string): Promise<number>;
}

interface Opened {
  store: ExperimentStore;
  connections: ConnectionStore;
  backdoor: Backdoor;
  close(): Promise<void>;
}

interface Adapter {
  name: string;
  setUp?(): Promise<void>;
  tearDown?(): Promise<void>;
  open(clock: () => number): Promise<Opened>;
}

const sqlite: Adapter = {
  name: 'SQLite',
  async open(clock) {
    const db: Database = openDatabase();
    const store = new SqliteStore(db, clock);
    return {
      store,
      connections: new SqliteConnectionStore(db, clock, 60),
      backdoor: {
        async setRecordField(id, field, value) {
          db.prepare(`UPDATE experiments SET record = json_set(record, '$.${field}', ?) WHERE id = ?`).run(value, id);
        },
        async breakRollbackEntry(id, seq) {
          db.prepare('UPDATE rollback_entries SET entry = ? WHERE experiment_id = ? AND seq = ?').run('{"seq": "one"', id, seq);
        },
        async connectionRows(connectionId) {
          const count = (sql: string) => Number((db.prepare(sql).get(connectionId) as { n: number }).n);
          return count('SELECT count(*) AS n FROM connections WHERE connection_id = ?') + count('SELECT count(*) AS n FROM subscriptions WHERE connection_id = ?');
        },
      },
      async close() {
        store.close();
        db.close();
      },
    };
  },
};

let dynalite: LocalDynamo;
let tables = 0;
const dynamodb: Adapter = {
  name: 'DynamoDB (dynalite)',
  async setUp() {
    dynalite = await startDynalite(undefined, 'contract-0');
  },
  async tearDown() {
    await dynalite.close();
  },
  async open(clock) {
    const TableName = `contract-${++tables}`;
    await ensureTable(dynalite.client, TableName);
    const client = dynalite.client;
    return {
      store: new DynamoDbStore({ client, tableName: TableName, clock }),
      connections: new DynamoDbConnectionStore({ client, tableName: TableName, clock, ttlSeconds: 60 }),
      backdoor: {
        async setRecordField(id, field, value) {
          await client.send(
            new UpdateItemCommand({
              TableName,
              Key: { pk: { S: `EXP#${id}` }, sk: { S: 'META' } },
              UpdateExpression: 'SET #f = :v',
              ExpressionAttributeNames: { '#f': field },
              ExpressionAttributeValues: { ':v': { S: value } },
            }),
          );
        },
        async breakRollbackEntry(id, seq) {
          const sk = `RB#${String(seq).padStart(6, '0')}`;
          await client.send(new PutItemCommand({ TableName, Item: { pk: { S: `EXP#${id}` }, sk: { S: sk }, seq: { S: 'one' } } }));
        },
        async connectionRows(connectionId) {
          const { Items = [] } = await client.send(new ScanCommand({ TableName }));
          return Items.filter((item) => `${item.pk?.S}/${item.sk?.S}`.includes(`CONN#${connectionId}`)).length;
        },
      },
      async close() {},
    };
  },
};

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

const spec = (name = 'contract', chaosType: 'pod_delete' | 'cpu_stress' = 'pod_delete') =>
  experimentSchema.parse({ name, chaos_type: chaosType, target: { provider: 'memory', labels: { app: 'demo' } }, parameters: { duration_seconds: 5 } });

const intent = (target: string): RollbackIntent => ({
  provider: 'memory',
  action: 'restore',
  target: { provider: 'memory', id: target, labels: { app: 'demo' }, details: {} },
  params: { target },
  snapshot: { before: 'healthy' },
});

describe.each([sqlite, dynamodb])('the store on $name', (adapter) => {
  let now = T0;
  let opened: Opened;
  let store: ExperimentStore;
  let connections: ConnectionStore;

  /** An experiment record created `ageMs` after T0 (so listings have an order to keep). */
  const record = (id: string, ageMs = 0, fields: Partial<ExperimentRecord> = {}): ExperimentRecord => ({
    id,
    spec: spec(id),
    status: 'pending',
    createdAt: iso(T0 + ageMs),
    updatedAt: iso(T0 + ageMs),
    ...fields,
  });
  const create = async (id: string, ageMs = 0, fields: Partial<ExperimentRecord> = {}) => {
    const r = record(id, ageMs, fields);
    await store.createExperiment(r);
    return r;
  };

  beforeAll(async () => adapter.setUp?.());
  afterAll(async () => adapter.tearDown?.());
  beforeEach(async () => {
    now = T0;
    opened = await adapter.open(() => now);
    ({ store, connections } = opened);
  });
  afterEach(async () => opened.close());

  describe('experiments', () => {
    it('stores, reads back, and refuses a second experiment with the same id', async () => {
      const created = await create('exp-1');

      const again = await store.createExperiment(record('exp-1')).catch((e: unknown) => e);

      expect(await store.getExperiment('exp-1')).toEqual(created);
      expect(again).toBeInstanceOf(ConflictError);
      expect(await store.getExperiment('nope').catch((e: unknown) => e)).toBeInstanceOf(NotFoundError);
    });

    it('updates a running experiment (undefined fields left alone), never a finished one, and not one being rolled back when asked', async () => {
      await create('exp-1');
      now = T0 + 1000;

      const running = await store.updateExperiment('exp-1', { status: 'running', phase: 'STEADY_STATE', owner: 'me', reason: undefined });
      const guarded = await store.updateExperiment('exp-1', { phase: 'ROLLBACK' }, { unlessRollingBack: true });
      const refused = await store.updateExperiment('exp-1', { phase: 'OBSERVE' }, { unlessRollingBack: true }).catch((e: unknown) => e);
      const finished = await store.finishExperiment('exp-1', 'rolled_back', { reason: 'user_abort', deviated: false });
      const late = await store.updateExperiment('exp-1', { status: 'running' }).catch((e: unknown) => e);

      expect(running).toMatchObject({ status: 'running', phase: 'STEADY_STATE', owner: 'me', updatedAt: iso(T0 + 1000) });
      expect(running).not.toHaveProperty('reason');
      expect(guarded.phase).toBe('ROLLBACK');
      expect((refused as Error).message).toBe('experiment exp-1 is being rolled back');
      expect(finished).toMatchObject({ status: 'rolled_back', reason: 'user_abort', deviated: false, endedAt: iso(T0 + 1000) });
      expect(late).toBeInstanceOf(ConflictError);
      expect((late as Error).message).toBe('experiment exp-1 has already ended as rolled_back');
      expect((await store.getExperiment('exp-1')).status).toBe('rolled_back');
      expect(await store.updateExperiment('nope', { status: 'running' }).catch((e: unknown) => e)).toBeInstanceOf(Error);
    });

    it('lets exactly one of many concurrent finishers end an experiment', async () => {
      await create('exp-1', 0, { status: 'running' });

      const results = await Promise.allSettled(
        (['completed', 'failed', 'rolled_back', 'emergency_stopped', 'aborted'] as const).map((status) => store.finishExperiment('exp-1', status, {})),
      );

      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof ConflictError)).toBe(true);
      expect((await store.getExperiment('exp-1')).status).toBe((won[0] as PromiseFulfilledResult<ExperimentRecord>).value.status);
    });

    it('lists newest first (or oldest first), by status and by chaos type, a page at a time, each experiment once', async () => {
      for (let i = 0; i < 12; i++) {
        const r = record(`exp-${String(i).padStart(2, '0')}`, i * 1000, { status: i % 3 === 0 ? 'running' : i === 1 ? 'pending' : 'completed' });
        await store.createExperiment({ ...r, spec: spec(r.id, i % 2 === 0 ? 'pod_delete' : 'cpu_stress') });
      }
      // The status index follows updates.
      await store.updateExperiment('exp-01', { status: 'running' });

      const all = await pages((cursor) => store.listExperiments({ limit: 5, cursor }));
      const oldestFirst = await pages((cursor) => store.listExperiments({ limit: 4, cursor, newestFirst: false }));
      const running = await pages((cursor) => store.listByStatus('running', 2, cursor));
      const cpu = await pages((cursor) => store.listExperiments({ chaosType: 'cpu_stress', limit: 2, cursor }));
      const runningCpu = await pages((cursor) => store.listExperiments({ status: 'running', chaosType: 'cpu_stress', limit: 1, cursor }));

      const ids = (n: number[]) => n.map((i) => `exp-${String(i).padStart(2, '0')}`);
      expect(all).toEqual(ids([11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]));
      expect(oldestFirst).toEqual(ids([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
      expect(running).toEqual(ids([0, 1, 3, 6, 9]));
      expect(cpu).toEqual(ids([11, 9, 7, 5, 3, 1]));
      expect(runningCpu).toEqual(ids([9, 3, 1]));
    });

    it('refuses a cursor it did not hand out, or one of another status filter, naming the cursor', async () => {
      for (let i = 0; i < 3; i++) await create(`exp-${i}`, i, { status: 'running' });
      const { cursor } = await store.listByStatus('running', 1);

      const problems = await Promise.all(
        [
          store.listExperiments({ cursor: 'not-a-cursor' }),
          store.listExperiments({ cursor: Buffer.from('{"pk":1}').toString('base64url') }),
          store.listExperiments({ status: 'completed', cursor }),
          store.listExperiments({ cursor }),
        ].map((p) => p.catch((e: unknown) => e)),
      );

      expect(cursor).toBeDefined();
      for (const problem of problems) {
        expect(problem).toBeInstanceOf(ValidationError);
        expect((problem as ValidationError).issues).toEqual([{ field: 'cursor', message: expect.stringContaining('not a cursor returned by this API') }]);
      }
    });

    it('names a record that does not read by its key, and lists the others beside it', async () => {
      for (const id of ['one', 'two', 'three']) await create(id, id.length);
      await opened.backdoor.setRecordField('two', 'status', 'exploded');

      const read = await store.getExperiment('two').catch((e: unknown) => e);
      const page = await store.listExperiments({});

      expect(read).toBeInstanceOf(CorruptRecordError);
      expect((read as CorruptRecordError).key).toBe('EXP#two/META');
      expect(page.items.map((r) => r.id).sort()).toEqual(['one', 'three']);
      expect(page.corrupt?.map((e) => e.key)).toEqual(['EXP#two/META']);
    });
  });

  describe('phases, events and the journal', () => {
    const phase = (name: PhaseResult['phase'], status: PhaseResult['status'] = 'succeeded'): PhaseResult => ({
      phase: name,
      status,
      start: iso(T0),
      end: iso(T0 + 1),
      detail: { name },
    });
    const event = (type: JournalEvent['type'], ms: number, n: number): JournalEvent => ({ experimentId: 'exp-1', at: iso(T0 + ms), type, detail: { n } });

    it('keeps phase results in phase order (a phase written again replaces its result), events in time order, and the journal', async () => {
      await create('exp-1');

      await store.putPhaseResult('exp-1', phase('INJECT'));
      await store.writeRecords({ events: [event('phase.started', 5, 1), event('probe.result', 1, 2)], phase: { experimentId: 'exp-1', result: phase('STEADY_STATE') } });
      await store.appendEvents([event('phase.completed', 9, 3)]);
      await store.writeRecords({ phase: { experimentId: 'exp-1', result: phase('INJECT', 'failed') }, journal: { experimentId: 'exp-1', journal: { status: 'failed' } } });
      await store.putJournal('exp-1', { status: 'completed', run: [1, 2] });
      const bundle = await store.loadExperiment('exp-1');

      expect((await store.listPhaseResults('exp-1')).map((p) => `${p.phase}:${p.status}`)).toEqual(['STEADY_STATE:succeeded', 'INJECT:failed']);
      expect((await store.listEvents('exp-1')).map((e) => e.detail.n)).toEqual([2, 1, 3]);
      expect(await store.getJournal('exp-1')).toEqual({ status: 'completed', run: [1, 2] });
      expect(await store.getJournal('exp-2')).toBeUndefined();
      expect(bundle).toMatchObject({ record: { id: 'exp-1' }, journal: { status: 'completed' }, unreadable: [], stack: [] });
      expect(bundle.phases.map((p) => p.phase)).toEqual(['STEADY_STATE', 'INJECT']);
      expect(bundle.events.map((e) => e.detail.n)).toEqual([2, 1, 3]);
      expect(await store.loadExperiment('exp-2').catch((e: unknown) => e)).toBeInstanceOf(NotFoundError);
    });

    it('writes many events at once, all of them', async () => {
      await create('exp-1');
      const events = Array.from({ length: 60 }, (_, i) => event('probe.result', i, i));

      await store.writeRecords({ events });

      expect((await store.listEvents('exp-1')).map((e) => e.detail.n)).toEqual(events.map((e) => e.detail.n));
    });

    it('reads the injection gate: status, phase and the emergency stop together', async () => {
      await create('exp-1', 0, { status: 'running', phase: 'HYPOTHESIS' });

      const before = await store.injectionGate('exp-1');
      await store.setEmergencyStop(true, 'drill');
      const after = await store.injectionGate('exp-1');

      expect(before).toEqual({ status: 'running', phase: 'HYPOTHESIS', emergencyStop: { active: false } });
      expect(after.emergencyStop).toEqual({ active: true, since: iso(T0), reason: 'drill' });
      expect(await store.injectionGate('nope').catch((e: unknown) => e)).toBeInstanceOf(NotFoundError);
    });
  });

  describe('resilience scores', () => {
    const scoreOf = (id: string, minute: number, { target = 'kubernetes:shop/app=web', service = 'web', chaosType = 'pod_delete', score = 80 } = {}): ResilienceScore => ({
      experiment_id: id,
      score,
      components: { steady_state: 1, hypothesis: 1, recovery: 0.5, rollback: 1 },
      recovery: { measured_ms: 5000, expected_ms: 4000, source: 'fault' },
      explanation: ['steady state: held'],
      target,
      service,
      chaos_type: chaosType,
      status: 'completed',
      ended_at: iso(T0 + minute * 60_000),
    });

    it('stores a score with the journal, and reads it back by experiment', async () => {
      await create('exp-1');
      const score = scoreOf('exp-1', 1);

      await store.writeRecords({ journal: { experimentId: 'exp-1', journal: { status: 'completed' } }, score });

      expect(await store.getScore('exp-1')).toEqual(score);
      expect(await store.getScore('exp-2')).toBeUndefined();
    });

    it('lists scores in time order by target, service or chaos type, in a time window, a page at a time', async () => {
      const scores = [
        scoreOf('a', 5),
        scoreOf('b', 1, { chaosType: 'network_latency' }),
        scoreOf('c', 3, { target: 'kubernetes:shop/app=api', service: 'api' }),
        scoreOf('d', 2),
        scoreOf('e', 4, { target: 'kubernetes:shop/app=api', service: 'api', chaosType: 'network_latency' }),
      ];
      for (const score of scores) await store.writeRecords({ score });
      // Written again (a finish that ran twice): still one score.
      await store.writeRecords({ score: scoreOf('a', 5, { score: 70 }) });

      const ids = async (query: Parameters<ExperimentStore['listScores']>[0]) => {
        const found: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.listScores({ ...query, limit: 2, cursor });
          found.push(...page.items.map((s) => s.experiment_id));
          cursor = page.cursor;
        } while (cursor);
        return found;
      };

      expect(await ids({})).toEqual(['b', 'd', 'c', 'e', 'a']);
      expect(await ids({ target: 'kubernetes:shop/app=web' })).toEqual(['b', 'd', 'a']);
      expect(await ids({ service: 'api' })).toEqual(['c', 'e']);
      expect(await ids({ chaosType: 'network_latency' })).toEqual(['b', 'e']);
      expect(await ids({ target: 'kubernetes:shop/app=web', chaosType: 'pod_delete' })).toEqual(['d', 'a']);
      expect(await ids({ service: 'api', chaosType: 'network_latency' })).toEqual(['e']);
      expect(await ids({ since: iso(T0 + 2 * 60_000), until: iso(T0 + 4 * 60_000) })).toEqual(['d', 'c', 'e']);
      expect((await store.listScores({ target: 'kubernetes:shop/app=web' })).items.at(-1)?.score).toBe(70);
    });

    it('refuses a cursor of another filter, naming the cursor', async () => {
      for (const id of ['a', 'b', 'c']) await store.writeRecords({ score: scoreOf(id, id.charCodeAt(0)) });
      const { cursor } = await store.listScores({ limit: 1 });

      const problems = await Promise.all([store.listScores({ service: 'web', cursor }), store.listScores({ cursor: 'nonsense' })].map((p) => p.catch((e: unknown) => e)));

      expect(cursor).toBeDefined();
      for (const problem of problems) expect((problem as ValidationError).issues).toEqual([{ field: 'cursor', message: expect.stringContaining('the same filters') }]);
    });
  });

  describe('the rollback stack', () => {
    it('reserves sequence numbers atomically, even for concurrent injections, and adds their leases', async () => {
      await create('exp-1', 0, { status: 'running', phase: 'HYPOTHESIS' });

      const firsts = await Promise.all(Array.from({ length: 10 }, (_, i) => store.beginInjection('exp-1', [`memory:t${i}`], 3)));
      const declared = await store.reserveRollbackSeqs('exp-1', 2);

      expect([...firsts].sort((a, b) => a - b)).toEqual([1, 4, 7, 10, 13, 16, 19, 22, 25, 28]);
      expect(declared).toBe(31);
      const stored = await store.getExperiment('exp-1');
      expect(stored.phase).toBe('INJECT');
      expect([...(stored.leases ?? [])].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `memory:t${i}`).sort());
      expect(stored).not.toHaveProperty('rollbackSeq');
      expect(await store.reserveRollbackSeqs('nope', 1).catch((e: unknown) => e)).toBeInstanceOf(NotFoundError);
    });

    it('refuses to begin injecting into an experiment that ended, is being rolled back, or does not exist', async () => {
      await create('ended', 0, { status: 'running', phase: 'OBSERVE' });
      await store.finishExperiment('ended', 'aborted', {});
      await create('rolling-back', 0, { status: 'running', phase: 'ROLLBACK' });
      await create('pending');

      const refusals = await Promise.all(['ended', 'rolling-back', 'nope'].map((id) => store.beginInjection(id, ['memory:x'], 1).catch((e: unknown) => e)));

      for (const refusal of refusals) expect(refusal).toBeInstanceOf(ExperimentCancelledError);
      expect(await store.beginInjection('pending', [], 1)).toBe(1);
      expect((await store.getExperiment('rolling-back')).leases).toBeUndefined();
    });

    it('stacks entries newest first, refuses a number used twice, and settles each entry once', async () => {
      await create('exp-1', 0, { status: 'running', phase: 'HYPOTHESIS' });
      const first = await store.beginInjection('exp-1', [], 3);
      for (let seq = first; seq < first + 3; seq++) await store.pushRollback('exp-1', seq, intent(`t${seq}`));

      const twice = await store.pushRollback('exp-1', 2, intent('again')).catch((e: unknown) => e);
      const outcome = { activity: { type: 'action' as const, name: 'restore', provider: { type: 'memory' } }, status: 'succeeded' as const, start: iso(T0), end: iso(T0), duration: 0 };
      const settled = await Promise.all([store.settleRollback('exp-1', 3, 'done', outcome), store.settleRollback('exp-1', 3, 'failed')]);
      const skipped = await store.settleRollback('exp-1', 1, 'skipped');

      expect(twice).toBeInstanceOf(ConflictError);
      expect(settled.sort()).toEqual([false, true]);
      expect(skipped).toBe(true);
      const stack = await store.listRollback('exp-1');
      expect(stack.map((e) => [e.seq, e.state, e.target.id])).toEqual([
        [3, 'done', 't3'],
        [2, 'pending', 't2'],
        [1, 'skipped', 't1'],
      ]);
      expect(stack[0]).toEqual({ ...intent('t3'), seq: 3, state: 'done', createdAt: iso(T0), outcome });
      expect((await store.loadExperiment('exp-1')).stack).toEqual(stack);
    });

    it('keeps an entry that does not read in the stack, as a failed step naming it', async () => {
      await create('exp-1', 0, { status: 'running', phase: 'HYPOTHESIS' });
      await store.beginInjection('exp-1', [], 2);
      await store.pushRollback('exp-1', 1, intent('t1'));
      await store.pushRollback('exp-1', 2, intent('t2'));
      await opened.backdoor.breakRollbackEntry('exp-1', 1);

      const stack = await store.listRollback('exp-1');

      expect(stack.map((e) => [e.seq, e.state, e.action])).toEqual([
        [2, 'pending', 'restore'],
        [1, 'failed', 'unreadable_entry'],
      ]);
      expect(stack[1]?.target.id).toBe('EXP#exp-1/RB#000001');
      expect(stack[1]?.outcome?.exception?.[0]).toContain('stored item EXP#exp-1/RB#000001 is corrupt');
    });
  });

  describe('leases', () => {
    it('gives a target to one holder at a time, renews it for that holder, and names the holder to others', async () => {
      await store.acquireLease('memory:a', 'exp-1', T0 + 60_000);

      await store.acquireLease('memory:a', 'exp-1', T0 + 120_000);
      const taken = await store.acquireLease('memory:a', 'exp-2', T0 + 60_000).catch((e: unknown) => e);

      expect(taken).toBeInstanceOf(TargetLeasedError);
      expect((taken as Error).message).toBe('target memory:a is held by experiment exp-1');
      expect(await store.getLease('memory:a')).toEqual({ target: 'memory:a', holder: 'exp-1', expiresAt: T0 + 120_000 });
    });

    it('lets exactly one of many concurrent holders take a free target', async () => {
      const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => store.acquireLease('memory:a', `exp-${i}`, T0 + 60_000)));

      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof TargetLeasedError)).toBe(true);
    });

    it('lets a lease that expired be taken over, and lists only live leases', async () => {
      await store.acquireLease('memory:a', 'exp-1', T0 + 1000);
      await store.acquireLease('memory:b', 'exp-1', T0 + 60_000);
      now = T0 + 2000;

      const live = await store.liveLeases(['memory:a', 'memory:b', 'memory:c', 'memory:b']);
      await store.acquireLease('memory:a', 'exp-2', T0 + 60_000);

      expect([...live.keys()]).toEqual(['memory:b']);
      expect(live.get('memory:b')).toEqual({ target: 'memory:b', holder: 'exp-1', expiresAt: T0 + 60_000 });
      expect((await store.getLease('memory:a'))?.holder).toBe('exp-2');
      expect((await store.liveLeases([])).size).toBe(0);
    });

    it('releases a lease for its holder only; releasing twice is fine', async () => {
      await store.acquireLease('memory:a', 'exp-1', T0 + 60_000);

      await store.releaseLease('memory:a', 'exp-2');
      const kept = await store.getLease('memory:a');
      await store.releaseLease('memory:a', 'exp-1');
      await store.releaseLease('memory:a', 'exp-1');

      expect(kept?.holder).toBe('exp-1');
      expect(await store.getLease('memory:a')).toBeUndefined();
      await store.acquireLease('memory:a', 'exp-2', T0 + 60_000);
    });

    it('reads many leases at once (more than one batch)', async () => {
      const targets = Array.from({ length: 150 }, (_, i) => `memory:t${i}`);
      for (const target of targets) await store.acquireLease(target, 'exp-1', T0 + 60_000);

      const live = await store.liveLeases(targets);

      expect(live.size).toBe(150);
    });
  });

  describe('idempotency keys', () => {
    it('binds a key once; later binds get the first binding back; an expired binding is free again', async () => {
      const first = await store.bindIdempotencyKey('key-1', 'exp-1', 'hash-1');
      const replay = await store.bindIdempotencyKey('key-1', 'exp-2', 'hash-2');
      const got = await store.getIdempotencyBinding('key-1');
      now = T0 + (IDEMPOTENCY_TTL_S + 2) * 1000;
      const expired = await store.getIdempotencyBinding('key-1');
      const rebound = await store.bindIdempotencyKey('key-1', 'exp-3', 'hash-3');

      expect(first).toEqual({ experimentId: 'exp-1', requestHash: 'hash-1', fresh: true });
      expect(replay).toEqual({ experimentId: 'exp-1', requestHash: 'hash-1', fresh: false });
      expect(got).toEqual({ experimentId: 'exp-1', requestHash: 'hash-1' });
      expect(expired).toBeUndefined();
      expect(rebound).toEqual({ experimentId: 'exp-3', requestHash: 'hash-3', fresh: true });
      expect(await store.getIdempotencyBinding('key-2')).toBeUndefined();
    });

    it('binds a key to exactly one of many concurrent requests', async () => {
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.bindIdempotencyKey('key-1', `exp-${i}`, `hash-${i}`)));

      const fresh = results.filter((r) => r.fresh);
      expect(fresh).toHaveLength(1);
      expect(results.every((r) => r.experimentId === fresh[0]?.experimentId)).toBe(true);
    });
  });

  describe('the emergency stop', () => {
    it('is off until raised; raising it again keeps the first time and reason; lifting it clears them', async () => {
      const initially = await store.getEmergencyStop();
      const raised = await store.setEmergencyStop(true, 'first');
      now = T0 + 5000;
      const again = await store.setEmergencyStop(true, 'second');
      const lifted = await store.setEmergencyStop(false);
      const raisedAgain = await store.setEmergencyStop(true, 'third');

      expect(initially).toEqual({ active: false });
      expect(raised).toEqual({ active: true, since: iso(T0), reason: 'first' });
      expect(again).toEqual(raised);
      expect(lifted).toEqual({ active: false });
      expect(await store.getEmergencyStop()).toEqual(raisedAgain);
      expect(raisedAgain).toEqual({ active: true, since: iso(T0 + 5000), reason: 'third' });
    });
  });

  describe('WebSocket connections', () => {
    it('stores a connection with its subscriptions and its expiry', async () => {
      const record = await connections.connect('c1', ['exp-b', 'exp-a', 'exp-a']);

      expect(record).toEqual({ connectionId: 'c1', connectedAt: iso(T0), subscriptions: ['exp-a', 'exp-b'], expiresAt: T0 / 1000 + 60 });
      expect(await connections.get('c1')).toEqual(record);
      expect(await connections.get('c2')).toBeUndefined();
    });

    it('finds the subscribers of an experiment: those subscribed to it and those subscribed to all, each once', async () => {
      await connections.connect('only-a', ['exp-a']);
      await connections.connect('only-b', ['exp-b']);
      await connections.connect('everything', [ALL_EXPERIMENTS]);
      await connections.connect('a-and-all', ['exp-a', ALL_EXPERIMENTS]);

      const subscribers = await connections.subscribers('exp-a');

      const byId = new Map(subscribers.map((s) => [s.connectionId, [...s.topics].sort()]));
      expect([...byId.keys()].sort()).toEqual(['a-and-all', 'everything', 'only-a']);
      expect(byId.get('a-and-all')).toEqual([ALL_EXPERIMENTS, 'exp-a'].sort());
      expect((await connections.subscribers('exp-c')).map((s) => s.connectionId).sort()).toEqual(['a-and-all', 'everything']);
    });

    it('adds and removes subscriptions, keeping what it reports and what it finds in step', async () => {
      await connections.connect('c1', ['exp-a']);

      const afterAdd = await connections.addSubscription('c1', 'exp-b');
      const afterRepeat = await connections.addSubscription('c1', 'exp-b');
      const afterRemove = await connections.removeSubscription('c1', 'exp-a');
      const afterRemoveMissing = await connections.removeSubscription('c1', 'exp-a');
      const last = await connections.removeSubscription('c1', 'exp-b');

      expect(afterAdd).toEqual(['exp-a', 'exp-b']);
      expect(afterRepeat).toEqual(['exp-a', 'exp-b']);
      expect(afterRemove).toEqual(['exp-b']);
      expect(afterRemoveMissing).toEqual(['exp-b']);
      expect(last).toEqual([]);
      expect((await connections.get('c1'))?.subscriptions).toEqual([]);
      expect(await connections.subscribers('exp-b')).toEqual([]);
      expect(await opened.backdoor.connectionRows('c1')).toBe(1);
    });

    it('refuses to subscribe a connection it does not know, and stores nothing for it', async () => {
      const error = await connections.addSubscription('ghost', 'exp-a').catch((e: unknown) => e);

      expect(error).toBeInstanceOf(NotFoundError);
      expect(await opened.backdoor.connectionRows('ghost')).toBe(0);
    });

    it('deletes a connection with every subscription, leaving the others', async () => {
      await connections.connect('c1', ['exp-a', ALL_EXPERIMENTS, 'exp-b']);
      await connections.connect('c2', ['exp-b']);

      await connections.delete('c1', ['exp-b']);
      await connections.delete('c1');

      expect(await connections.get('c1')).toBeUndefined();
      expect(await opened.backdoor.connectionRows('c1')).toBe(0);
      expect((await connections.subscribers('exp-b')).map((s) => s.connectionId)).toEqual(['c2']);
    });
  });
});

/** Every id a listing returns, page after page until it hands out no cursor; fails on a repeated id. */
async function pages(list: (cursor?: string) => Promise<{ items: ExperimentRecord[]; cursor?: string }>): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const result = await list(cursor);
    ids.push(...result.items.map((r) => r.id));
    cursor = result.cursor;
    if (!cursor) break;
  }
  expect(new Set(ids).size).toBe(ids.length);
  return ids;
}
