/**
 * The WebSocket connections port: who is connected and what each follows. Two adapters with one contract
 * (test/integration/store-contract.test.ts): DynamoDB in AWS (`shared/store/dynamodb-connections.ts`) and SQLite in
 * the embedded runtime (`local/sqlite/connections.ts`).
 *
 * A topic is an experiment id, or `*` for every experiment. A connection expires (`expiresAt`, epoch seconds) a while
 * after API Gateway would have closed it, so what a lost $disconnect left behind goes away by itself.
 */

/** The topic of a subscription to every experiment. */
export const ALL_EXPERIMENTS = '*';

/** API Gateway closes a WebSocket connection after two hours at most; the TTL leaves a margin past that. */
export const CONNECTION_TTL_SECONDS = 3 * 3600;

export interface ConnectionRecord {
  connectionId: string;
  connectedAt: string;
  /** Experiment ids, or `*` for all; sorted. Empty: the connection receives nothing until it subscribes. */
  subscriptions: string[];
  expiresAt: number;
}

/** A connection to deliver an event to, with the subscriptions it was found through. */
export interface Subscriber {
  connectionId: string;
  topics: string[];
}

export interface ConnectionStore {
  connect(connectionId: string, topics: readonly string[]): Promise<ConnectionRecord>;
  get(connectionId: string): Promise<ConnectionRecord | undefined>;
  /** Adds a subscription; returns the connection's subscriptions after it. Throws NotFoundError for an unknown connection. */
  addSubscription(connectionId: string, topic: string): Promise<string[]>;
  /** Removes a subscription (removing one it does not have is fine); returns the subscriptions left. */
  removeSubscription(connectionId: string, topic: string): Promise<string[]>;
  /**
   * Deletes a connection and what indexes it. `alsoTopics` names subscriptions known to exist that the connection's
   * record may not list (a broadcast passes the ones it found a gone connection through), so none is left behind.
   */
  delete(connectionId: string, alsoTopics?: readonly string[]): Promise<void>;
  /** The connections subscribed to an experiment, directly or to all experiments; each once. */
  subscribers(experimentId: string): Promise<Subscriber[]>;
}
