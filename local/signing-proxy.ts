/**
 * `chaosduck dashboard`: the dashboard page, served on 127.0.0.1, against a deployed stack. The page's REST calls and
 * its WebSocket go to this proxy, which forwards them to API Gateway signed with SigV4 under the user's own AWS
 * credentials (the default chain: environment, profile, SSO, …), as `awscurl` signs them. Nothing public is deployed
 * for the page, and IAM stays the only door to the API.
 *
 * The proxy holds the user's credentials, so it guards itself: it listens on loopback only; every forwarded call and
 * the WebSocket need a random token made at start (the page gets it as `serve`'s pages get theirs: a bearer token,
 * `?token=` on the WebSocket); and it answers only requests addressed to itself (Host) from its own page (Origin, and
 * Sec-Fetch-Site on whatever reaches AWS), so another web page open in the same browser can neither drive it (not even
 * with a no-cors `GET /health`, which carries no Origin) nor read it through a DNS name rebound to 127.0.0.1.
 */
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, STATUS_CODES, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { ConfigurationError, errorMessage } from '../shared/errors.js';
import { bearerMatches } from './auth.js';
import { DASHBOARD_CONFIG_PATH, isDashboardPath, loadDashboard, sendDashboardConfig, sendDashboardFile, type DashboardConfig, type DashboardFiles } from './dashboard.js';
import { requestUrl } from './request-url.js';

/** What a credentials provider from `@aws-sdk/credential-providers` resolves to. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}
export type CredentialsProvider = () => Promise<AwsCredentials>;

/**
 * The user's AWS credentials as the SDK's default chain finds them (the environment, a profile, SSO, a
 * credential_process, a web identity, an instance or container role), renewed by the SDK as they come to expire.
 */
export const userCredentials = (): CredentialsProvider => fromNodeProviderChain();

export interface SigningProxyOptions {
  /** The REST API's stage URL (the stack output `RestApiUrl`), as `apiEndpoint` checked it. */
  api: URL;
  /** The WebSocket API's stage URL (`WebSocketUrl`); without it, there is no live progress. */
  webSocket?: URL;
  /** The region requests are signed for. */
  region: string;
  credentials: CredentialsProvider;
  /** On 127.0.0.1; 0: any free port. */
  port: number;
  /** Where the proxy says what went wrong upstream (a refused call, a failed $connect). @default console.error */
  log?: (line: string) => void;
}

export interface SigningProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  token: string;
  close(): Promise<void>;
}

