/**
 * The local gateway: what API Gateway is in AWS. One HTTP server serves the REST routes through the same API
 * function as Lambda (requests turned into API Gateway proxy events) and the WebSocket endpoint; every route but
 * `GET /health` needs the bearer token, as every AWS route but /health needs IAM authorization.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { createHandler, type ApiHandler } from '../functions/api/handler.js';
import { bearerMatches } from './auth.js';
import { attachWebSocketGateway } from './ws-gateway.js';
import type { LocalRuntime } from './runtime.js';

const MAX_BODY_BYTES = 1024 * 1024;

export interface ServerOptions {
  runtime: LocalRuntime;
  token: string;
  port?: number;
  host?: string;
}

export interface LocalServer {
  url: string;
  close(): Promise<void>;
}

export async function startServer({ runtime, token, port = 8080, host = '127.0.0.1' }: ServerOptions): Promise<LocalServer> {
  const api = createHandler({ ...runtime.deps, ...runtime.control, topology: runtime.topology });
  const server = createServer((req, res) => {
    void serve(req, res, api, token).catch((error: unknown) => {
      console.error(error);
      if (!res.headersSent) send(res, 500, { error: { code: 'INTERNAL', message: 'internal error' } });
    });
  });
  const gateway = attachWebSocketGateway(server, {
    runtime,
    // Browsers cannot set headers on a WebSocket, so the token may also come as `?token=`.
    authenticate: (req) =>
      bearerMatches(req.headers.authorization, token) || bearerMatches(`Bearer ${new URL(req.url ?? '/', 'http://localhost').searchParams.get('token') ?? ''}`, token),
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

async function serve(req: IncomingMessage, res: ServerResponse, api: ApiHandler, token: string): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';
  if (!(method === 'GET' && url.pathname === '/health') && !bearerMatches(req.headers.authorization, token)) {
    send(res, 401, { error: { code: 'UNAUTHORIZED', message: 'a valid bearer token is required (Authorization: Bearer <token>)' } }, { 'www-authenticate': 'Bearer' });
    return;
  }
  const body = await readBody(req);
  if (body === undefined) {
    send(res, 413, { error: { code: 'PAYLOAD_TOO_LARGE', message: `request bodies are limited to ${MAX_BODY_BYTES} bytes` } });
    return;
  }
  const result = await api(proxyEvent(req, url, method, body), localContext());
  res.writeHead(result.statusCode, { ...(result.headers as Record<string, string>) });
  res.end(result.body);
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.destroy();
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The request as API Gateway's REST proxy integration hands it to Lambda. */
function proxyEvent(req: IncomingMessage, url: URL, method: string, body: string): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    headers[name] = values.join(',');
    multiValueHeaders[name] = values;
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    (multiQuery[name] ??= []).push(value);
  }
  const hasQuery = Object.keys(query).length > 0;
  return {
    httpMethod: method,
    path: url.pathname,
    resource: '/{proxy+}',
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
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
