/**
 * The connections port (`shared/websocket/connections.ts`) on SQLite, for the embedded runtime's WebSocket gateway: a
 * connection row and one row per subscription, written and deleted together in one transaction, so no subscription
 * outlives its connection. Expired rows count as absent and are deleted by the store's purge.
 */
import { NotFoundError } from '../../shared/errors.js';
import { ALL_EXPERIMENTS, CONNECTION_TTL_SECONDS, type ConnectionRecord, type ConnectionStore, type Subscriber } from '../../shared/websocket/connections.js';
import { Statements, transaction, type Database } from './database.js';

export class SqliteConnectionStore implements ConnectionStore {
  private readonly sql: Statements;

  constructor(
    private readonly db: Database,
    private readonly clock: () => number = Date.now,
    private readonly ttlSeconds = CONNECTION_TTL_SECONDS,
  ) {
    this.sql = new Statements(db);
  }

  async connect(connectionId: string, topics: readonly string[]): Promise<ConnectionRecord> {
    const now = this.clock();
    const record: ConnectionRecord = {
      connectionId,
      connectedAt: new Date(now).toISOString(),
      subscriptions: [...new Set(topics)].sort(),
      expiresAt: Math.ceil(now / 1000) + this.ttlSeconds,
    };
    transaction(this.db, () => {
      this.sql.get('DELETE FROM subscriptions WHERE connection_id = ?').run(connectionId);
      this.sql
        .get('INSERT INTO connections (connection_id, connected_at, expires_at) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET connected_at = excluded.connected_at, expires_at = excluded.expires_at')
        .run(connectionId, record.connectedAt, record.expiresAt);
      for (const topic of record.subscriptions) this.subscribe(connectionId, topic, record.expiresAt);
    });
    return record;
  }

  async get(connectionId: string): Promise<ConnectionRecord | undefined> {
    const row = this.sql.get('SELECT connected_at, expires_at FROM connections WHERE connection_id = ? AND expires_at >= ?').get(connectionId, this.nowS());
    if (!row) return undefined;
    return { connectionId, connectedAt: String(row.connected_at), subscriptions: this.topicsOf(connectionId), expiresAt: Number(row.expires_at) };
  }

  async addSubscription(connectionId: string, topic: string): Promise<string[]> {
    return transaction(this.db, () => {
      const expiresAt = this.expiryOf(connectionId);
      this.subscribe(connectionId, topic, expiresAt);
      return this.topicsOf(connectionId);
    });
  }

  async removeSubscription(connectionId: string, topic: string): Promise<string[]> {
    return transaction(this.db, () => {
      this.expiryOf(connectionId);
      this.sql.get('DELETE FROM subscriptions WHERE connection_id = ? AND topic = ?').run(connectionId, topic);
      return this.topicsOf(connectionId);
    });
  }

  async delete(connectionId: string): Promise<void> {
    transaction(this.db, () => {
      this.sql.get('DELETE FROM subscriptions WHERE connection_id = ?').run(connectionId);
      this.sql.get('DELETE FROM connections WHERE connection_id = ?').run(connectionId);
    });
  }

  async subscribers(experimentId: string): Promise<Subscriber[]> {
    const rows = this.sql
      .get('SELECT connection_id, topic FROM subscriptions WHERE topic IN (?, ?) AND expires_at >= ? ORDER BY connection_id, topic')
      .all(experimentId, ALL_EXPERIMENTS, this.nowS());
    const found = new Map<string, string[]>();
    for (const row of rows) found.set(String(row.connection_id), [...(found.get(String(row.connection_id)) ?? []), String(row.topic)]);
    return [...found].map(([connectionId, topics]) => ({ connectionId, topics }));
  }

  private nowS(): number {
    return Math.floor(this.clock() / 1000);
  }

  /** The connection's expiry, or `NotFoundError` when it is not (or no longer) connected. */
  private expiryOf(connectionId: string): number {
    const row = this.sql.get('SELECT expires_at FROM connections WHERE connection_id = ? AND expires_at >= ?').get(connectionId, this.nowS());
    if (!row) throw new NotFoundError(`connection ${connectionId} not found`);
    return Number(row.expires_at);
  }

  private subscribe(connectionId: string, topic: string, expiresAt: number): void {
    this.sql.get('INSERT INTO subscriptions (topic, connection_id, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(topic, connectionId, expiresAt);
  }

  private topicsOf(connectionId: string): string[] {
    return this.sql
      .get('SELECT topic FROM subscriptions WHERE connection_id = ? ORDER BY topic')
      .all(connectionId)
      .map((row) => String(row.topic));
  }
}