/** The paths the REST API serves; everything else is the page's. */
const FORWARDED = [/^\/api\//, /^\/health$/, /^\/emergency-stop$/, /^\/openapi\.json$/];
const WEBSOCKET_PATH = '/ws';
/** API Gateway's own limit on a request's payload. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** API Gateway gives up on an integration after 29 s; a call quiet for longer than this is not coming back. */
const UPSTREAM_IDLE_MS = 60_000;
/** A presigned `$connect` URL is used at once; it only needs to outlive the handshake. */
const PRESIGN_SECONDS = 60;
/** How long a WebSocket gets to answer the close handshake when the proxy stops. */
const CLOSE_GRACE_MS = 2_000;
/** API Gateway's largest WebSocket message. */
const MAX_MESSAGE_BYTES = 128 * 1024;
/**
 * What of the page's request goes on: the type of its body and of the answer it takes, and the Idempotency-Key of a
 * new experiment (so a create retried through the proxy still starts one); never its cookies or the token.
 */
const FORWARDED_REQUEST_HEADERS = ['accept', 'content-type', 'idempotency-key'];
/** Headers about one connection, which a proxy does not pass on (RFC 9110 7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
/** What the user is told to do whenever their credentials are missing, expired or refused. */
export const CREDENTIALS_HINT =
  'sign in again (`aws sso login`, with --profile <name> or AWS_PROFILE for a named profile), or set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)';

export async function startSigningProxy(options: SigningProxyOptions): Promise<SigningProxy> {
  const token = randomBytes(32).toString('base64url');
  const log = options.log ?? ((line: string) => console.error(line));
  // The page's files, as `serve` has them (local/dashboard.ts); read or bundled when first asked for, again after a failure.
  let page: Promise<DashboardFiles> | undefined;
  const pageFiles = () =>
    (page ??= loadDashboard().catch((error: unknown) => {
      page = undefined;
      throw error;
    }));
  const config: DashboardConfig = {
    served_by: 'dashboard',
    token_hint: 'the token chaosduck dashboard printed (a new one at every start)',
    live_progress: options.webSocket ? { available: true } : { available: false, reason: LIVE_PROGRESS_NEEDS_WS },
  };
  let port = options.port;
  const ours = () => ({ hosts: [`127.0.0.1:${port}`, `localhost:${port}`], origins: [`http://127.0.0.1:${port}`, `http://localhost:${port}`] });

  /** Why a request may not be served, if it may not: addressed to another name, or sent by another page. */
  const foreign = (req: IncomingMessage): string | undefined => {
    const { hosts, origins } = ours();
    if (!hosts.includes(req.headers.host ?? '')) return `this proxy answers requests addressed to ${hosts[0]} only, not ${JSON.stringify(req.headers.host ?? '')}`;
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.includes(origin)) return `this proxy answers its own page only, not one from ${origin}`;
    return undefined;
  };
  /**
   * Why a request may not reach AWS, if it may not: one another site's page made. A browser names the site a request
   * comes from in Sec-Fetch-Site, also where it sends no Origin (a no-cors GET, a script or image tag); `same-site`
   * counts too, as another port or subdomain of localhost is another program's page.
   */
  const crossSite = (req: IncomingMessage): string | undefined => {
    const site = req.headers['sec-fetch-site'];
    return site === 'cross-site' || site === 'same-site' ? `this proxy answers its own page only, not a ${site} request` : undefined;
  };
  const authorized = (req: IncomingMessage, url: URL) =>
    bearerMatches(req.headers.authorization, token) || (url.pathname === WEBSOCKET_PATH && bearerMatches(`Bearer ${url.searchParams.get('token') ?? ''}`, token));

  const signer = (credentials: AwsCredentials) => new SignatureV4({ service: 'execute-api', region: options.region, credentials, sha256: Hash.bind(null, 'sha256') });
  /** The user's credentials, or an error the page and the terminal can act on. */
  const credentials = async (): Promise<AwsCredentials | ProxyError> => {
    try {
      return await options.credentials();
    } catch (error) {
      const message = credentialsProblem(error);
      log(message);
      return new ProxyError(502, 'AWS_CREDENTIALS', message);
    }
  };

  const forward = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const body = await readBody(req);
    if (body === undefined) return send(res, 413, 'PAYLOAD_TOO_LARGE', `request bodies are limited to ${MAX_BODY_BYTES} bytes, as API Gateway limits them`);
    const identity = await credentials();
    if (identity instanceof ProxyError) return send(res, identity.status, identity.code, identity.message);
    const method = req.method ?? 'GET';
    const headers: Record<string, string> = { host: options.api.host };
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    if (body.length > 0) headers['content-length'] = String(body.length);
    const query = queryOf(url.searchParams);
    const signed = await signer(identity).sign(
      new HttpRequest({
        method,
        protocol: options.api.protocol,
        hostname: options.api.hostname,
        path: `${stagePath(options.api)}${rawPath(req)}`,
        query,
        headers,
        ...(body.length > 0 ? { body } : {}),
      }),
    );
    const queryString = serializeQuery(query);
    const upstream = (options.api.protocol === 'https:' ? httpsRequest : httpRequest)({
      method,
      hostname: options.api.hostname,
      port: options.api.port || undefined,
      path: `${signed.path}${queryString ? `?${queryString}` : ''}`,
      headers: signed.headers,
    });
    upstream.setTimeout(UPSTREAM_IDLE_MS, () => upstream.destroy(new ProxyError(504, 'UPSTREAM_TIMEOUT', `${options.api.origin} did not answer within ${UPSTREAM_IDLE_MS / 1000} s`)));
    // The page gave up (closed the tab, navigated): so does the call.
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.once('error', (error) => {
      if (res.headersSent) return void res.destroy();
      const failure = error instanceof ProxyError ? error : new ProxyError(502, 'UPSTREAM_UNREACHABLE', `cannot reach ${options.api.origin}: ${errorMessage(error)}`);
      log(`${method} ${url.pathname}: ${failure.message}`);
      send(res, failure.status, failure.code, failure.message);
    });
    upstream.once('response', (answer) => {
      const status = answer.statusCode ?? 502;
      if (status === 403) reportRefusal(answer, `${method} ${url.pathname}`, log);
      res.writeHead(status, endToEnd(answer.headers));
      // Streamed as it arrives: a report page or a long list reaches the browser without waiting for its end.
      answer.pipe(res);
      answer.once('error', () => res.destroy());
    });
    upstream.end(body.length > 0 ? body : undefined);
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = requestUrl(req);
      if (!url) return send(res, 400, 'VALIDATION', 'the request target is not a valid URL path');
      const refusal = foreign(req);
      if (refusal) return send(res, 403, 'FORBIDDEN', refusal);
      const method = req.method ?? 'GET';
      if ((method === 'GET' || method === 'HEAD') && url.pathname === DASHBOARD_CONFIG_PATH) return sendDashboardConfig(res, method, config);
      if (FORWARDED.some((path) => path.test(url.pathname))) {
        const fromElsewhere = crossSite(req);
        if (fromElsewhere) return send(res, 403, 'FORBIDDEN', fromElsewhere);
        const open = req.method === 'GET' && url.pathname === '/health';
        if (!open && !authorized(req, url)) {
          return send(res, 401, 'UNAUTHORIZED', 'a valid bearer token is required (Authorization: Bearer <token>): the one chaosduck dashboard printed', {
            'www-authenticate': 'Bearer',
          });
        }
        // Forwarded as sent, so checked as sent: the URL parser has already resolved what a raw path's `..` would escape to.
        const path = rawPath(req);
        if (!path.startsWith('/') || dotSegments(path)) return send(res, 400, 'VALIDATION', 'the path must be an absolute path with no . or .. segments');
        return forward(req, res, url);
      }
      if ((method === 'GET' || method === 'HEAD') && isDashboardPath(url.pathname) && sendDashboardFile(req, res, await pageFiles(), url.pathname)) return;
      return send(res, 404, 'NOT_FOUND', `${url.pathname} is neither the dashboard's nor the API's`);
    })().catch((error: unknown) => {
      log(`${req.method} ${req.url}: ${errorMessage(error)}`);
      if (!res.headersSent) send(res, 500, 'INTERNAL', 'internal error');
      else res.destroy();
    });
  });

  /** Every relayed pair, the page's socket first. */
  const relays = new Set<[WebSocket, WebSocket]>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = requestUrl(req);
    if (url?.pathname !== WEBSOCKET_PATH) return refuseUpgrade(socket, 404, 'NOT_FOUND', `WebSocket connections are taken at ${WEBSOCKET_PATH} only`);
    const refusal = foreign(req) ?? crossSite(req);
    if (refusal) return refuseUpgrade(socket, 403, 'FORBIDDEN', refusal);
    if (!authorized(req, url)) return refuseUpgrade(socket, 401, 'UNAUTHORIZED', 'a valid token is required (?token=<token>): the one chaosduck dashboard printed');
    if (!options.webSocket) return refuseUpgrade(socket, 503, 'NO_LIVE_PROGRESS', LIVE_PROGRESS_NEEDS_WS);
    void relay(req, socket, head, url, options.webSocket).catch((error: unknown) => {
      log(`WebSocket: ${errorMessage(error)}`);
      refuseUpgrade(socket, 500, 'INTERNAL', 'internal error');
    });
  });

  /**
   * Opens the signed connection to API Gateway first, and completes the page's handshake only once `$connect` was
   * accepted: as with `serve`, an open socket is a connected (and, with `?experimentId=`, subscribed) one, and a
   * refusal reaches the page as its handshake's status.
   */
  const relay = async (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL, webSocket: URL) => {
    // Until the handshake is the WebSocket's, a reset from the page is the proxy's to take (and the socket closes).
    socket.on('error', () => socket.destroy());
    const identity = await credentials();
    if (identity instanceof ProxyError) return refuseUpgrade(socket, identity.status, identity.code, identity.message);
    // The page's own query (`experimentId` subscribes at once) goes on; the proxy's token does not.
    const params = new URLSearchParams(url.searchParams);
    params.delete('token');
    const presigned = await signer(identity).presign(
      new HttpRequest({ method: 'GET', protocol: webSocket.protocol, hostname: webSocket.hostname, path: stagePath(webSocket) || '/', query: queryOf(params), headers: { host: webSocket.host } }),
      { expiresIn: PRESIGN_SECONDS },
    );
    const upstream = new WebSocket(`${webSocket.protocol}//${webSocket.host}${presigned.path}?${serializeQuery(presigned.query as Query)}`, {
      maxPayload: MAX_MESSAGE_BYTES,
      handshakeTimeout: UPSTREAM_IDLE_MS,
    });
    /** Until the page's socket is open: whether the upstream handshake has been answered, and what arrived meanwhile. */
    let answered = false;
    const early: { data: RawData; isBinary: boolean }[] = [];
    const keepEarly = (data: RawData, isBinary: boolean) => early.push({ data, isBinary });
    upstream.on('message', keepEarly);
    const pageLeft = () => {
      answered = true;
      upstream.terminate();
    };
    socket.once('close', pageLeft);
    upstream.once('unexpected-response', (_request, answer) => {
      answered = true;
      const status = answer.statusCode ?? 502;
      collect(answer, (text) => {
        log(`WebSocket $connect refused by ${webSocket.origin}: ${status} ${messageOf(text)}`);
        refuseUpgrade(socket, status, undefined, text);
        upstream.terminate();
      });
    });
    upstream.on('error', (error) => {
      if (answered) return;
      answered = true;
      const message = `cannot reach ${webSocket.origin}: ${errorMessage(error)}`;
      log(`WebSocket: ${message}`);
      refuseUpgrade(socket, 502, 'UPSTREAM_UNREACHABLE', message);
    });
    upstream.once('open', () => {
      answered = true;
      if (socket.destroyed) return upstream.terminate();
      wss.handleUpgrade(req, socket, head, (page) => {
        socket.off('close', pageLeft);
        const pair: [WebSocket, WebSocket] = [page, upstream];
        relays.add(pair);
        upstream.off('message', keepEarly);
        for (const { data, isBinary } of early.splice(0)) page.send(data, { binary: isBinary });
        upstream.on('message', (data, isBinary) => page.send(data, { binary: isBinary }));
        page.on('message', (data, isBinary) => upstream.send(data, { binary: isBinary }));
        page.once('close', (code, reason) => closeWith(upstream, code, reason));
        upstream.once('close', (code, reason) => {
          relays.delete(pair);
          closeWith(page, code, reason);
        });
        page.on('error', () => upstream.terminate());
        upstream.on('error', (error) => {
          log(`WebSocket to ${webSocket.origin}: ${errorMessage(error)}`);
          page.terminate();
        });
      });
    });
  };

  await new Promise<void>((done, fail) => server.once('error', fail).listen(options.port, '127.0.0.1', done));
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    close: async () => {
      const sockets = [...relays].flat();
      for (const socket of sockets) socket.close(1001, 'the dashboard proxy is shutting down');
      const grace = setTimeout(() => sockets.forEach((socket) => socket.terminate()), CLOSE_GRACE_MS);
      await Promise.all([
        ...sockets.map((socket) => (socket.readyState === WebSocket.CLOSED ? undefined : new Promise((done) => socket.once('close', done)))),
        new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
      ]);
      clearTimeout(grace);
    },
  };
}

