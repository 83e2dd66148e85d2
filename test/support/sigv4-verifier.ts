/**
 * A stand-in for API Gateway's IAM authorization, to test what signs requests for it: the signature of each request is
 * computed again from what arrived (method, path, query, the headers it says it signed, the body) with the credentials
 * the verifier knows, and the request is refused with 403 and API Gateway's kind of message when the signature is
 * missing or stale, or covers anything but what arrived. REST requests carry theirs in the Authorization header;
 * WebSocket `$connect` requests in the URL's query (a presigned URL), as browsers and `awscurl` send them.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { WebSocketServer, type WebSocket } from 'ws';

export interface SigningKey {
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  region: string;
  /** `execute-api` for API Gateway. */
  service: string;
}

/** A request as it arrived: `url` is the raw request target (path and query, percent-encoded as sent). */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body?: Buffer;
}

export type Verdict = { ok: true } | { ok: false; message: string };

/** How far a signature's time may be from the verifier's clock, as AWS allows. */
const CLOCK_SKEW_MS = 5 * 60_000;
const ALGORITHM = 'AWS4-HMAC-SHA256';
const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');
const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.';
/** What a presigned URL carries besides the request's own query; the presigner puts all of them back. */
const PRESIGN_PARAMETERS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Security-Token', 'X-Amz-Signature'];

/** Checks a request signed in its Authorization header. */
export async function verifySignedRequest(request: ReceivedRequest, key: SigningKey, now = new Date()): Promise<Verdict> {
  const authorization = header(request.headers, 'authorization');
  if (!authorization) return refuse('Missing Authentication Token');
  const parts = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/.exec(authorization);
  if (!parts) return refuse(`Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' (${ALGORITHM}), got: ${authorization}`);
  const [, credential, signedHeaders, signature] = parts as unknown as [string, string, string, string];
  const date = header(request.headers, 'x-amz-date');
  const problem = scopeProblem(credential, date, key, now, 0) ?? tokenProblem(header(request.headers, 'x-amz-security-token'), key);
  if (problem) return refuse(problem);
  const bodyHash = request.body && request.body.length > 0 ? createHash('sha256').update(request.body).digest('hex') : EMPTY_SHA256;
  const declaredHash = header(request.headers, 'x-amz-content-sha256');
  if (declaredHash !== undefined && declaredHash !== bodyHash) return refuse("The provided 'x-amz-content-sha256' header does not match what was computed.");

  const headers = signedHeaderValues(request, signedHeaders);
  if (typeof headers === 'string') return refuse(headers);
  const { path, query } = target(request.url);
  // The payload hash comes from the body that arrived, never from a header the client sent.
  const recomputed = await signer(key, false).sign(
    new HttpRequest({ method: request.method, hostname: '', path, query, headers, ...(request.body && request.body.length > 0 ? { body: request.body } : {}) }),
    { signingDate: amzDate(date as string) },
  );
  const expected = /SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(String(recomputed.headers.authorization));
  if (expected?.[1] !== signedHeaders || !sameHex(expected[2] as string, signature)) return refuse(SIGNATURE_MISMATCH);
  return { ok: true };
}

/** The values of the headers a signature names (`host;x-amz-date`), or what is wrong with them. */
function signedHeaderValues(request: ReceivedRequest, signedHeaders: string): Record<string, string> | string {
  const names = signedHeaders.split(';');
  if (!names.includes('host')) return 'The host header must be signed';
  const headers: Record<string, string> = {};
  for (const name of names) {
    const value = header(request.headers, name);
    if (value === undefined) return `Signed header ${name} is not in the request`;
    headers[name] = value;
  }
  return headers;
}

/** Checks a request whose signature is in its query (a presigned URL, as a WebSocket `$connect` is signed). */
export async function verifyPresignedRequest(request: ReceivedRequest, key: SigningKey, now = new Date()): Promise<Verdict> {
  const { path, query, params } = target(request.url);
  const get = (name: string) => params.get(name) ?? undefined;
  const signature = get('X-Amz-Signature');
  if (!signature || !get('X-Amz-Credential')) return refuse('Missing Authentication Token');
  if (get('X-Amz-Algorithm') !== ALGORITHM) return refuse(`X-Amz-Algorithm must be ${ALGORITHM}`);
  const expires = Number(get('X-Amz-Expires'));
  if (!Number.isInteger(expires) || expires < 1 || expires > 604_800) return refuse('X-Amz-Expires must be a whole number of seconds, at most a week');
  const date = get('X-Amz-Date');
  const problem = scopeProblem(get('X-Amz-Credential') as string, date, key, now, expires) ?? tokenProblem(get('X-Amz-Security-Token'), key);
  if (problem) return refuse(problem);
  const signedHeaders = get('X-Amz-SignedHeaders') ?? '';
  const headers = signedHeaderValues(request, signedHeaders);
  if (typeof headers === 'string') return refuse(headers);
  for (const name of PRESIGN_PARAMETERS) delete query[name];
  const recomputed = await signer(key, true).presign(new HttpRequest({ method: request.method, hostname: '', path, query, headers }), {
    signingDate: amzDate(date as string),
    expiresIn: expires,
  });
  const expected = recomputed.query ?? {};
  if (expected['X-Amz-SignedHeaders'] !== signedHeaders || !sameHex(String(expected['X-Amz-Signature']), signature)) return refuse(SIGNATURE_MISMATCH);
  return { ok: true };
}

