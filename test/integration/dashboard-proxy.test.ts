/**
 * `chaosduck dashboard`'s signing proxy, against stand-ins for API Gateway that check SigV4 as it does
 * (test/support/sigv4-verifier.ts): each REST call and each WebSocket `$connect` the page makes reaches them signed
 * with the user's credentials (the SDK's default chain, from the environment here) over exactly what was sent, and the
 * answers come back as they were given. The proxy lets in only its own page holding its token. The verifier is tested
 * first, so its acceptance means something.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { DASHBOARD_CSP } from '../../local/dashboard.js';
import { LIVE_PROGRESS_NEEDS_WS, startSigningProxy, userCredentials, type SigningProxy } from '../../local/signing-proxy.js';
import { runCli, startCli } from '../support/cli.js';
import { startSignedApi, verifyPresignedRequest, verifySignedRequest, type ReceivedRequest, type SignedApi, type SigningKey } from '../support/sigv4-verifier.js';

const KEY: SigningKey = {
  credentials: { accessKeyId: 'ASIAPROXYTEST0000001', secretAccessKey: 'proxy/test+secret/0123456789abcdefghijklm', sessionToken: 'proxy-test-session-token/with+signs==' },
  region: 'eu-west-1',
  service: 'execute-api',
};

/** One HTTP exchange with full control of what is sent (Host and Origin included), the answer read whole. */
function exchange(
  url: string,
  { method = 'GET', headers = {}, body }: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Signs a request for `api` as a client of API Gateway would. */
async function signFor(api: SignedApi, { method, path, query = {}, body }: { method: string; path: string; query?: Record<string, string>; body?: string }) {
  const url = new URL(api.url);
  const signer = new SignatureV4({ service: KEY.service, region: KEY.region, credentials: KEY.credentials, sha256: Hash.bind(null, 'sha256') });
  const headers: Record<string, string> = { host: url.host, ...(body ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}) };
  return signer.sign(new HttpRequest({ method, hostname: url.hostname, path: `${url.pathname}${path}`, query, headers, ...(body ? { body } : {}) }));
}

