/**
 * Live progress over WebSockets, end to end: real `ws` clients over real HTTP on loopback, the local gateway running
 * the ws-* handlers, the embedded runtime (SQLite in memory, the real state machines) and the in-memory fault
 * driver.
 *
 * Determinism: an experiment's id is known only once it is submitted, so each experiment is held at its `Begin` task
 * until its watchers are connected — it publishes nothing before that. "Nothing else arrives" is checked behind a
 * barrier: a request answered on the same connection, which the gateway sends after anything sent before it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { LocalRuntime } from '../../local/runtime.js';
import { attachWebSocketGateway, type WebSocketGateway } from '../../local/ws-gateway.js';
import type { JournalEvent } from '../../shared/model/lifecycle.js';
import { httpProbe, memoryExperiment, startHealthServer, tapExecutions } from '../statemachines/support.js';
import { MemoryDriver } from '../support/memory-driver.js';

const TOKEN = 'test-token';
const AUTHORIZED = { authorization: `Bearer ${TOKEN}` };

type Message = Record<string, unknown> & { type: string };

interface TestClient {
  socket: WebSocket;
  received: Message[];
  /** Everything received from index `from` up to and including the first message there that matches. */
  until(matches: (message: Message) => boolean, from?: number): Promise<Message[]>;
  /** Sends a message and returns the gateway's answer to it (an acknowledgement or an error). */
  request(message: unknown): Promise<Message>;
}

let runtime: LocalRuntime;
let server: Server;
let gateway: WebSocketGateway | undefined;
let url: string;
const clients: WebSocket[] = [];

