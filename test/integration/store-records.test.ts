/**
 * The store checks what it reads back. Records are corrupted here by writing them straight to the embedded runtime's
 * database, as a person editing it by hand or another version might: a corrupt record is an error naming its key, a listing still serves
 * the rest, and a corrupt rollback entry fails its own step (the experiment ends `failed`, its leases kept) while the
 * other steps still run. Batch retries are bounded.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HttpResponse } from '@smithy/protocol-http';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime.js';
import { startServer, type LocalServer } from '../../local/server.js';
import { CorruptRecordError } from '../../shared/store/records.js';
import { DynamoDbStore } from '../../shared/store/dynamodb.js';
import { MemoryDriver } from '../support/memory-driver.js';

let runtime: LocalRuntime | undefined;
let server: LocalServer | undefined;

afterEach(async () => {
  await server?.close();
  await runtime?.stop();
  server = undefined;
  runtime = undefined;
});

const experiment = (name: string, fields: Record<string, unknown> = {}) => ({
  name,
  chaos_type: 'pod_delete',
  target: { provider: 'memory', labels: { app: 'demo' }, selection: 'ALL' },
  parameters: { duration_seconds: 0 },
  safety: { max_blast_radius: 1 },
  ...fields,
});

describe('reading records back', () => {
  it('names a corrupt experiment by its key; listings serve the others and report it; the API says which', async () => {
    // Arrange: three experiments, one of them then given a status no version writes.
    const driver = new MemoryDriver({ targets: 3 });
    runtime = await LocalRuntime.start({ drivers: [driver] });
    const ids = [];
    for (const name of ['one', 'two', 'three']) ids.push((await runtime.run(experiment(name))).id);
    runtime.store.db.prepare(`UPDATE experiments SET record = json_set(record, '$.status', 'exploded') WHERE id = ?`).run(ids[1] as string);
    server = await startServer({ runtime, token: 't', port: 0 });

    // Act
    const read = await runtime.store.getExperiment(ids[1] as string).catch((error: unknown) => error);
    const page = await runtime.store.listExperiments({});
    const listed = (await (await fetch(`${server.url}/api/chaos/experiments`, { headers: { authorization: 'Bearer t' } })).json()) as { items: unknown[]; corrupt: unknown };
    const got = await fetch(`${server.url}/api/chaos/experiments/${ids[1]}`, { headers: { authorization: 'Bearer t' } });

    // Assess
    expect(read).toBeInstanceOf(CorruptRecordError);
    expect((read as Error).message).toContain(`stored item EXP#${ids[1]}/META is corrupt (status:`);
    expect(page.items.map((r) => r.spec.name).sort()).toEqual(['one', 'three']);
    expect(page.corrupt?.map((e) => e.key)).toEqual([`EXP#${ids[1]}/META`]);
    expect(listed.items).toHaveLength(2);
    expect(listed.corrupt).toEqual([{ key: `EXP#${ids[1]}/META`, message: expect.stringContaining('is corrupt') }]);
    expect(got.status).toBe(500);
    expect(await got.json()).toMatchObject({ error: { code: 'CORRUPT_RECORD', message: expect.stringContaining(`EXP#${ids[1]}/META`) } });
  });

  it('a corrupt rollback entry fails its own step: the others still run, the run ends failed naming it, its leases stay', async () => {
    // Arrange: two faults in place, observed for long enough to corrupt the first entry under the run.
    const driver = new MemoryDriver({ targets: 2 });
    runtime = await LocalRuntime.start({ drivers: [driver] });
    runtime.deps.random = () => 0.999_999;
    const injected = new Promise<void>((resolve) => {
      const off = runtime!.bus.subscribe({ type: ['phase.completed'] }, (event) => {
        if (event.phase === 'INJECT') {
          off();
          resolve();
        }
      });
    });
    const { id } = await runtime.submit(experiment('corrupt-stack', { parameters: { duration_seconds: 60 }, safety: { max_blast_radius: 1, timeout_seconds: 120 } }));
    await injected;
    runtime.store.db.prepare(`UPDATE rollback_entries SET entry = '{"seq": "one"}' WHERE experiment_id = ? AND seq = 1`).run(id);

    // Act
    const record = await runtime.abort(id, 'manual_rollback');

    // Assess: the readable step ran; the unreadable one is named as failed; no lease was given back.
    expect(record).toMatchObject({ status: 'failed', reason: 'rollback_step_failed' });
    expect(driver.calls.filter((c) => c.op === 'revert').map((c) => c.target)).toEqual(['replica-2']);
    const journal = (await runtime.journal(id)) as { chaosduck: { failed_rollbacks: { target: string; error: string }[] } };
    expect(journal.chaosduck.failed_rollbacks).toEqual([
      expect.objectContaining({ seq: 1, target: `EXP#${id}/RB#000001`, error: expect.stringContaining('is corrupt') }),
    ]);
    expect((await runtime.store.getLease('memory:replica-1'))?.holder).toBe(id);
    expect((await runtime.store.getLease('memory:replica-2'))?.holder).toBe(id);
  });
});

describe('experiments stored under older, looser bounds', () => {
  it('are listed as active, and roll back, though their spec no longer passes today\'s limits', async () => {
    // Arrange: a fault in place, then the stored spec given 65 labels (more than a spec may have today).
    const driver = new MemoryDriver({ targets: 1 });
    runtime = await LocalRuntime.start({ drivers: [driver] });
    const injected = new Promise<void>((resolve) => runtime!.bus.subscribe({ type: ['phase.completed'] }, (e) => e.phase === 'INJECT' && resolve()));
    const { id } = await runtime.submit(experiment('older-bounds', { parameters: { duration_seconds: 60 }, safety: { max_blast_radius: 1, timeout_seconds: 120 } }));
    await injected;
    const labels = Object.fromEntries([['app', 'demo'], ...Array.from({ length: 64 }, (_, i) => [`k${i}`, 'v'])]);
    runtime.store.db.prepare(`UPDATE experiments SET record = json_set(record, '$.spec.target.labels', json(?)) WHERE id = ?`).run(JSON.stringify(labels), id);

    // Act
    const active = await runtime.store.listByStatus('running');
    const record = await runtime.abort(id, 'manual_rollback');

    // Assess
    expect(active.items.map((r) => r.id)).toEqual([id]);
    expect(record).toMatchObject({ status: 'rolled_back' });
    expect(driver.faulted()).toEqual([]);
  });
});

describe('batch writes to DynamoDB', () => {
  it('give up after a bounded number of attempts when DynamoDB keeps leaving items unprocessed, and stop at once on abort', async () => {
    // A real SDK client whose HTTP handler plays a DynamoDB that never processes anything: every BatchWriteItem hands
    // all its items back as unprocessed.
    let calls = 0;
    const client = new DynamoDBClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      requestHandler: {
        handle: async (request: { body: string | Uint8Array }) => {
          calls++;
          const { RequestItems } = JSON.parse(typeof request.body === 'string' ? request.body : new TextDecoder().decode(request.body)) as { RequestItems: unknown };
          const body = Readable.from([Buffer.from(JSON.stringify({ UnprocessedItems: RequestItems }))]);
          return { response: new HttpResponse({ statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body }) };
        },
      } as never,
    });
    const store = new DynamoDbStore({ client, tableName: 't' });
    const events = [{ experimentId: 'exp-1', at: new Date().toISOString(), type: 'probe.result' as const, detail: {} }];

    const gaveUp = await store.writeRecords({ events }).catch((error: unknown) => error);
    const attempts = calls;
    calls = 0;
    const aborted = await store.writeRecords({ events }, AbortSignal.timeout(50)).catch((error: unknown) => error);

    expect((gaveUp as Error).message).toBe('DynamoDB left 1 item(s) unprocessed after 8 attempts');
    expect(attempts).toBe(8);
    expect((aborted as Error).name).toMatch(/AbortError|TimeoutError/);
    expect(calls).toBeLessThan(8);
  });
});
