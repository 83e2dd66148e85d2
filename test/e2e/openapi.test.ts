/**
 * `GET /openapi.json` against the routers that answer: the document is valid OpenAPI 3.1; every documented operation
 * is called on a running local server, once as a client following the document would and once with bad input, and
 * each answer's status is one the document lists and its body matches the schema documented for that status; and
 * no method the document leaves out of a path is answered as a route.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime.js';
import { startServer, type LocalServer } from '../../local/server.js';
import { MemoryDriver } from '../support/memory-driver.js';

const TOKEN = 'openapi-token';
const METHODS = ['get', 'post', 'put', 'delete', 'patch'] as const;

interface Operation {
  operationId: string;
  parameters?: { in: string; name: string; required?: boolean }[];
  requestBody?: { required?: boolean };
  responses: Record<string, { content?: Record<string, unknown> }>;
}
type Document = { openapi: string; servers?: { url: string }[]; paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>> };

const experiment = (name: string, fields: Record<string, unknown> = {}) => ({
  name,
  chaos_type: 'pod_delete',
  target: { provider: 'memory', labels: { app: 'web' } },
  parameters: { duration_seconds: 0 },
  safety: { max_blast_radius: 1 },
  ...fields,
});

describe('GET /openapi.json', () => {
  let runtime: LocalRuntime;
  let server: LocalServer;
  let document: Document;
  let finished: string;
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.url}${path}`, {
      method: method.toUpperCase(),
      headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return { status: response.status, type, body: type.includes('json') ? (JSON.parse(text) as unknown) : text };
  };

  beforeAll(async () => {
    runtime = await LocalRuntime.start({ drivers: [new MemoryDriver({ targets: 3, labelsOf: () => ({ app: 'web' }) })] });
    server = await startServer({ runtime, token: TOKEN, port: 0 });
    finished = (await runtime.run(experiment('openapi-finished'))).id;
    document = (await call('get', '/openapi.json')).body as Document;
  });
  afterAll(async () => {
    await server?.close();
    await runtime?.stop();
  });

  /** A body valid against the schema documented for `status`, or the reasons it is not. */
  const schemaProblems = (() => {
    let ajv: Ajv2020 | undefined;
    return (path: string, method: string, status: number, type: string, body: unknown): string[] => {
      if (!ajv) {
        ajv = new Ajv2020({ strict: false, allErrors: true });
        addFormats.default(ajv);
        ajv.addSchema(document as object, 'openapi.json');
      }
      const media = Object.keys(document.paths[path]?.[method as 'get']?.responses[String(status)]?.content ?? {})[0];
      if (!media) return [`status ${status} is not documented`];
      if (!type.startsWith(media)) return [`content-type ${type}, documented ${media}`];
      const pointer = ['paths', path, method, 'responses', String(status), 'content', media, 'schema'].map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1'));
      const validate = ajv.getSchema(`openapi.json#/${pointer.join('/')}`);
      if (!validate) return ['no schema'];
      return validate(body) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message}`);
    };
  })();

  /** Every documented operation, with the request a client reading the document would send. */
  const valid = (): Record<string, { path?: string; query?: string; body?: unknown; headers?: Record<string, string> }> => ({
    health: {},
    openApi: {},
    metrics: {},
    dashboardConfig: {},
    createExperiment: { body: experiment('openapi-created'), headers: { 'idempotency-key': 'openapi-create-1' } },
    listExperiments: { query: '?limit=5&status=completed&chaos_type=pod_delete' },
    getExperiment: { path: finished },
    rollbackExperiment: { path: finished },
    dryRun: { body: experiment('openapi-dry-run') },
    awsTopology: { query: '?region=eu-west-1' },
    k8sTopology: {},
    combinedTopology: {},
    steadyState: { query: '?limit=5&namespace=default' },
    experimentReport: { path: finished },
    analyzeExperiment: { path: finished },
    hypotheses: { body: {} },
    generateExperiments: { body: { limit: 2 } },
    analysisReport: { body: { experiments: [finished] } },
    predict: { body: experiment('openapi-predict') },
    nlExperiment: { body: { prompt: 'delete one pod of app=web in namespace shop for 20 seconds' } },
    resilienceScore: { body: { experiments: [finished] } },
    resilienceTrend: { query: '?limit=10' },
    resilienceTrendSummary: {},
    // Raised last: while it is on, no experiment starts. Then lifted.
    raiseEmergencyStop: { body: { reason: 'openapi test' } },
    liftEmergencyStop: {},
  });

  const operations = () =>
    Object.entries(document.paths).flatMap(([path, item]) =>
      METHODS.filter((method) => item[method]).map((method) => ({ path, method, operation: item[method] as Operation })),
    );
  const order = (id: string) => Object.keys(valid()).indexOf(id);

  it('is a valid OpenAPI 3.1 document, served to a caller with the token only', async () => {
    expect((await fetch(`${server.url}/openapi.json`)).status).toBe(401);
    const result = await new Validator().validate(document as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe('3.1.0');
    // Where it was asked: a client resolves every path against it.
    expect(document.servers).toEqual([{ url: server.url }]);
  });

  it('answers each documented operation as documented, for a request that follows the document', async () => {
    const examples = valid();
    const all = operations().sort((a, b) => order(a.operation.operationId) - order(b.operation.operationId));
    // A route documented without an example here fails: each one is called.
    expect(all.map((o) => o.operation.operationId).filter((id) => !(id in examples))).toEqual([]);
    for (const { path, method, operation } of all) {
      const example = examples[operation.operationId] ?? {};
      const url = path.replace('{id}', encodeURIComponent(example.path ?? '')) + (example.query ?? '');
      const answer = await call(method, url, example.body, example.headers);
      expect.soft(answer.status, `${method} ${url}`).toBeLessThan(500);
      expect.soft(schemaProblems(path, method, answer.status, answer.type, answer.body), `${method} ${url} → ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`).toEqual([]);
    }
  });

  it('refuses bad input as documented: an unknown query parameter or body field, a missing body, an unknown experiment', async () => {
    for (const { path, method, operation } of operations()) {
      const takesQuery = (operation.parameters ?? []).some((p) => p.in === 'query');
      const bad: { url: string; body?: unknown; field?: string }[] = [];
      const base = path.replace('{id}', 'exp-00000000-0000-4000-8000-000000000000');
      if (takesQuery) bad.push({ url: `${base}?no_such_parameter=1`, field: 'no_such_parameter' });
      if (operation.requestBody?.required) bad.push({ url: base, field: 'body' });
      if (operation.requestBody) bad.push({ url: base, body: { no_such_field: 1 }, field: 'no_such_field' });
      if (path.includes('{id}')) bad.push({ url: base });
      for (const { url, body, field } of bad) {
        const answer = await call(method, url, body);
        const where = `${method} ${url} ${JSON.stringify(body) ?? ''} → ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`;
        expect.soft(answer.status, where).toBe(field ? 400 : 404);
        expect.soft(schemaProblems(path, method, answer.status, answer.type, answer.body), where).toEqual([]);
        if (field) expect.soft(JSON.stringify((answer.body as { error: { fields?: unknown } }).error.fields), where).toContain(field);
      }
    }
  });

  it('answers no method the document leaves out of a path', async () => {
    for (const [path, item] of Object.entries(document.paths)) {
      for (const method of METHODS.filter((m) => !item[m])) {
        const answer = await call(method, path.replace('{id}', finished), method === 'get' || method === 'delete' ? undefined : {});
        expect.soft([404, 405], `${method} ${path} → ${answer.status}`).toContain(answer.status);
      }
    }
  });
});
