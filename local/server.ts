/**
 * The local gateway: what API Gateway is in AWS. One HTTP server serves the REST routes through the same API and
 * analysis functions as Lambda (requests turned into API Gateway proxy events) and the WebSocket endpoint; every route but
 * `GET /health` needs the bearer token, as every AWS route but /health needs IAM authorization.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { createHandler as createAnalysisHandler } from '../functions/analysis/handler.js';
import type { Analyst } from '../shared/analysis/analyst.js';
import { createHandler, type ApiHandler } from '../functions/api/handler.js';
import { restFunctionOf } from '../functions/rest.js';
import {
  DASHBOARD_CONFIG_PATH,
  isDashboardPath,
  loadDashboard,
  sendDashboardConfig,
  sendDashboardFile,
  type DashboardConfig,
  type DashboardFiles,
} from './dashboard.js';
import { LocalMetrics } from './metrics.js';
import { runtimeTopology, topologySources } from './topology.js';
import { bearerMatches } from './auth.js';
import { requestUrl } from './request-url.js';
import { attachWebSocketGateway } from './ws-gateway.js';
import type { LocalRuntime } from './runtime.js';
import type { Sandbox } from './sandbox/sandbox.js';

const MAX_BODY_BYTES = 1024 * 1024;

export interface ServerOptions {
  runtime: LocalRuntime;
  token: string;
  port?: number;
  host?: string;
  /** Who answers `/api/analysis/*`: the runtime's analyst unless given (Claude when `ANTHROPIC_API_KEY` is set). */
  analyst?: Analyst;
  /**
   * The sandbox, when it runs: the topology routes show its service and replicas, and the hypotheses about it check
   * that it answers at its address.
   */
  sandbox?: Sandbox;
  /** Where the token comes from, as `GET /dashboard.json` tells the page. @default serveTokenHint(token) */
  tokenHint?: string;
}

/** Where `serve`'s token comes from: CHAOSDUCK_TOKEN when it is that, else the one made at first start and kept. */
export function serveTokenHint(token: string, fromEnv = process.env.CHAOSDUCK_TOKEN): string {
  return fromEnv && fromEnv === token ? 'the token in CHAOSDUCK_TOKEN' : 'the token chaosduck serve printed (also in .chaosduck/token)';
}

export interface LocalServer {
  url: string;
  close(): Promise<void>;
}

