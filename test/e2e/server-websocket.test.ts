/**
 * The local server as a user meets it: create an experiment over REST and watch it over the WebSocket endpoint,
 * with the same bearer token; progress arrives in order and ends with the final status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LocalRuntime } from '../../local/runtime.js';
import { startServer, type LocalServer } from '../../local/server.js';
import { MemoryDriver } from '../support/memory-driver.js';

const TOKEN = 'ws-test-token';

describe('local server: REST + WebSocket progress', () => {
  let runtime: LocalRuntime;
  let server: LocalServer;

  beforeAll(async () => {
    runtime = await LocalRuntime.start({ drivers: [new MemoryDriver({ targets: 2 })] });
    server = await startServer({ runtime, token: TOKEN, port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await runtime?.stop();
  });

  const wsUrl = (query = '') => `${server.url.replace(/^http/, 'ws')}/ws${query}`;

  it('streams an experiment created over REST, in order, to a client subscribed after connecting', async () => {
    const socket = new WebSocket(wsUrl(), { headers: { authorization: `Bearer ${TOKEN}` } });
    const received: { type: string; at?: string; experimentId?: string; detail?: { status?: string } }[] = [];
    const finished = new Promise<void>((resolve) =>
      socket.on('message', (data) => {
        const message = JSON.parse(String(data));
        received.push(message);
        if (message.type === 'experiment.finished') resolve();
      }),
    );
    await new Promise((resolve) => socket.once('open', resolve));

    const response = await fetch(`${server.url}/api/chaos/experiments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'watched', chaos_type: 'pod_delete', target: { provider: 'memory', labels: { app: 'demo' } }, parameters: { duration_seconds: 0 }, safety: { max_blast_radius: 1 } }),
    });
    const { id } = (await response.json()) as { id: string };
    await finished;
    socket.close();

    const progress = received.filter((m) => m.experimentId === id);
    const types = progress.map((m) => m.type);
    expect(types[0]).toBe('experiment.started');
    expect(types.at(-1)).toBe('experiment.finished');
    for (const expected of ['phase.completed', 'hypothesis.formed', 'fault.planned', 'fault.applied', 'rollback.step']) expect(types).toContain(expected);
    expect(types.indexOf('fault.applied')).toBeLessThan(types.indexOf('rollback.step'));
    const times = progress.map((m) => Date.parse(m.at ?? ''));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(progress.at(-1)?.detail?.status).toBe('completed');
  });

  it('accepts the token as a query parameter (browsers cannot set headers) and refuses a connection without it', async () => {
    const withQuery = new WebSocket(wsUrl(`?token=${TOKEN}`));
    await new Promise((resolve, reject) => withQuery.once('open', resolve).once('error', reject));
    withQuery.close();

    const without = new WebSocket(wsUrl());
    const status = await new Promise<number | undefined>((resolve) => without.once('unexpected-response', (_req, res) => resolve(res.statusCode)).once('open', () => resolve(undefined)));

    expect(status).toBe(401);
  });
});
