/**
 * The connection store against dynalite (the real DynamoDB API): connection records, subscriptions as a string set
 * with one index item each, lookups by experiment without a scan, and deletes that leave nothing behind.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynalite, type LocalDynamo } from '../../../local/dynamodb.js';
import { NotFoundError } from '../../../shared/errors.js';
import { ALL_EXPERIMENTS, ConnectionStore } from '../../../shared/websocket/connections.js';

const TABLE = 'connections-test';
const NOW = Date.parse('2026-03-01T10:00:00.000Z');
let dynamo: LocalDynamo;
let store: ConnectionStore;
let next = 0;
/** A fresh connection id per test, so tests share one table without seeing each other's connections. */
const newId = () => `conn-${++next}-${Date.now()}`;
const newExperiment = () => `exp-${++next}-${Date.now()}`;

beforeAll(async () => {
  dynamo = await startDynalite(undefined, TABLE);
  store = new ConnectionStore({ client: dynamo.client, tableName: TABLE, clock: () => NOW, ttlSeconds: 60 });
});
afterAll(async () => {
  await dynamo.close();
});

/** Every item stored for one connection: its record and its index items, as `pk / sk`. */
async function itemsOf(connectionId: string): Promise<string[]> {
  const { Items = [] } = await dynamo.client.send(new ScanCommand({ TableName: TABLE }));
  return Items.map((item) => `${item.pk?.S} / ${item.sk?.S}`)
    .filter((key) => key.includes(`CONN#${connectionId}`))
    .sort();
}

const ids = (subscribers: { connectionId: string }[]) => subscribers.map((s) => s.connectionId).sort();

describe('ConnectionStore', () => {
  it('stores a connection with its subscriptions, an index item per subscription, and a TTL', async () => {
    // Prepare
    const id = newId();
    const experiment = newExperiment();

    // Act
    const record = await store.connect(id, [experiment]);

    // Assess
    const expected = { connectionId: id, connectedAt: new Date(NOW).toISOString(), subscriptions: [experiment], expiresAt: NOW / 1000 + 60 };
    expect(record).toEqual(expected);
    expect(await store.get(id)).toEqual(expected);
    expect(await itemsOf(id)).toEqual([`CONN#${id} / META`, `SUB#${experiment} / CONN#${id}`]);
  });

  it('finds the subscribers of an experiment: those subscribed to it and those subscribed to all, each once', async () => {
    // Prepare
    const [a, b] = [newExperiment(), newExperiment()];
    const onlyA = newId();
    const onlyB = newId();
    const everything = newId();
    const aAndAll = newId();
    await store.connect(onlyA, [a]);
    await store.connect(onlyB, [b]);
    await store.connect(everything, [ALL_EXPERIMENTS]);
    await store.connect(aAndAll, [a, ALL_EXPERIMENTS]);

    // Act
    const subscribers = await store.subscribers(a);

    // Assess
    expect(ids(subscribers)).toEqual(expect.arrayContaining([onlyA, everything, aAndAll].sort()));
    expect(ids(subscribers)).not.toContain(onlyB);
    expect(subscribers.find((s) => s.connectionId === aAndAll)?.topics.sort()).toEqual([ALL_EXPERIMENTS, a].sort());
    expect(ids(await store.subscribers(newExperiment()))).not.toContain(onlyA);
  });

  it('adds and removes subscriptions, keeping the record and the index in step', async () => {
    // Prepare
    const id = newId();
    const [a, b] = [newExperiment(), newExperiment()];
    await store.connect(id, [a]);

    // Act
    const afterAdd = await store.addSubscription(id, b);
    const afterRepeat = await store.addSubscription(id, b);
    const afterRemove = await store.removeSubscription(id, a);
    const afterRemoveMissing = await store.removeSubscription(id, a);

    // Assess
    expect(afterAdd).toEqual([a, b].sort());
    expect(afterRepeat).toEqual([a, b].sort());
    expect(afterRemove).toEqual([b]);
    expect(afterRemoveMissing).toEqual([b]);
    expect(ids(await store.subscribers(a))).not.toContain(id);
    expect(ids(await store.subscribers(b))).toContain(id);
    expect(await itemsOf(id)).toEqual([`CONN#${id} / META`, `SUB#${b} / CONN#${id}`]);
  });

  it('keeps a connection whose last subscription is removed, subscribed to nothing', async () => {
    // Prepare
    const id = newId();
    const a = newExperiment();
    await store.connect(id, [a]);

    // Act
    const left = await store.removeSubscription(id, a);

    // Assess
    expect(left).toEqual([]);
    expect((await store.get(id))?.subscriptions).toEqual([]);
    expect(await itemsOf(id)).toEqual([`CONN#${id} / META`]);
  });

  it('refuses to subscribe a connection it does not know, and stores nothing for it', async () => {
    // Prepare
    const id = newId();

    // Act
    const error = await store.addSubscription(id, newExperiment()).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(NotFoundError);
    expect(await itemsOf(id)).toEqual([]);
  });

  it('deletes a connection with all its index items, including ones its record does not list', async () => {
    // Prepare: an index item the record no longer lists, as a subscribe racing a disconnect can leave.
    const id = newId();
    const other = `other-${newId()}`;
    const [a, leaked] = [newExperiment(), newExperiment()];
    await store.connect(id, [a, ALL_EXPERIMENTS, leaked]);
    await store.connect(id, [a, ALL_EXPERIMENTS]);
    await store.connect(other, [leaked]);
    expect(await itemsOf(id)).toContain(`SUB#${leaked} / CONN#${id}`);

    // Act
    await store.delete(id, [leaked]);

    // Assess
    expect(await store.get(id)).toBeUndefined();
    expect(await itemsOf(id)).toEqual([]);
    const remaining = ids(await store.subscribers(leaked));
    expect(remaining).toContain(other);
    expect(remaining).not.toContain(id);
  });
});