export const LIVE_PROGRESS_NEEDS_WS =
  'live progress needs the WebSocket API: start chaosduck dashboard with --ws <WebSocketUrl> (a stack output, wss://…); the page works without it, with no live updates';

/** The message for credentials that could not be had, with what to do about it. */
export function credentialsProblem(error: unknown): string {
  return `no usable AWS credentials (${errorMessage(error)}): ${CREDENTIALS_HINT}`;
}

class ProxyError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Query = Record<string, string | string[]>;

/** Query parameters as SigV4 signs them: decoded names and values, a repeated name's values together. */
function queryOf(params: URLSearchParams): Query {
  const query: Query = {};
  for (const name of new Set(params.keys())) {
    const values = params.getAll(name);
    query[name] = values.length === 1 ? (values[0] as string) : values;
  }
  return query;
}

/**
 * The query as sent: each name and value percent-encoded as SigV4 encodes them (RFC 3986), so what API Gateway reads
 * back is exactly what was signed. The page's own query is decoded first as a browser means it (`+` is a space).
 */
function serializeQuery(query: Query): string {
  return Object.entries(query)
    .flatMap(([name, value]) => [value].flat().map((v) => `${rfc3986(name)}=${rfc3986(v)}`))
    .join('&');
}

const rfc3986 = (value: string) => encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The stage's path without its trailing slash (`/v1`), or '' for an API mapped at a domain's root. */
function stagePath(url: URL): string {
  return url.pathname.replace(/\/+$/, '');
}

