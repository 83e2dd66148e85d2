/**
 * The dashboard's API client (dashboard/src/api.ts) against the local server over real HTTP: it learns every route
 * from GET /openapi.json (a refused token refused there), calls operations by their ids with path and query filled in,
 * and turns the API's errors into ApiErrors that keep its code, message and field list; a 401 after connecting is told
 * to the shell.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, connect, readHealth, urlOf, type Api } from '../../dashboard/src/api.js';
import { ANALYSIS_ROUTES } from '../../functions/analysis/routes.js';
import { API_ROUTES } from '../../functions/api/routes.js';
import { LocalRuntime } from '../../local/runtime.js';
import { startServer, type LocalServer } from '../../local/server.js';
import { MemoryDriver } from '../support/memory-driver.js';

const TOKEN = 'test-token-dashboard-api';

describe("the dashboard's API client", () => {
  let runtime: LocalRuntime;
  let server: LocalServer;
  let api: Api;
  const refusals: ApiError[] = [];

  beforeAll(async () => {
    runtime = await LocalRuntime.start({ drivers: [new MemoryDriver({ targets: 3, labels: { app: 'demo' } })] });
    server = await startServer({ runtime, token: TOKEN, port: 0 });
    api = await connect(TOKEN, { base: server.url, onUnauthorized: (error) => refusals.push(error) });
  });
  afterAll(async () => {
    await server?.close();
    await runtime?.stop();
  });

  it('refuses to connect with a token the server refuses, as a 401', async () => {
    const told: ApiError[] = [];

    const refused = await connect('not-the-token', { base: server.url, onUnauthorized: (error) => told.push(error) }).catch((error: unknown) => error);

    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    // Connecting is the caller's to handle: the shell's log-out is for a token refused later.
    expect(told).toEqual([]);
  });

  it('knows every route the server describes, by operation id', async () => {
    const described = Object.values(api.document.paths).flatMap((item) => Object.values(item).map((operation) => operation.operationId));

    for (const route of [...Object.values(API_ROUTES), ...Object.values(ANALYSIS_ROUTES)]) expect(described).toContain(route.operationId);
    expect(await api.call('health')).toMatchObject({ status: 'ok', emergency_stop: { active: false } });
    expect(await readHealth(server.url)).toMatchObject({ status: 'ok', runtime: 'local' });
  });

  it('fills in the path and the query, and answers the JSON', async () => {
    const { status, body } = await api.exchange<{ id: string }>('createExperiment', {
      body: { name: 'client', chaos_type: 'pod_delete', target: { provider: 'memory', labels: { app: 'demo' } }, parameters: { duration_seconds: 0 }, safety: { max_blast_radius: 1 } },
      headers: { 'Idempotency-Key': 'client-one' },
    });
    expect(status).toBe(202);

    const one = await api.call<{ id: string; name: string }>('getExperiment', { path: { id: body.id } });
    const page = await api.call<{ items: { id: string }[] }>('listExperiments', { query: { chaos_type: 'pod_delete', status: undefined, limit: 5, cursor: '' } });

    expect(one).toMatchObject({ id: body.id, name: 'client' });
    expect(page.items.map((item) => item.id)).toContain(body.id);
    expect(urlOf('/api/chaos/experiments/{id}', { path: { id: 'a/b c' }, query: { status: 'running', chaos_type: undefined, limit: 5 } })).toBe(
      '/api/chaos/experiments/a%2Fb%20c?status=running&limit=5',
    );
  });

  it("keeps the API's error: its status, code, message and each field it names", async () => {
    const notFound = await api.call('getExperiment', { path: { id: 'exp-nobody' } }).catch((error: unknown) => error);
    const invalid = await api.call('dryRun', { body: { name: 'bad', chaos_type: 'pod_delete', target: { provider: 'memory', labels: { app: 'demo' } }, parameters: { duration_seconds: 'long' } } }).catch((error: unknown) => error);

    expect(notFound).toMatchObject({ status: 404, code: 'NOT_FOUND', message: 'experiment exp-nobody not found', fields: [] });
    expect(invalid).toMatchObject({ status: 400, code: 'VALIDATION', fields: [{ field: 'parameters.duration_seconds', message: 'Invalid input: expected number, received string' }] });
    expect(refusals).toEqual([]);
  });

  it('tells the shell when the server refuses the token after connecting (a server restarted with a new one)', async () => {
    const other = await startServer({ runtime, token: 'first-token', port: 0 });
    const client = await connect('first-token', { base: other.url, onUnauthorized: (error) => refusals.push(error) });
    const { port } = new URL(other.url);
    await other.close();
    const restarted = await startServer({ runtime, token: 'second-token', port: Number(port) });
    try {
      const refused = await client.call('listExperiments').catch((error: unknown) => error);

      expect(refused).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
      expect(refusals).toEqual([refused]);
    } finally {
      await restarted.close();
    }
  });
});