export async function startServer({
  runtime,
  token,
  port = 8080,
  host = '127.0.0.1',
  analyst = runtime.analyst,
  sandbox,
  tokenHint = serveTokenHint(token),
}: ServerOptions): Promise<LocalServer> {
  const control = createHandler({ ...runtime.control, topology: topologySources(runtime, sandbox) });
  const analysis = createAnalysisHandler({
    store: runtime.store,
    analyst,
    dryRun: (experiment) => runtime.dryRun(experiment),
    // What this runtime can target: its topology sources, and the sandbox when it has one.
    topology: () => runtimeTopology(runtime, sandbox),
    runtime: 'local',
    guardrails: runtime.deps.guardrails,
  });
  // As in AWS (infra/chaosduck-stack.ts), where the analysis function's paths are integrated with it and every other
  // path with the API's: one list says which (functions/rest.ts).
  const api: ApiHandler = (event, context) => (restFunctionOf(event.path) === 'analysis' ? analysis : control)(event, context);
  const metrics = new LocalMetrics(runtime.bus);
  // Made when first asked for (from the sources, bundling takes a moment that servers never opened in a browser skip);
  // a failed attempt is tried again at the next request.
  let dashboard: Promise<DashboardFiles> | undefined;
  const dashboardFiles = () =>
    (dashboard ??= loadDashboard().catch((error: unknown) => {
      dashboard = undefined;
      throw error;
    }));
  // The WebSocket feed is this server's own (/ws), so live progress is always there.
  const config: DashboardConfig = { served_by: 'serve', token_hint: tokenHint, live_progress: { available: true } };
  const server = createServer((req, res) => {
    void serve(req, res, api, token, metrics, dashboardFiles, config).catch((error: unknown) => {
      console.error(error);
      if (!res.headersSent) send(res, 500, { error: { code: 'INTERNAL', message: 'internal error' } });
    });
  });
  // Node answers `Expect: 100-continue` by itself; a body that is announced too large is refused before it is sent.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (declaredLength(req) > MAX_BODY_BYTES) {
      tooLarge(req, res);
    } else {
      res.writeContinue();
      server.emit('request', req, res);
    }
  });
  const gateway = attachWebSocketGateway(server, {
    runtime,
    // Browsers cannot set headers on a WebSocket, so the token may also come as `?token=`.
    authenticate: (req) =>
      bearerMatches(req.headers.authorization, token) || bearerMatches(`Bearer ${requestUrl(req)?.searchParams.get('token') ?? ''}`, token),
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${bound}`,
    close: async () => {
      // The gateway first: its $disconnect handlers still need DynamoDB.
      await gateway.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  api: ApiHandler,
  token: string,
  metrics: LocalMetrics,
  dashboard: () => Promise<DashboardFiles>,
  config: DashboardConfig,
): Promise<void> {
  const url = requestUrl(req);
  if (!url) {
    send(res, 400, { error: { code: 'VALIDATION', message: 'the request target is not a valid URL path', fields: [{ field: 'path', message: 'not a valid URL path' }] } });
    return;
  }
  const method = req.method ?? 'GET';
  // The dashboard's page, assets and config need no token (local/dashboard.ts says why); every other path is the API's.
  if ((method === 'GET' || method === 'HEAD') && url.pathname === DASHBOARD_CONFIG_PATH) return sendDashboardConfig(res, method, config);
  if ((method === 'GET' || method === 'HEAD') && isDashboardPath(url.pathname) && sendDashboardFile(req, res, await dashboard(), url.pathname)) return;
  if (!(method === 'GET' && url.pathname === '/health') && !bearerMatches(req.headers.authorization, token)) {
    send(res, 401, { error: { code: 'UNAUTHORIZED', message: 'a valid bearer token is required (Authorization: Bearer <token>)' } }, { 'www-authenticate': 'Bearer' });
    return;
  }
  if (method === 'GET' && url.pathname === '/metrics') {
    const { contentType, body } = await metrics.exposition();
    res.writeHead(200, { 'content-type': contentType }).end(body);
    return;
  }
  if (declaredLength(req) > MAX_BODY_BYTES) {
    tooLarge(req, res);
    return;
  }
  const body = await readBody(req);
  if (body === undefined) {
    tooLarge(req, res);
    return;
  }
  const result = await api(proxyEvent(req, url, method, body), localContext());
  res.writeHead(result.statusCode, { ...(result.headers as Record<string, string>) });
  res.end(result.body);
}

function declaredLength(req: IncomingMessage): number {
  const length = Number(req.headers['content-length'] ?? 0);
  return Number.isFinite(length) ? length : 0;
}

/** How much of a refused body is still read (and dropped), so the client gets its 413 instead of a reset connection. */
const DRAIN_LIMIT_BYTES = 64 * MAX_BODY_BYTES;

/**
 * Answers 413 and closes the connection. A client that is still sending would see a reset instead of the answer if
 * the socket closed under it, so the rest of the body is read and dropped, up to a bound.
 */
function tooLarge(req: IncomingMessage, res: ServerResponse): void {
  send(
    res,
    413,
    { error: { code: 'PAYLOAD_TOO_LARGE', message: `request bodies are limited to ${MAX_BODY_BYTES} bytes`, fields: [{ field: 'body', message: `larger than ${MAX_BODY_BYTES} bytes` }] } },
    { connection: 'close' },
  );
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_LIMIT_BYTES) req.destroy();
  });
  req.on('error', () => undefined);
  req.resume();
}

/** The body as text, or undefined once it grows past the limit (the rest is left to `tooLarge`). */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.off('data', onData);
        req.pause();
        resolve(undefined);
      } else {
        chunks.push(chunk);
      }
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The request as API Gateway's REST proxy integration hands it to Lambda. */
function proxyEvent(req: IncomingMessage, url: URL, method: string, body: string): APIGatewayProxyEvent {
  // Maps, then own properties: a header or query parameter may be named `__proto__` or `constructor`, as it may in
  // the JSON event API Gateway sends.
  const headers = new Map<string, string[]>();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value : [value]);
  }
  const query = new Map<string, string[]>();
  for (const [name, value] of url.searchParams) query.set(name, [...(query.get(name) ?? []), value]);
  const hasQuery = query.size > 0;
  const single = (values: Map<string, string[]>, join: (v: string[]) => string) =>
    Object.fromEntries([...values].map(([name, v]) => [name, join(v)])) as Record<string, string>;
  const multi = (values: Map<string, string[]>) => Object.fromEntries(values) as Record<string, string[]>;
  return {
    httpMethod: method,
    path: url.pathname,
    resource: '/{proxy+}',
    // API Gateway keeps the last value of a repeated query parameter in the single-value map.
    headers: single(headers, (v) => v.join(',')),
    multiValueHeaders: multi(headers),
    queryStringParameters: hasQuery ? single(query, (v) => v.at(-1) as string) : null,
    multiValueQueryStringParameters: hasQuery ? multi(query) : null,
    pathParameters: null,
    stageVariables: null,
    body: body || null,
    isBase64Encoded: false,
    requestContext: {
      httpMethod: method,
      path: url.pathname,
      requestId: randomUUID(),
      stage: 'local',
      resourcePath: '/{proxy+}',
      requestTimeEpoch: Date.now(),
    } as APIGatewayProxyEvent['requestContext'],
  };
}

function localContext(): Context {
  return { functionName: 'chaosduck-api', awsRequestId: randomUUID(), callbackWaitsForEmptyEventLoop: false } as Context;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