/** What is wrong with the credential scope and the signing time, if anything. `validFor`: a presigned URL's seconds. */
function scopeProblem(credential: string, date: string | undefined, key: SigningKey, now: Date, validFor: number): string | undefined {
  const [accessKeyId, day, region, service, terminator, ...rest] = credential.split('/');
  if (terminator !== 'aws4_request' || rest.length > 0) return `Credential must be <access key>/<date>/<region>/<service>/aws4_request, got ${credential}`;
  if (accessKeyId !== key.credentials.accessKeyId) return 'The security token included in the request is invalid.';
  if (region !== key.region) return `Credential should be scoped to a valid region, not '${region}'`;
  if (service !== key.service) return `Credential should be scoped to correct service: '${key.service}'`;
  if (!date || !/^\d{8}T\d{6}Z$/.test(date)) return 'Authorization requires the X-Amz-Date header (or query parameter) as YYYYMMDDTHHMMSSZ';
  if (!date.startsWith(day ?? '')) return `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${day}' != '${date.slice(0, 8)}'`;
  const signedAt = amzDate(date).getTime();
  if (now.getTime() < signedAt - CLOCK_SKEW_MS || now.getTime() > signedAt + Math.max(CLOCK_SKEW_MS, validFor * 1000)) return `Signature expired: ${date} is now earlier than ${now.toISOString()} allows`;
  return undefined;
}

function tokenProblem(presented: string | undefined, key: SigningKey): string | undefined {
  return presented === key.credentials.sessionToken ? undefined : 'The security token included in the request is invalid.';
}

function signer(key: SigningKey, applyChecksum: boolean): SignatureV4 {
  return new SignatureV4({ service: key.service, region: key.region, credentials: key.credentials, sha256: Hash.bind(null, 'sha256'), applyChecksum });
}

/** The raw target's path (as sent) and its query as SigV4 reads it: names and values decoded, repeated names kept. */
function target(url: string): { path: string; query: Record<string, string | string[]>; params: URLSearchParams } {
  const at = url.indexOf('?');
  const params = new URLSearchParams(at < 0 ? '' : url.slice(at + 1));
  const query: Record<string, string | string[]> = {};
  for (const name of new Set(params.keys())) {
    const values = params.getAll(name);
    query[name] = values.length === 1 ? (values[0] as string) : values;
  }
  return { path: at < 0 ? url : url.slice(0, at), query, params };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function amzDate(value: string): Date {
  return new Date(value.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

function refuse(message: string): Verdict {
  return { ok: false, message };
}

export interface SignedApiOptions {
  key: SigningKey;
  /** The stage, the first segment of every path. @default 'v1' */
  stage?: string;
  /** Answers a REST request whose signature held (`path`: without the stage). `GET /health` needs none, as in AWS. */
  rest(request: ReceivedRequest & { path: string }, res: ServerResponse): void | Promise<void>;
  /** Takes a WebSocket whose `$connect` signature held. */
  webSocket?(socket: WebSocket, request: ReceivedRequest): void;
}

export interface SignedApi {
  /** The REST API's URL, as the stack output `RestApiUrl` has it: `http://127.0.0.1:<port>/v1/`. */
  url: string;
  /** The WebSocket API's URL, as `WebSocketUrl` has it: `ws://127.0.0.1:<port>/v1`. */
  webSocketUrl: string;
  /** Every request the verifier accepted, and every refusal's message. */
  accepted: ReceivedRequest[];
  refused: string[];
  close(): Promise<void>;
}

/** An HTTP and WebSocket server on 127.0.0.1 that lets through only requests signed for `key`, like API Gateway with IAM. */
export async function startSignedApi({ key, stage = 'v1', rest, webSocket }: SignedApiOptions): Promise<SignedApi> {
  const accepted: ReceivedRequest[] = [];
  const refused: string[] = [];
  const prefix = `/${stage}`;
  const server = createServer((req, res) => {
    void (async () => {
      const received = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: await readAll(req) };
      const path = received.url.split('?')[0] as string;
      if (!path.startsWith(`${prefix}/`)) return answer(res, 403, 'Missing Authentication Token', 'MissingAuthenticationTokenException');
      const open = received.method === 'GET' && path === `${prefix}/health`;
      const verdict = open ? ({ ok: true } as const) : await verifySignedRequest(received, key);
      if (!verdict.ok) {
        refused.push(verdict.message);
        return answer(res, 403, verdict.message, 'InvalidSignatureException');
      }
      accepted.push(received);
      await rest({ ...received, path: path.slice(prefix.length) }, res);
    })().catch((error: unknown) => {
      if (!res.headersSent) answer(res, 500, String(error), 'InternalServerErrorException');
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const received = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers };
    void verifyPresignedRequest(received, key).then((verdict) => {
      if (!verdict.ok || received.url.split('?')[0] !== prefix || !webSocket) {
        const message = verdict.ok ? 'Forbidden' : verdict.message;
        refused.push(message);
        const body = JSON.stringify({ message });
        socket.end(`HTTP/1.1 403 ${STATUS_CODES[403]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        return;
      }
      accepted.push(received);
      wss.handleUpgrade(req, socket, head, (ws) => webSocket(ws, received));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${prefix}/`,
    webSocketUrl: `ws://127.0.0.1:${port}${prefix}`,
    accepted,
    refused,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** API Gateway's way of refusing: `{"message": …}` and the error's type in `x-amzn-ErrorType`. */
function answer(res: ServerResponse, status: number, message: string, type: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type }).end(JSON.stringify({ message }));
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