/** The request's path as the browser sent it, still percent-encoded: signed and forwarded without being re-encoded. */
function rawPath(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0] as string;
}

/** True when a path as sent has a `.` or `..` segment, plain or percent-encoded. */
function dotSegments(path: string): boolean {
  return path.split('/').some((segment) => /^(\.|%2e){1,2}$/i.test(segment));
}

/** The body, or undefined once it grows past API Gateway's limit. */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((done, fail) => {
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
      req.resume();
      return done(undefined);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        done(undefined);
      } else {
        chunks.push(chunk);
      }
    });
    req.once('end', () => done(Buffer.concat(chunks)));
    req.once('error', fail);
  });
}

/** The answer's headers but those about the connection to API Gateway. */
function endToEnd(headers: IncomingMessage['headers']): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name, value]) => value !== undefined && !HOP_BY_HOP.has(name)));
}

/** API Gateway's refusal says why (`{"message": "User: … is not authorized to perform: execute-api:Invoke …"}`): the terminal hears it too. */
function reportRefusal(answer: IncomingMessage, what: string, log: (line: string) => void): void {
  collect(answer, (text) => log(`${what}: refused by API Gateway (403): ${messageOf(text)}`));
}

/** The answer's body as text (its first 4 KB), once it has ended, failed or been cut. */
function collect(answer: IncomingMessage, done: (text: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  answer.on('data', (chunk: Buffer) => {
    if (size < 4096) chunks.push(chunk);
    size += chunk.length;
  });
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    done(Buffer.concat(chunks).toString('utf8').slice(0, 4096));
  };
  answer.once('end', finish).once('close', finish).once('error', finish);
}

function messageOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown; Message?: unknown };
    return String(parsed.message ?? parsed.Message ?? text);
  } catch {
    return text.trim() || '(no message)';
  }
}

/** Closes `socket` as its peer closed the other side; the codes that only describe a close cannot be sent. */
function closeWith(socket: WebSocket, code: number, reason: Buffer): void {
  if (socket.readyState !== WebSocket.OPEN) return;
  const sendable = (code >= 1000 && code <= 1014 && ![1004, 1005, 1006].includes(code)) || (code >= 3000 && code <= 4999);
  socket.close(sendable ? code : 1000, sendable ? reason : undefined);
}

function send(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ error: { code, message } }));
}

/** Answers an upgrade with a plain HTTP status: `{error: {code, message}}`, or `body` as API Gateway sent it. */
function refuseUpgrade(socket: Duplex, status: number, code: string | undefined, message: string): void {
  if (socket.destroyed || !socket.writable) return;
  const body = code === undefined ? message : JSON.stringify({ error: { code, message } });
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/**
 * Checks an API Gateway URL given on the command line. `https:` (`wss:` for the WebSocket API), no credentials, query
 * or fragment; plain `http:`/`ws:` only to 127.0.0.1 and only when `allowLoopbackHttp` (the tests' servers).
 */
export function apiEndpoint(value: string, flag: '--api' | '--ws', { allowLoopbackHttp = false } = {}): URL {
  const secure = flag === '--api' ? 'https:' : 'wss:';
  const plain = flag === '--api' ? 'http:' : 'ws:';
  const output = flag === '--api' ? 'RestApiUrl' : 'WebSocketUrl';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(`${flag} ${JSON.stringify(value)} is not a URL: give the stack output ${output} (${secure}//<id>.execute-api.<region>.amazonaws.com/<stage>)`);
  }
  const loopbackHttp = allowLoopbackHttp && url.protocol === plain && url.hostname === '127.0.0.1';
  if (url.protocol !== secure && !loopbackHttp) throw new ConfigurationError(`${flag} must be a ${secure}// URL (the stack output ${output}), not ${url.protocol}//`);
  if (url.username || url.password) throw new ConfigurationError(`${flag} must not carry credentials: requests are signed with your AWS credentials`);
  if (url.search || url.hash) throw new ConfigurationError(`${flag} must be the stage URL alone, with no query or fragment`);
  return url;
}

/** The region an API Gateway host names (`<id>.execute-api.<region>.amazonaws.com`), if it is one. */
export function regionOf(url: URL): string | undefined {
  return /^[a-z0-9-]+\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/.exec(url.hostname)?.[1];
}

/** Which access key signs, without printing it: its first and last four characters (an AWS key id has 16 to 128). */
export function accessKeyHint(credentials: AwsCredentials): string {
  const id = credentials.accessKeyId;
  return id.length >= 16 ? `${id.slice(0, 4)}…${id.slice(-4)}` : '(a short access key id)';
}
