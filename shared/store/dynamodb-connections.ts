/**
 * The connections port (`shared/websocket/connections.ts`) on DynamoDB, in the control plane's single table:
 *
 *   CONN#<connectionId> / META                 the connection: when it connected, its subscriptions (a string set)
 *   SUB#<topic>         / CONN#<connectionId>  one index item per subscription, so the subscribers of an experiment
 *                                              are one Query by key, never a Scan per event
 *
 * Every item carries `expiresAt` (epoch seconds) for DynamoDB's TTL. Writes are single-item: META is written before
 * its index items and deleted after them, so a concurrent disconnect can at worst leave an index item behind — which
 * the next broadcast finds gone and deletes, or the TTL removes.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { NotFoundError } from '../errors.js';
import { ALL_EXPERIMENTS, CONNECTION_TTL_SECONDS, type ConnectionRecord, type ConnectionStore, type Subscriber } from '../websocket/connections.js';
import { TTL_ATTRIBUTE } from './table.js';

export interface DynamoDbConnectionStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  clock?: () => number;
  ttlSeconds?: number;
}

const connKey = (connectionId: string) => `CONN#${connectionId}`;
const subKey = (topic: string) => `SUB#${topic}`;
const META = 'META';

export class DynamoDbConnectionStore implements ConnectionStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: () => number;
  private readonly ttlSeconds: number;

  constructor({ client, tableName, clock = Date.now, ttlSeconds = CONNECTION_TTL_SECONDS }: DynamoDbConnectionStoreOptions) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.tableName = tableName;
    this.clock = clock;
    this.ttlSeconds = ttlSeconds;
  }

  async connect(connectionId: string, topics: readonly string[]): Promise<ConnectionRecord> {
    const now = this.clock();
    const subscriptions = [...new Set(topics)].sort();
    const record: ConnectionRecord = {
      connectionId,
      connectedAt: new Date(now).toISOString(),
      subscriptions,
      expiresAt: Math.ceil(now / 1000) + this.ttlSeconds,
    };
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        // DynamoDB has no empty sets: a connection without subscriptions has no attribute.
        Item: {
          pk: connKey(connectionId),
          sk: META,
          connectionId,
          connectedAt: record.connectedAt,
          [TTL_ATTRIBUTE]: record.expiresAt,
          subscriptions: subscriptions.length > 0 ? new Set(subscriptions) : undefined,
        },
      }),
    );
    await Promise.all(subscriptions.map((topic) => this.putIndex(connectionId, topic, record.expiresAt)));
    return record;
  }

  async get(connectionId: string): Promise<ConnectionRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: connKey(connectionId), sk: META }, ConsistentRead: true }),
    );
    return Item ? toRecord(Item) : undefined;
  }

  async addSubscription(connectionId: string, topic: string): Promise<string[]> {
    const record = await this.updateSubscriptions(connectionId, 'ADD', topic);
    await this.putIndex(connectionId, topic, record.expiresAt);
    return record.subscriptions;
  }

  async removeSubscription(connectionId: string, topic: string): Promise<string[]> {
    const record = await this.updateSubscriptions(connectionId, 'DELETE', topic);
    await this.deleteIndex(connectionId, topic);
    return record.subscriptions;
  }

  async delete(connectionId: string, alsoTopics: readonly string[] = []): Promise<void> {
    const record = await this.get(connectionId);
    const topics = new Set([...(record?.subscriptions ?? []), ...alsoTopics]);
    await Promise.all([...topics].map((topic) => this.deleteIndex(connectionId, topic)));
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: connKey(connectionId), sk: META } }));
  }

  async subscribers(experimentId: string): Promise<Subscriber[]> {
    const found = new Map<string, string[]>();
    const topics = [...new Set([experimentId, ALL_EXPERIMENTS])];
    const pages = await Promise.all(topics.map(async (topic) => ({ topic, ids: await this.queryIndex(topic) })));
    for (const { topic, ids } of pages) {
      for (const id of ids) found.set(id, [...(found.get(id) ?? []), topic]);
    }
    return [...found].map(([connectionId, via]) => ({ connectionId, topics: via }));
  }

  private async updateSubscriptions(connectionId: string, operation: 'ADD' | 'DELETE', topic: string): Promise<ConnectionRecord> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: connKey(connectionId), sk: META },
          UpdateExpression: `${operation} subscriptions :topic`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':topic': new Set([topic]) },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toRecord(Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new NotFoundError(`connection ${connectionId} not found`);
      throw error;
    }
  }

  private async putIndex(connectionId: string, topic: string, expiresAt: number): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: subKey(topic), sk: connKey(connectionId), connectionId, [TTL_ATTRIBUTE]: expiresAt },
      }),
    );
  }

  private async deleteIndex(connectionId: string, topic: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: subKey(topic), sk: connKey(connectionId) } }));
  }

  private async queryIndex(topic: string): Promise<string[]> {
    const ids: string[] = [];
    let ExclusiveStartKey: QueryCommandInput['ExclusiveStartKey'];
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': subKey(topic) },
          ProjectionExpression: 'connectionId',
          ExclusiveStartKey,
        }),
      );
      ids.push(...(page.Items ?? []).map((item) => String(item.connectionId)));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return ids;
  }
}

function toRecord(item: Record<string, unknown>): ConnectionRecord {
  const subscriptions = item.subscriptions instanceof Set ? [...(item.subscriptions as Set<string>)].sort() : [];
  return {
    connectionId: String(item.connectionId),
    connectedAt: String(item.connectedAt),
    subscriptions,
    expiresAt: Number(item[TTL_ATTRIBUTE]),
  };
}
