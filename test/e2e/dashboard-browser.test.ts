/**
 * The web dashboard as a person uses it, in a REAL headless Chromium (test/support/chromium.ts) against the local
 * server (`chaosduck serve`'s, started in-process on a free port with the embedded runtime and the sandbox): the page
 * served without the token under its Content-Security-Policy, the login (a wrong token refused, saying so), the tabs.
 * Every page asks nothing of any other server and logs no error. A screenshot of each tab is kept in
 * test/artifacts/dashboard-*.png.
 */
import { mkdirSync } from 'node:fs';
import { STATUS_CODES, request } from 'node:http';
import { resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_CSP } from '../../local/dashboard.js';
import { LocalRuntime } from '../../local/runtime.js';
import { createSandboxDriver } from '../../local/sandbox/driver.js';
import { startSandbox, type Sandbox } from '../../local/sandbox/sandbox.js';
import { startServer, type LocalServer } from '../../local/server.js';
import { CHROMIUM_SETUP_TIMEOUT_MS, chromiumExecutable, launchTestChromium } from '../support/chromium.js';

const TOKEN = 'test-token-dashboard';
const ARTIFACTS = resolve('test/artifacts');
/** How long the page may take to show something on a busy machine. */
const UI_TIMEOUT_MS = 20_000;

const executable = chromiumExecutable();
const skip = 'skip' in executable ? executable.skip : undefined;
if (skip) console.warn(`dashboard browser tests skipped: ${skip}`);

/** A request exactly as written (fetch would tidy `..` away), without the token. */
function rawGet(base: string, path: string): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((done, fail) => {
    const req = request(`${base}/`, { path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end();
  });
}

describe.skipIf(skip !== undefined)('the web dashboard in a real browser', () => {
  let sandbox: Sandbox;
  let runtime: LocalRuntime;
  let server: LocalServer;
  let browser: Browser;

  beforeAll(async () => {
    sandbox = await startSandbox({ replicas: 3, restartDelayMs: 100 });
    runtime = await LocalRuntime.start({ drivers: [createSandboxDriver(sandbox)] });
    server = await startServer({ runtime, token: TOKEN, port: 0, sandboxUrl: sandbox.url });
    browser = await launchTestChromium(executable as { path: string });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, CHROMIUM_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await runtime?.stop();
    await sandbox?.stop();
  });

  /** A fresh browser tab on the dashboard, noting every console error and every request it makes. */
  async function openDashboard(): Promise<{ context: BrowserContext; page: Page; problems: string[]; requests: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
    context.on('request', (req) => requests.push(req.url()));
    await page.goto(`${server.url}/`, { waitUntil: 'load' });
    return { context, page, problems, requests };
  }

  /**
   * Nothing was asked of any server but ours (the WebSocket included), and the page logged no error. Chromium logs each
   * answer of 400 or more on the console itself ("Failed to load resource"); those the scenario asked for are named.
   */
  function expectClean({ problems, requests }: { problems: string[]; requests: string[] }, expectedStatuses: number[] = []): void {
    const origin = new URL(server.url);
    const elsewhere = requests.filter((url) => {
      const parsed = new URL(url);
      return !(parsed.host === origin.host && ['http:', 'ws:'].includes(parsed.protocol)) && !url.startsWith(`blob:${server.url}/`);
    });
    expect(elsewhere).toEqual([]);
    const expected = (problem: string) => expectedStatuses.some((status) => problem === `error: Failed to load resource: the server responded with a status of ${status} (${STATUS_CODES[status]})`);
    expect(problems.filter((problem) => !expected(problem))).toEqual([]);
  }

  async function logIn(page: Page, token = TOKEN): Promise<void> {
    await page.getByLabel('Bearer token').fill(token);
    await page.getByRole('button', { name: 'Log in' }).click();
  }

  it('serves the page and its assets without the token, under a strict policy, and nothing else', async () => {
    for (const [path, type] of [
      ['/', 'text/html; charset=utf-8'],
      ['/index.html', 'text/html; charset=utf-8'],
      ['/assets/app.js', 'text/javascript; charset=utf-8'],
      ['/assets/app.css', 'text/css; charset=utf-8'],
    ] as const) {
      const answer = await fetch(`${server.url}${path}`);
      expect(answer.status, path).toBe(200);
      expect(answer.headers.get('content-type'), path).toBe(type);
      expect(answer.headers.get('content-security-policy'), path).toBe(DASHBOARD_CSP);
      expect(answer.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
    expect(DASHBOARD_CSP).toMatch(/^default-src 'self'; script-src 'self';/);
    expect(DASHBOARD_CSP).toContain("connect-src 'self' ws: wss:");
    const page = await (await fetch(`${server.url}/`)).text();
    // No inline script: every script is a file of the bundle.
    expect([...page.matchAll(/<script\b([^>]*)>([^<]*)<\/script>/g)].map(([, attributes, body]) => ({ src: /src="assets\//.test(attributes ?? ''), body }))).toEqual([
      { src: true, body: '' },
    ]);

    // Anything else under /assets, or beyond it, is the API's: the token is asked for, no file is read.
    for (const path of ['/assets/nothing.js', '/assets/../package.json', '/assets/..%2f..%2fpackage.json', '/assets/%2e%2e/%2e%2e/package.json', '/assets/', '/index.htm']) {
      const answer = await rawGet(server.url, path);
      expect(answer.status, path).toBe(401);
      expect(answer.body, path).not.toContain('chaosduck-serverless');
    }
    const withToken = await fetch(`${server.url}/assets/nothing.js`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(withToken.status).toBe(404);
    // The rest of the API still needs the token, as before.
    expect((await fetch(`${server.url}/api/chaos/experiments`)).status).toBe(401);
  });

  it('refuses a wrong token with a message, logs in with the right one, and shows each tab', async () => {
    const opened = await openDashboard();
    const { page } = opened;

    await logIn(page, 'not-the-token');
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: UI_TIMEOUT_MS }).toMatch(/That token was refused/);
    expect(await page.getByLabel('Bearer token').getAttribute('aria-invalid')).toBe('true');
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-login.png` });

    await logIn(page);
    await page.getByRole('heading', { name: 'Experiments' }).waitFor();
    expect(await page.getByRole('link', { name: 'Experiments' }).getAttribute('aria-current')).toBe('page');
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-experiments.png`, fullPage: true });

    await page.getByRole('link', { name: 'Topology' }).click();
    await page.getByRole('heading', { name: 'Topology' }).waitFor();
    expect(page.url()).toMatch(/#\/topology$/);
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-topology.png`, fullPage: true });

    await page.getByRole('link', { name: 'Analysis' }).click();
    await page.getByRole('heading', { name: 'Analysis' }).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-analysis.png`, fullPage: true });

    // The token is kept for this tab: a reload stays logged in, on the same tab.
    await page.reload({ waitUntil: 'load' });
    await page.getByRole('heading', { name: 'Analysis' }).waitFor();
    expect(await page.getByLabel('Bearer token').count()).toBe(0);

    expectClean(opened, [401]);
    await opened.context.close();
  });

  it('sends the person back to log in, saying why, when the saved token is refused', async () => {
    const opened = await openDashboard();
    const { page } = opened;
    await page.evaluate(() => sessionStorage.setItem('chaosduck.token', 'a-stale-token'));

    await page.reload({ waitUntil: 'load' });

    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: UI_TIMEOUT_MS }).toMatch(/That token was refused/);
    expect(await page.evaluate(() => sessionStorage.getItem('chaosduck.token'))).toBeNull();
    await opened.context.close();
  });
});
