/**
 * `chaosduck dashboard` as a person uses it against a deployed stack, in a REAL headless Chromium
 * (test/support/chromium.ts): the page from the signing proxy on 127.0.0.1, logged in with the proxy's token, its
 * calls and its live feed signed with the user's credentials (from the environment here) and checked by a stand-in for
 * API Gateway that verifies SigV4 (test/support/sigv4-verifier.ts) before handing each request to the control plane's
 * real functions, as API Gateway hands them to Lambda (the local server's, on the embedded runtime, with a memory
 * driver). An experiment started while the page is open appears in its list and reaches `completed` there, live.
 * A proxy started without the WebSocket URL says so once on the page, opens no WebSocket, and its experiment pages are
 * read again every few seconds instead: one reaches `completed` there.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { LocalRuntime } from '../../local/runtime.js';
import { startServer, type LocalServer } from '../../local/server.js';
import { startSigningProxy, userCredentials, type SigningProxy } from '../../local/signing-proxy.js';
import { CHROMIUM_SETUP_TIMEOUT_MS, chromiumExecutable, launchTestChromium } from '../support/chromium.js';
import { expectClean, loggedIn } from '../support/dashboard-page.js';
import { MemoryDriver } from '../support/memory-driver.js';
import { startSignedApi, type SignedApi, type SigningKey } from '../support/sigv4-verifier.js';

const KEY: SigningKey = {
  credentials: { accessKeyId: 'ASIABROWSERTEST00001', secretAccessKey: 'browser/test+secret/0123456789abcdefghij', sessionToken: 'browser-test-session-token' },
  region: 'eu-west-1',
  service: 'execute-api',
};
/** The local server's own token: what the stand-in for API Gateway adds once a signature held (Lambda needs none). */
const SERVER_TOKEN = 'behind-the-gateway';
const ARTIFACTS = resolve('test/artifacts');
/** How long the page may take to show something on a busy machine. */
const UI_TIMEOUT_MS = 30_000;
/** Headers about the connection to the local server, not passed back. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

const executable = chromiumExecutable();
const skip = 'skip' in executable ? executable.skip : undefined;
if (skip) console.warn(`signed dashboard browser test skipped: ${skip}`);

describe.skipIf(skip !== undefined)('chaosduck dashboard in a real browser, against a stand-in for API Gateway with IAM', () => {
  let runtime: LocalRuntime;
  let server: LocalServer;
  let gateway: SignedApi;
  let proxy: SigningProxy;
  /** The same, without the WebSocket URL: no live progress. */
  let restOnly: SigningProxy;
  let browser: Browser;
  /** The query of every `$connect` the gateway passed on, once the control plane took it. */
  const connected: URLSearchParams[] = [];

  beforeAll(async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', KEY.credentials.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', KEY.credentials.secretAccessKey);
    vi.stubEnv('AWS_SESSION_TOKEN', KEY.credentials.sessionToken);
    vi.stubEnv('AWS_PROFILE', '');
    runtime = await LocalRuntime.start({ drivers: [new MemoryDriver({ targets: 2 })] });
    server = await startServer({ runtime, token: SERVER_TOKEN, port: 0 });
    gateway = await startSignedApi({
      key: KEY,
      rest: async (request, res) => {
        const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
        const contentType = request.headers['content-type'];
        const answer = await fetch(`${server.url}${request.path}${query}`, {
          method: request.method,
          headers: { authorization: `Bearer ${SERVER_TOKEN}`, ...(contentType ? { 'content-type': contentType } : {}) },
          ...(request.body && request.body.length > 0 ? { body: request.body } : {}),
        });
        const headers = Object.fromEntries([...answer.headers].filter(([name]) => !HOP_BY_HOP.has(name)));
        res.writeHead(answer.status, headers).end(Buffer.from(await answer.arrayBuffer()));
      },
      webSocket: (socket, request) => {
        const query = new URLSearchParams(request.url.slice(request.url.indexOf('?') + 1));
        for (const name of [...query.keys()]) if (name.startsWith('X-Amz-')) query.delete(name);
        const control = new WebSocket(`${server.url.replace(/^http/, 'ws')}/ws?${query}`, { headers: { authorization: `Bearer ${SERVER_TOKEN}` } });
        const waiting: string[] = [];
        control.once('open', () => {
          connected.push(query);
          for (const data of waiting.splice(0)) control.send(data);
        });
        socket.on('message', (data) => (control.readyState === WebSocket.OPEN ? control.send(String(data)) : waiting.push(String(data))));
        control.on('message', (data) => socket.send(String(data)));
        socket.on('close', () => control.close());
        control.on('close', () => socket.close());
        control.on('error', () => socket.terminate());
      },
    });
    proxy = await startSigningProxy({ api: new URL(gateway.url), webSocket: new URL(gateway.webSocketUrl), region: KEY.region, credentials: userCredentials(), port: 0 });
    restOnly = await startSigningProxy({ api: new URL(gateway.url), region: KEY.region, credentials: userCredentials(), port: 0, log: () => undefined });
    browser = await launchTestChromium(executable as { path: string });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, CHROMIUM_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await restOnly?.close();
    await gateway?.close();
    await server?.close();
    await runtime?.stop();
    vi.unstubAllEnvs();
  });

  it('logs in with the proxy’s token, lists experiments through signed calls, and follows a new one live to completed', async () => {
    const opened = await loggedIn(browser, proxy.url, proxy.token, { timeoutMs: UI_TIMEOUT_MS });
    const { page } = opened;
    // The page's live feed for every experiment, through the proxy and the gateway, taken by the control plane.
    await vi.waitFor(() => expect(connected.some((query) => query.get('experimentId') === '*')).toBe(true), { timeout: UI_TIMEOUT_MS });

    const created = await fetch(`${proxy.url}/api/chaos/experiments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${proxy.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'signed-and-watched', chaos_type: 'pod_delete', target: { provider: 'memory', labels: { app: 'demo' } }, parameters: { duration_seconds: 1 }, safety: { max_blast_radius: 1 } }),
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };

    // No reload: the list hears the experiment start and end over the WebSocket, and reads it again.
    const row = page.locator(`tr[data-id="${id}"]`);
    await row.locator('[data-status="completed"]').waitFor();
    expect(await row.textContent()).toContain('signed-and-watched');
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-signed.png`, fullPage: true });

    // Every call the page made reached the gateway signed: the OpenAPI document it reads its routes from, and the list.
    const paths = gateway.accepted.map((request) => request.url.split('?')[0]);
    expect(paths).toEqual(expect.arrayContaining(['/v1/openapi.json', '/v1/api/chaos/experiments']));
    expect(gateway.refused).toEqual([]);
    expectClean(opened, proxy.url);
    await opened.context.close();
  });

  it('says once that there is no live progress through a proxy without --ws, opens no WebSocket, and reads an experiment page every few seconds', async () => {
    const opened = await loggedIn(browser, restOnly.url, restOnly.token, { timeoutMs: UI_TIMEOUT_MS });
    const { page } = opened;
    expect(await page.locator('.live-notice').textContent()).toContain('start chaosduck dashboard with --ws');
    const created = await fetch(`${restOnly.url}/api/chaos/experiments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${restOnly.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'signed-and-polled', chaos_type: 'pod_delete', target: { provider: 'memory', labels: { app: 'demo' } }, parameters: { duration_seconds: 2 }, safety: { max_blast_radius: 1 } }),
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };

    await page.goto(`${restOnly.url}/#/experiments/${id}`);
    await page.locator('.experiment-status [data-status="completed"]').waitFor();
    expect(opened.requests.filter((url) => url.startsWith('ws:'))).toEqual([]);
    expectClean(opened, restOnly.url);
    await opened.context.close();
  });
});