beforeEach(async () => {
  runtime = await LocalRuntime.start({ drivers: [new MemoryDriver({ labelsOf: (index) => ({ slot: String(index) }) })] });
  server = createServer((_req, res) => res.writeHead(404).end());
  gateway = attachWebSocketGateway(server, { runtime, authenticate: (request) => request.headers.authorization === `Bearer ${TOKEN}` });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`;
});
afterEach(async () => {
  for (const socket of clients.splice(0)) socket.terminate();
  await gateway?.close();
  gateway = undefined;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  vi.restoreAllMocks();
  await runtime.stop();
});

async function connect(query = '', headers: Record<string, string> = AUTHORIZED): Promise<TestClient> {
  const socket = new WebSocket(`${url}${query}`, { headers });
  clients.push(socket);
  const received: Message[] = [];
  const waiters = new Set<() => void>();
  socket.on('message', (data) => {
    received.push(JSON.parse(String(data)) as Message);
    for (const wake of waiters) wake();
  });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const until = (matches: (message: Message) => boolean, from = 0) =>
    new Promise<Message[]>((resolve) => {
      const check = () => {
        const index = received.findIndex((message, i) => i >= from && matches(message));
        if (index < 0) return;
        waiters.delete(check);
        resolve(received.slice(from, index + 1));
      };
      waiters.add(check);
      check();
    });
  return {
    socket,
    received,
    until,
    async request(message) {
      const from = received.length;
      socket.send(typeof message === 'string' ? message : JSON.stringify(message));
      const answered = await until((m) => ['subscribed', 'unsubscribed', 'error'].includes(m.type), from);
      return answered.at(-1) as Message;
    },
  };
}

/** Holds every experiment at its first task until `release()`: submitted, stored, but nothing published yet. */
function holdExperiments(): { release(): void } {
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  tapExecutions({ beforeTask: (state) => (state === 'Begin' ? held : undefined) });
  return { release };
}

/** A pod_delete experiment on the memory target in its own slot, so concurrent experiments never contend. */
const experimentIn = (slot: number) => ({
  ...memoryExperiment({ name: `ws-slot-${slot}` }),
  target: { provider: 'memory', labels: { app: 'demo', slot: String(slot) }, selection: 'COUNT(1)' },
});

/** Every event the bus publishes for one experiment, as JSON would carry it. */
function published(id: string): JournalEvent[] {
  const events: JournalEvent[] = [];
  runtime.bus.subscribe({ experimentId: [id] }, (event) => events.push(JSON.parse(JSON.stringify(event)) as JournalEvent));
  return events;
}

const isFinished = (id: string) => (message: Message) => message.type === 'experiment.finished' && message.experimentId === id;
const typesOf = (messages: readonly { type: string }[]) => messages.map((m) => m.type);

/** The stored connection rows and subscription rows, as `CONN#<id>` and `SUB#<topic> / CONN#<id>`. */
async function storedConnections(): Promise<string[]> {
  const rows = runtime.store.db
    .prepare("SELECT 'CONN#' || connection_id AS key FROM connections UNION ALL SELECT 'SUB#' || topic || ' / CONN#' || connection_id FROM subscriptions")
    .all();
  return rows.map((row) => String(row.key)).sort();
}

describe('WebSocket progress', () => {
  it('delivers an experiment’s progress events, all of them and in order, to a client connected with its id', async () => {
    // Prepare
    const service = await startHealthServer();
    const hold = holdExperiments();
    const { id } = await runtime.submit({ ...experimentIn(1), probes: [httpProbe('health', service.url('/health'), 'continuous')] });
    const sent = published(id);
    const client = await connect(`?experimentId=${id}`);

    // Act
    hold.release();
    const received = await client.until(isFinished(id));
    await service.close();

    // Assess: exactly what the lifecycle published, in the order it published it.
    expect(received).toEqual(sent);
    const types = typesOf(received);
    expect(types[0]).toBe('experiment.started');
    expect(types.at(-1)).toBe('experiment.finished');
    const first = (type: string) => types.indexOf(type);
    expect(first('probe.result')).toBeGreaterThan(0);
    expect(first('phase.completed')).toBeGreaterThan(first('probe.result'));
    expect(first('hypothesis.formed')).toBeGreaterThan(first('phase.completed'));
    expect(first('fault.planned')).toBeGreaterThan(first('hypothesis.formed'));
    expect(first('fault.applied')).toBeGreaterThan(first('fault.planned'));
    expect(first('rollback.step')).toBeGreaterThan(first('fault.applied'));
    expect(first('experiment.finished')).toBeGreaterThan(first('rollback.step'));
    expect(received.every((message) => message.experimentId === id)).toBe(true);
    const times = received.map((message) => Date.parse(String(message.at)));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(received.at(-1)).toMatchObject({ detail: { status: 'completed' } });
  });

  it('keeps a burst of one experiment’s events in order, however their deliveries race', async () => {
    // Prepare: events published all at once, as a task's emit publishes a batch; each delivery looks up subscribers.
    const client = await connect('?experimentId=exp-burst');
    const burst: JournalEvent[] = Array.from({ length: 40 }, (_, i) => ({
      experimentId: 'exp-burst',
      at: new Date(Date.UTC(2026, 2, 1, 10, 0, i)).toISOString(),
      type: 'probe.result',
      detail: { n: i },
    }));

    // Act
    await runtime.bus.publish(burst);
    const received = await client.until((message) => message.detail !== undefined && (message.detail as { n: number }).n === 39);

    // Assess
    expect(received.map((message) => (message.detail as { n: number }).n)).toEqual(burst.map((_, i) => i));
  });

  it('subscribes a connected client to an experiment, narrowing it from all experiments to that one', async () => {
    // Prepare
    const hold = holdExperiments();
    const { id } = await runtime.submit(experimentIn(1));
    const { id: other } = await runtime.submit(experimentIn(2));
    const client = await connect();
    const watchingOther = await connect(`?experimentId=${other}`);

    // Act
    const ack = await client.request({ action: 'subscribe', experimentId: id });
    const from = client.received.length;
    hold.release();
    const received = await client.until(isFinished(id), from);
    await watchingOther.until(isFinished(other));
    // The barrier: answered after anything the gateway sent this client before.
    const unsubscribed = await client.request({ action: 'unsubscribe', experimentId: id });

    // Assess
    expect(ack).toEqual({ type: 'subscribed', experimentId: id, subscriptions: [id] });
    expect(typesOf(received)[0]).toBe('experiment.started');
    expect(client.received.filter((m) => m.experimentId === other)).toEqual([]);
    expect(unsubscribed).toEqual({ type: 'unsubscribed', experimentId: id, subscriptions: [] });
  });

  it('sends a client subscribed to experiment A nothing of experiment B, and each its own', async () => {
    // Prepare
    const hold = holdExperiments();
    const { id: a } = await runtime.submit(experimentIn(1));
    const { id: b } = await runtime.submit(experimentIn(2));
    const watchingA = await connect(`?experimentId=${a}`);
    const watchingB = await connect(`?experimentId=${b}`);

    // Act
    hold.release();
    const [ofA, ofB] = await Promise.all([watchingA.until(isFinished(a)), watchingB.until(isFinished(b))]);
    // The barrier: answered after anything the gateway sent these clients before.
    await Promise.all([watchingA.request({ action: 'unsubscribe', experimentId: a }), watchingB.request({ action: 'unsubscribe', experimentId: b })]);

    // Assess
    expect(typesOf(ofA)[0]).toBe('experiment.started');
    expect(typesOf(ofB)[0]).toBe('experiment.started');
    expect(watchingA.received.filter((m) => m.experimentId === b)).toEqual([]);
    expect(watchingB.received.filter((m) => m.experimentId === a)).toEqual([]);
    expect(watchingA.received.filter((m) => m.experimentId === a && m.type.includes('.'))).toEqual(ofA);
  });

  it('refuses an unauthenticated connection with 401 and stores nothing', async () => {
    // Act
    const refused = connect('', {});

    // Assess
    await expect(refused).rejects.toThrow('Unexpected server response: 401');
    expect(await storedConnections()).toEqual([]);
    // The same request with credentials is accepted and stored: the refusal was the authentication's.
    await connect();
    expect(await storedConnections()).toHaveLength(2);
  });

  it('refuses a connection asking for something that is not an experiment id with 400, storing nothing', async () => {
    // Act
    const refused = connect('?experimentId=EXP%23x%2Fy');

    // Assess
    await expect(refused).rejects.toThrow('Unexpected server response: 400');
    expect(await storedConnections()).toEqual([]);
  });

  it('answers an invalid message with an error naming the field, and keeps the connection working', async () => {
    // Prepare
    const client = await connect();

    // Act
    const wrongType = await client.request({ action: 'subscribe', experimentId: 42 });
    const missing = await client.request({ action: 'subscribe' });
    const badId = await client.request({ action: 'subscribe', experimentId: 'EXP#1' });
    const unknownAction = await client.request({ action: 'subscirbe', experimentId: 'exp-1' });
    const notJson = await client.request('subscribe me');
    const valid = await client.request({ action: 'subscribe', experimentId: 'exp-1' });

    // Assess
    const fields = (reply: Message) => (reply.issues as { field: string }[]).map((issue) => issue.field);
    for (const reply of [wrongType, missing, badId, unknownAction, notJson]) expect(reply).toMatchObject({ type: 'error', error: 'ValidationError' });
    expect(fields(wrongType)).toEqual(['experimentId']);
    expect(fields(missing)).toEqual(['experimentId']);
    expect(fields(badId)).toEqual(['experimentId']);
    expect(String(badId.message)).toContain('experimentId: must be an experiment id');
    expect(fields(unknownAction)).toEqual(['action']);
    expect(fields(notJson)).toEqual(['']);
    expect(valid).toEqual({ type: 'subscribed', experimentId: 'exp-1', subscriptions: ['exp-1'] });
  });

  it('removes a client that disconnects, deletes a gone connection at the next broadcast, and keeps delivering to the rest', async () => {
    // Prepare: one client leaves; a connection the store has but no socket backs (a lost $disconnect) stays behind.
    const leaving = await connect();
    const staying = await connect();
    expect(await storedConnections()).toHaveLength(4);
    leaving.socket.close();
    await vi.waitFor(async () => expect(await storedConnections()).toHaveLength(2));
    const connections = runtime.connections;
    await connections.connect('ghost', ['*']);

    // Act
    const { id } = await runtime.submit(experimentIn(1));
    const received = await staying.until(isFinished(id));

    // Assess
    expect(typesOf(received)[0]).toBe('experiment.started');
    expect(await connections.get('ghost')).toBeUndefined();
    const left = await storedConnections();
    expect(left).toHaveLength(2);
    expect(left.some((key) => key.includes('ghost'))).toBe(false);
  });

  it('closes every connection when the gateway closes, forgetting them', async () => {
    // Prepare
    const client = await connect();
    const closed = new Promise<number>((resolve) => client.socket.once('close', resolve));

    // Act
    await gateway?.close();
    gateway = undefined;

    // Assess
    expect(await closed).toBe(1001);
    expect(await storedConnections()).toEqual([]);
  });
});