describe('the SigV4 verifier the proxy is tested against', () => {
  // AWS's published SigV4 test suite: get-vanilla and get-vanilla-query-order-key-case.
  const EXAMPLE: SigningKey = { credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }, region: 'us-east-1', service: 'service' };
  const AT = new Date('2015-08-30T12:36:00Z');
  const example = (url: string, signature: string): ReceivedRequest => ({
    method: 'GET',
    url,
    headers: {
      host: 'example.amazonaws.com',
      'x-amz-date': '20150830T123600Z',
      authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`,
    },
  });
  const VANILLA = '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31';
  const QUERY_ORDER = 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500';

  it("accepts AWS's published examples of signed requests, and refuses them altered or out of date", async () => {
    expect(await verifySignedRequest(example('/', VANILLA), EXAMPLE, AT)).toEqual({ ok: true });
    expect(await verifySignedRequest(example('/?Param2=value2&Param1=value1', QUERY_ORDER), EXAMPLE, AT)).toEqual({ ok: true });

    const refusals = [
      await verifySignedRequest(example('/?Param2=value2&Param1=value3', QUERY_ORDER), EXAMPLE, AT),
      await verifySignedRequest(example('/other', VANILLA), EXAMPLE, AT),
      await verifySignedRequest(example('/', VANILLA.replace(/^5/, '6')), EXAMPLE, AT),
      await verifySignedRequest({ ...example('/', VANILLA), method: 'POST' }, EXAMPLE, AT),
      await verifySignedRequest(example('/', VANILLA), EXAMPLE, new Date(AT.getTime() + 6 * 60_000)),
      await verifySignedRequest(example('/', VANILLA), { ...EXAMPLE, region: 'eu-west-1' }, AT),
    ];
    expect(refusals.map((verdict) => verdict.ok)).toEqual([false, false, false, false, false, false]);
    expect(refusals.map((verdict) => (verdict.ok ? '' : verdict.message))).toEqual([
      expect.stringContaining('signature we calculated does not match'),
      expect.stringContaining('signature we calculated does not match'),
      expect.stringContaining('signature we calculated does not match'),
      expect.stringContaining('signature we calculated does not match'),
      expect.stringContaining('Signature expired'),
      expect.stringContaining('valid region'),
    ]);
  });

  describe('as a server, like API Gateway with IAM authorization', () => {
    let api: SignedApi;
    beforeAll(async () => {
      api = await startSignedApi({
        key: KEY,
        rest: (request, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ body: request.body?.toString('utf8') })),
        webSocket: (socket) => socket.close(1000),
      });
    });
    afterAll(() => api?.close());

    it('takes a signed request, and refuses it with 403 once its body, query or signature is altered, or with none', async () => {
      const body = JSON.stringify({ name: 'signed', chaos_type: 'pod_delete' });
      const signed = await signFor(api, { method: 'POST', path: '/api/chaos/experiments', query: { dry_run: 'true' }, body });
      const target = `${new URL(api.url).origin}${signed.path}`;
      const headers = signed.headers as Record<string, string>;

      const accepted = await exchange(`${target}?dry_run=true`, { method: 'POST', headers, body });
      expect(accepted.status).toBe(200);
      expect(JSON.parse(accepted.body)).toEqual({ body });

      const tampered = [
        await exchange(`${target}?dry_run=true`, { method: 'POST', headers, body: body.replace('pod_delete', 'ec2_stop__') }),
        await exchange(`${target}?dry_run=false`, { method: 'POST', headers, body }),
        await exchange(`${target}?dry_run=true&extra=1`, { method: 'POST', headers, body }),
        await exchange(`${target}?dry_run=true`, { method: 'POST', headers: { ...headers, authorization: headers.authorization!.replace(/.$/, (c) => (c === '0' ? '1' : '0')) }, body }),
        await exchange(`${target}?dry_run=true`, { method: 'POST', headers: { host: headers.host!, 'content-type': 'application/json' }, body }),
      ];
      expect(tampered.map((answer) => answer.status)).toEqual([403, 403, 403, 403, 403]);
      expect(tampered.map((answer) => JSON.parse(answer.body).message)).toEqual([
        expect.stringContaining('x-amz-content-sha256'),
        expect.stringContaining('signature we calculated does not match'),
        expect.stringContaining('signature we calculated does not match'),
        expect.stringContaining('signature we calculated does not match'),
        'Missing Authentication Token',
      ]);
    });

    it('takes a presigned $connect, and refuses it once its query is altered or it has expired', async () => {
      const url = new URL(api.webSocketUrl);
      const signer = new SignatureV4({ service: KEY.service, region: KEY.region, credentials: KEY.credentials, sha256: Hash.bind(null, 'sha256') });
      const presign = async (signingDate = new Date()) => {
        const signed = await signer.presign(new HttpRequest({ method: 'GET', hostname: url.hostname, path: url.pathname, query: { experimentId: 'exp-1' }, headers: { host: url.host } }), {
          expiresIn: 60,
          signingDate,
        });
        return new URLSearchParams(signed.query as Record<string, string>);
      };
      const connect = (query: URLSearchParams) =>
        new Promise<number>((resolve) => {
          const socket = new WebSocket(`${api.webSocketUrl}?${query}`);
          socket.once('open', () => resolve(101));
          socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
          socket.once('error', () => resolve(0));
        });

      expect(await connect(await presign())).toBe(101);
      const altered = await presign();
      altered.set('experimentId', 'exp-2');
      const expired = await presign(new Date(Date.now() - 10 * 60_000));
      const unsigned = new URLSearchParams({ experimentId: 'exp-1' });
      expect([await connect(altered), await connect(expired), await connect(unsigned)]).toEqual([403, 403, 403]);
      const received = { method: 'GET', url: `${url.pathname}?${altered}`, headers: { host: url.host } };
      expect(await verifyPresignedRequest(received, KEY)).toEqual({ ok: false, message: expect.stringContaining('signature we calculated does not match') });
    });
  });
});

describe('chaosduck dashboard: the signing proxy', () => {
  let api: SignedApi;
  let proxy: SigningProxy;
  const logged: string[] = [];
  /** What reached the WebSocket API: each `$connect` URL, each message, each close code. */
  const upstream = { connects: [] as string[], messages: [] as string[], closes: [] as number[] };
  let releaseStream: () => void = () => undefined;
  let streamHeld = Promise.resolve();
  const REFUSAL = 'User: arn:aws:sts::123456789012:assumed-role/Dev/alice is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:eu-west-1:123456789012:abc/v1/GET/api/chaos/forbidden';

  beforeAll(async () => {
    // The user's credentials, as the SDK's default chain finds them: here in the environment, and nowhere else.
    vi.stubEnv('AWS_ACCESS_KEY_ID', KEY.credentials.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', KEY.credentials.secretAccessKey);
    vi.stubEnv('AWS_SESSION_TOKEN', KEY.credentials.sessionToken);
    vi.stubEnv('AWS_PROFILE', '');
    api = await startSignedApi({
      key: KEY,
      rest: async (request, res) => {
        if (request.path === '/api/chaos/experiments/exp-1/report') {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'", 'x-content-type-options': 'nosniff' });
          return void res.end('<!doctype html><title>Report of exp-1</title><h1>exp-1: completed</h1>');
        }
        if (request.path === '/api/chaos/stream') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('first part\n');
          await streamHeld;
          return void res.end('second part\n');
        }
        if (request.path === '/api/chaos/forbidden') {
          return void res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException' }).end(JSON.stringify({ Message: REFUSAL }));
        }
        const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
        res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': 'req-1' });
        res.end(
          JSON.stringify({
            method: request.method,
            path: request.path,
            query: Object.fromEntries([...new URLSearchParams(query)].map(([name, value]) => [name, value])),
            body: request.body?.toString('utf8') ?? '',
            headers: request.headers,
          }),
        );
      },
      webSocket: (socket, request) => {
        upstream.connects.push(request.url);
        socket.on('message', (data) => {
          const text = String(data);
          upstream.messages.push(text);
          const { experimentId } = JSON.parse(text) as { experimentId: string };
          socket.send(JSON.stringify({ type: 'subscribed', experimentId, subscriptions: [experimentId] }));
          socket.send(JSON.stringify({ type: 'phase.started', experimentId, at: new Date().toISOString(), detail: { phase: 'INJECT' } }));
        });
        socket.on('close', (code) => upstream.closes.push(code));
      },
    });
    proxy = await startSigningProxy({
      api: new URL(api.url),
      webSocket: new URL(api.webSocketUrl),
      region: KEY.region,
      credentials: userCredentials(),
      port: 0,
      log: (line) => logged.push(line),
    });
  });
  afterAll(async () => {
    await proxy?.close();
    await api?.close();
    vi.unstubAllEnvs();
  });

  const bearer = () => ({ authorization: `Bearer ${proxy.token}` });
  const echo = (body: string) => JSON.parse(body) as { method: string; path: string; query: Record<string, string>; body: string; headers: IncomingHttpHeaders };

  it('signs a GET with a query string, and passes the answer back as API Gateway gave it', async () => {
    const accepted = api.accepted.length;
    // As a browser's URLSearchParams writes it: `+` for a space, `%2B` for a plus.
    const answer = await exchange(`${proxy.url}/api/chaos/experiments?status=running&limit=2&name=a+b%2Bc&tag=x&tag=y`, { headers: { ...bearer(), cookie: 'session=browser' } });
    expect(answer.status).toBe(200);
    expect(answer.headers['x-amzn-requestid']).toBe('req-1');
    const seen = echo(answer.body);
    expect(seen).toMatchObject({ method: 'GET', path: '/api/chaos/experiments', query: { status: 'running', limit: '2', name: 'a b+c', tag: 'y' } });
    expect(seen.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIAPROXYTEST0000001\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=/);
    expect(seen.headers['x-amz-security-token']).toBe(KEY.credentials.sessionToken);
    // The browser's own headers stay with the proxy: its cookies, and the proxy's token.
    expect(seen.headers.cookie).toBeUndefined();
    expect(JSON.stringify(seen.headers)).not.toContain(proxy.token);
    expect(api.accepted.length).toBe(accepted + 1);
  });

  it('signs a POST over its JSON body, byte for byte', async () => {
    const body = JSON.stringify({ name: 'café ☕ canary', chaos_type: 'pod_delete', target: { provider: 'sandbox', labels: { app: 'demo' } } });
    const answer = await exchange(`${proxy.url}/api/chaos/experiments`, { method: 'POST', headers: { ...bearer(), 'content-type': 'application/json', 'idempotency-key': 'form-key-1' }, body });
    expect(answer.status).toBe(200);
    // The form's Idempotency-Key goes on, signed, so a retried create still starts one experiment.
    const seen = echo(answer.body);
    expect(seen).toMatchObject({ method: 'POST', path: '/api/chaos/experiments', body, headers: { 'content-type': 'application/json', 'idempotency-key': 'form-key-1' } });
    expect(String(seen.headers.authorization)).toMatch(/SignedHeaders=[^,]*idempotency-key/);

    const stop = await exchange(`${proxy.url}/emergency-stop`, { method: 'POST', headers: { ...bearer(), 'content-type': 'application/json' }, body: '{"reason":"drill"}' });
    expect(echo(stop.body)).toMatchObject({ method: 'POST', path: '/emergency-stop', body: '{"reason":"drill"}' });
    const openapi = await exchange(`${proxy.url}/openapi.json`, { headers: bearer() });
    expect(echo(openapi.body).path).toBe('/openapi.json');
  });

  it('streams an answer: its first part reaches the page while API Gateway is still sending the rest', async () => {
    streamHeld = new Promise((resolve) => (releaseStream = resolve));
    const response = await fetch(`${proxy.url}/api/chaos/stream`, { headers: bearer() });
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('first part')) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the answer ended early: ${text}`);
      text += Buffer.from(value).toString('utf8');
    }
    expect(text).not.toContain('second part');
    releaseStream();
    for (let next = await reader.read(); !next.done; next = await reader.read()) text += Buffer.from(next.value).toString('utf8');
    expect(text).toBe('first part\nsecond part\n');
  });

  it("passes the report page through as HTML, with its headers", async () => {
    const answer = await exchange(`${proxy.url}/api/chaos/experiments/exp-1/report`, { headers: bearer() });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(answer.headers['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'");
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.body).toBe('<!doctype html><title>Report of exp-1</title><h1>exp-1: completed</h1>');
  });

  it("passes API Gateway's 403 through with its message, and says it on the terminal", async () => {
    const answer = await exchange(`${proxy.url}/api/chaos/forbidden`, { headers: bearer() });
    expect(answer.status).toBe(403);
    expect(answer.headers['x-amzn-errortype']).toBe('AccessDeniedException');
    expect(JSON.parse(answer.body)).toEqual({ Message: REFUSAL });
    await vi.waitFor(() => expect(logged).toContainEqual(`GET /api/chaos/forbidden: refused by API Gateway (403): ${REFUSAL}`), { timeout: 10_000 });
  });

  it('forwards nothing without its token (but GET /health, as serve has it)', async () => {
    const accepted = api.accepted.length;
    const missing = await exchange(`${proxy.url}/api/chaos/experiments`);
    const wrong = await exchange(`${proxy.url}/emergency-stop`, { method: 'POST', headers: { authorization: 'Bearer not-the-token' }, body: '{}' });
    for (const answer of [missing, wrong]) {
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toBe('Bearer');
      expect(JSON.parse(answer.body).error.code).toBe('UNAUTHORIZED');
    }
    expect(api.accepted.length).toBe(accepted);
    const health = await exchange(`${proxy.url}/health`);
    expect(health.status).toBe(200);
    expect(echo(health.body).path).toBe('/health');
  });

  it('answers only requests addressed to itself, from its own page (no DNS rebinding, no other site)', async () => {
    const accepted = api.accepted.length;
    const { port } = new URL(proxy.url);
    const rebound = await exchange(`${proxy.url}/api/chaos/experiments`, { headers: { ...bearer(), host: `attacker.example:${port}` } });
    const pageOfRebound = await exchange(`${proxy.url}/`, { headers: { host: `attacker.example:${port}` } });
    const otherSite = await exchange(`${proxy.url}/api/chaos/experiments`, { method: 'POST', headers: { ...bearer(), origin: 'https://attacker.example' }, body: '{}' });
    for (const answer of [rebound, pageOfRebound, otherSite]) {
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body).error.code).toBe('FORBIDDEN');
    }
    expect(JSON.parse(rebound.body).error.message).toContain('attacker.example');
    expect(api.accepted.length).toBe(accepted);

    const ownPage = await exchange(`${proxy.url}/api/chaos/experiments`, { headers: { ...bearer(), origin: `http://localhost:${port}`, host: `localhost:${port}` } });
    expect(ownPage.status).toBe(200);
  });

  it('sends nothing to AWS for a request another site made, even one without an Origin (a no-cors GET /health)', async () => {
    const accepted = api.accepted.length;
    for (const site of ['cross-site', 'same-site']) {
      // As a browser sends a no-cors GET or an <img>: no Origin, no token, but Sec-Fetch-Site.
      const health = await exchange(`${proxy.url}/health`, { headers: { 'sec-fetch-site': site, 'sec-fetch-mode': 'no-cors' } });
      const withToken = await exchange(`${proxy.url}/api/chaos/experiments`, { headers: { ...bearer(), 'sec-fetch-site': site } });
      for (const answer of [health, withToken]) {
        expect(answer.status).toBe(403);
        expect(JSON.parse(answer.body).error).toEqual({ code: 'FORBIDDEN', message: `this proxy answers its own page only, not a ${site} request` });
      }
    }
    expect(api.accepted.length).toBe(accepted);
    // Its own page's calls, and one typed into the address bar, go on.
    expect((await exchange(`${proxy.url}/health`, { headers: { 'sec-fetch-site': 'same-origin' } })).status).toBe(200);
    expect((await exchange(`${proxy.url}/health`, { headers: { 'sec-fetch-site': 'none' } })).status).toBe(200);
    expect(api.accepted.length).toBe(accepted + 2);
    // The page itself may still be opened from a link on another site: it holds no data.
    expect((await exchange(`${proxy.url}/`, { headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' } })).status).toBe(200);
  });

  it('answers GET /dashboard.json with no token: which server, where its token comes from, and live progress', async () => {
    const answer = await exchange(`${proxy.url}/dashboard.json`);
    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.headers['content-type']).toBe('application/json');
    expect(JSON.parse(answer.body)).toEqual({
      served_by: 'dashboard',
      token_hint: 'the token chaosduck dashboard printed (a new one at every start)',
      live_progress: { available: true },
    });
  });

  it("serves the dashboard's page and assets, as serve does, with no token", async () => {
    const page = await exchange(`${proxy.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    const script = /src="(assets\/[^"]+\.js)"/.exec(page.body)?.[1];
    expect(script).toBeDefined();
    const asset = await exchange(`${proxy.url}/${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(asset.body.length).toBeGreaterThan(1000);
    expect((await exchange(`${proxy.url}/assets/../../package.json`)).status).toBe(404);
    expect((await exchange(`${proxy.url}/assets/no-such-file.js`)).status).toBe(404);
    // Revalidated by its ETag, as serve has it.
    expect((await exchange(`${proxy.url}/${script}`, { headers: { 'if-none-match': String(asset.headers.etag) } })).status).toBe(304);
    expect((await exchange(`${proxy.url}/metrics`, { headers: bearer() })).status).toBe(404);
  });

  it('relays the WebSocket: a signed $connect with the page’s query, a subscribe out, progress back, the close', async () => {
    const { port } = new URL(proxy.url);
    const connects = upstream.connects.length;
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws?experimentId=exp-1&token=${encodeURIComponent(proxy.token)}`, { origin: `http://127.0.0.1:${port}` });
    const received: { type: string; experimentId?: string }[] = [];
    socket.on('message', (data) => received.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));

    const connect = new URL(upstream.connects[connects] as string, 'ws://upstream');
    expect(connect.pathname).toBe('/v1');
    expect(connect.searchParams.get('experimentId')).toBe('exp-1');
    expect(connect.searchParams.get('token')).toBeNull();
    expect(connect.searchParams.get('X-Amz-Credential')).toMatch(/^ASIAPROXYTEST0000001\/\d{8}\/eu-west-1\/execute-api\/aws4_request$/);
    expect(connect.searchParams.get('X-Amz-Security-Token')).toBe(KEY.credentials.sessionToken);

    const subscribe = JSON.stringify({ action: 'subscribe', experimentId: 'exp-2' });
    socket.send(subscribe);
    await vi.waitFor(() => expect(received.map((message) => message.type)).toEqual(['subscribed', 'phase.started']), { timeout: 10_000 });
    expect(upstream.messages.at(-1)).toBe(subscribe);
    expect(received.every((message) => message.experimentId === 'exp-2')).toBe(true);

    const closes = upstream.closes.length;
    socket.close(1000, 'done');
    await vi.waitFor(() => expect(upstream.closes.slice(closes)).toEqual([1000]), { timeout: 10_000 });
  });

  it('opens no WebSocket without its token or from another site', async () => {
    const { port } = new URL(proxy.url);
    const connects = upstream.connects.length;
    const status = (url: string, origin: string) =>
      new Promise<number>((resolve) => {
        const socket = new WebSocket(url, { origin });
        socket.once('open', () => resolve(101));
        socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        socket.once('error', () => resolve(0));
      });
    const own = `http://127.0.0.1:${port}`;
    expect(await status(`ws://127.0.0.1:${port}/ws?experimentId=exp-1`, own)).toBe(401);
    expect(await status(`ws://127.0.0.1:${port}/ws?token=wrong`, own)).toBe(401);
    expect(await status(`ws://127.0.0.1:${port}/ws?token=${encodeURIComponent(proxy.token)}`, 'https://attacker.example')).toBe(403);
    const crossSite = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${encodeURIComponent(proxy.token)}`, { headers: { 'sec-fetch-site': 'cross-site' } });
      socket.once('open', () => resolve(101));
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.once('error', () => resolve(0));
    });
    expect(crossSite).toBe(403);
    expect(upstream.connects.length).toBe(connects);
  });

  it("passes API Gateway's refusal of credentials it does not accept through, for REST calls and the WebSocket", async () => {
    const wrong = await startSigningProxy({
      api: new URL(api.url),
      webSocket: new URL(api.webSocketUrl),
      region: KEY.region,
      credentials: async () => ({ ...KEY.credentials, secretAccessKey: 'not-the-secret' }),
      port: 0,
      log: (line) => logged.push(line),
    });
    try {
      const answer = await exchange(`${wrong.url}/api/chaos/experiments`, { headers: { authorization: `Bearer ${wrong.token}` } });
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body).message).toContain('signature we calculated does not match');
      const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const socket = new WebSocket(`${wrong.url.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(wrong.token)}`);
        socket.once('open', () => reject(new Error('the WebSocket opened with credentials API Gateway refuses')));
        socket.once('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
      });
      expect(refused.status).toBe(403);
      expect(JSON.parse(refused.body).message).toContain('signature we calculated does not match');
      expect(logged.some((line) => line.startsWith('WebSocket $connect refused by') && line.includes('signature we calculated does not match'))).toBe(true);
    } finally {
      await wrong.close();
    }
  });

  it('without the WebSocket API, refuses /ws saying what it needs, and the REST calls still work', async () => {
    const restOnly = await startSigningProxy({ api: new URL(api.url), region: KEY.region, credentials: userCredentials(), port: 0, log: (line) => logged.push(line) });
    try {
      const refused = await new Promise<{ status: number; body: string }>((resolve) => {
        const socket = new WebSocket(`${restOnly.url.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(restOnly.token)}`);
        socket.once('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
      });
      expect(refused.status).toBe(503);
      expect(JSON.parse(refused.body).error).toEqual({ code: 'NO_LIVE_PROGRESS', message: LIVE_PROGRESS_NEEDS_WS });
      expect((await exchange(`${restOnly.url}/api/chaos/experiments`, { headers: { authorization: `Bearer ${restOnly.token}` } })).status).toBe(200);
      // The page is told so before it tries.
      expect(JSON.parse((await exchange(`${restOnly.url}/dashboard.json`)).body).live_progress).toEqual({ available: false, reason: LIVE_PROGRESS_NEEDS_WS });
    } finally {
      await restOnly.close();
    }
  });
});

describe('chaosduck dashboard, the command', () => {
  let api: SignedApi;
  let dir: string;
  /** An environment where the SDK's chain finds only what a test gives it: no keys, no profile files, no instance role. */
  let bare: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chaosduck-dashboard-'));
    api = await startSignedApi({ key: KEY, rest: (request, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: request.path })) });
    bare = {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_SESSION_TOKEN: '',
      AWS_PROFILE: '',
      AWS_CONFIG_FILE: join(dir, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
      AWS_WEB_IDENTITY_TOKEN_FILE: '',
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '',
      AWS_CONTAINER_CREDENTIALS_FULL_URI: '',
      AWS_EC2_METADATA_DISABLED: 'true',
      CHAOSDUCK_DASHBOARD_ALLOW_LOOPBACK_HTTP: '1',
    };
  });
  afterAll(async () => {
    await api?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses URLs it would not sign for, and a region the API is not in, naming what to give', async () => {
    const API = 'https://abc123.execute-api.eu-west-1.amazonaws.com/v1/';
    const cases = [
      { args: ['--api', 'http://abc123.execute-api.eu-west-1.amazonaws.com/v1/'], says: '--api must be a https:// URL (the stack output RestApiUrl)' },
      { args: ['--api', API, '--ws', 'https://def456.execute-api.eu-west-1.amazonaws.com/v1'], says: '--ws must be a wss:// URL (the stack output WebSocketUrl)' },
      { args: ['--api', `${API}?x=1`], says: '--api must be the stage URL alone' },
      { args: ['--api', API, '--region', 'us-east-1'], says: '--region us-east-1 is not the API\'s region: abc123.execute-api.eu-west-1.amazonaws.com is in eu-west-1' },
      { args: ['--api', 'https://chaos.example.com/'], says: 'chaos.example.com does not name its region' },
      { args: ['--api', API, '--ws', 'wss://def456.execute-api.us-east-1.amazonaws.com/v1'], says: '--ws is in us-east-1 and --api in eu-west-1' },
    ];
    for (const { args, says } of cases) {
      const result = await runCli(['dashboard', ...args], { cwd: dir, env: bare });
      expect({ args, code: result.code, says: result.stderr.includes(says) }).toEqual({ args, code: 2, says: true });
    }
  });

  it('without AWS credentials, says so and what to do, and does not start', async () => {
    const result = await runCli(['dashboard', '--api', api.url, '--region', KEY.region, '--port', '0'], { cwd: dir, env: bare });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no usable AWS credentials');
    expect(result.stderr).toContain('aws sso login');
    expect(result.stdout).not.toContain('ChaosDuck dashboard');
  });

  it('signs with credentials from the chain as they are renewed, and once they cannot be, answers 502 saying what to do', async () => {
    // A credential_process, as `aws configure` writes for tools that hand out short-lived credentials: each set lasts
    // ten seconds (long enough that a set is never expired on arrival, even on a busy machine), and once the "session"
    // has ended it fails, as an expired SSO sign-in does.
    const state = join(dir, 'session');
    const script = join(dir, 'credentials.mjs');
    writeFileSync(state, 'valid');
    const CREDENTIALS_LIFETIME_MS = 10_000;
    writeFileSync(
      script,
      `import { readFileSync } from 'node:fs';
if (readFileSync(${JSON.stringify(state)}, 'utf8') !== 'valid') { console.error('the session has expired'); process.exit(1); }
console.log(JSON.stringify({ Version: 1, AccessKeyId: ${JSON.stringify(KEY.credentials.accessKeyId)}, SecretAccessKey: ${JSON.stringify(KEY.credentials.secretAccessKey)},
  SessionToken: ${JSON.stringify(KEY.credentials.sessionToken)}, Expiration: new Date(Date.now() + ${CREDENTIALS_LIFETIME_MS}).toISOString() }));
`,
    );
    chmodSync(script, 0o600);
    const config = join(dir, 'config');
    writeFileSync(config, `[default]\ncredential_process = "${process.execPath}" "${script}"\n`);

    const run = startCli(['dashboard', '--api', api.url, '--region', KEY.region, '--port', '0'], { cwd: dir, env: { ...bare, AWS_CONFIG_FILE: config } });
    try {
      const output = await run.waitForOutput(/AWS credentials .*\n/);
      const url = /ChaosDuck dashboard\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(output)?.[1];
      const token = /^token\s+(\S+)/m.exec(output)?.[1];
      expect(url).toBeDefined();
      expect(output).toContain(`WebSocket API         not given: ${LIVE_PROGRESS_NEEDS_WS}`);
      expect(output).toMatch(/access key ASIA…0001, valid until \d{4}-/);
      const call = () => exchange(`${url}/api/chaos/experiments`, { headers: { authorization: `Bearer ${token}` } });

      const signed = await call();
      expect(signed.status).toBe(200);
      expect(JSON.parse(signed.body)).toEqual({ path: '/api/chaos/experiments' });
      // Past the first set's lifetime, the chain asks the process again: still valid, so still signed.
      await sleep(CREDENTIALS_LIFETIME_MS + 500);
      expect((await call()).status).toBe(200);

      writeFileSync(state, 'expired');
      let answer = await call();
      for (const deadline = Date.now() + 30_000; answer.status === 200 && Date.now() < deadline; answer = await call()) await sleep(250);
      expect(answer.status).toBe(502);
      const { error } = JSON.parse(answer.body) as { error: { code: string; message: string } };
      expect(error.code).toBe('AWS_CREDENTIALS');
      expect(error.message).toContain('no usable AWS credentials');
      expect(error.message).toContain('aws sso login');

      run.child.kill('SIGINT');
      const result = await run.done;
      expect(result.code).toBe(130);
      // The terminal hears it too.
      expect(result.stderr).toContain('no usable AWS credentials');
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
  }, 120_000);
});
