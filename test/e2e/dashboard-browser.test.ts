/**
 * The web dashboard as a person uses it, in a REAL headless Chromium (test/support/chromium.ts) against the local
 * server (`chaosduck serve`'s, started in-process on a free port with the embedded runtime and the sandbox): the page
 * served without the token under its Content-Security-Policy, the login (a wrong token refused, saying so), the tabs.
 * Every page asks nothing of any other server and logs no error. A screenshot of each tab is kept in
 * test/artifacts/dashboard-*.png.
 */
import { mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_CSP } from '../../local/dashboard.js';
import { LocalRuntime } from '../../local/runtime.js';
import { createSandboxDriver } from '../../local/sandbox/driver.js';
import { startSandbox, type Sandbox } from '../../local/sandbox/sandbox.js';
import { startServer, type LocalServer } from '../../local/server.js';
import { apiClient } from '../support/api-client.js';
import { CHROMIUM_SETUP_TIMEOUT_MS, chromiumExecutable, launchTestChromium } from '../support/chromium.js';
import { expectClean as expectCleanAt, loggedIn as logInFresh, logIn as typeToken, openDashboard as open, type OpenedDashboard } from '../support/dashboard-page.js';

const TOKEN = 'test-token-dashboard';
const ARTIFACTS = resolve('test/artifacts');
/** How long the page may take to show something on a busy machine. */
const UI_TIMEOUT_MS = 20_000;
/** How long an experiment of 30 s may take to end on a busy machine. */
const RUN_TIMEOUT_MS = 120_000;

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

/** The new-experiment form's inputs are named by the API's field paths: `#f-parameters-latency_ms`. */
const input = (page: Page, path: string) => page.locator(`#f-${path.replace(/[^\w-]+/g, '-')}`);

/** Fills the form as a person would: a latency fault on one sandbox replica, watched by an http probe. */
async function fillLatencyExperiment(page: Page, sandboxUrl: string, values: Record<string, string> = {}): Promise<void> {
  await page.getByRole('link', { name: 'New experiment' }).click();
  await page.getByRole('heading', { name: 'New experiment' }).waitFor();
  await input(page, 'chaos_type').selectOption('network_latency');
  await page.getByRole('button', { name: 'Add a probe' }).click();
  const fields: Record<string, string> = {
    name: 'dashboard-latency',
    'target.provider': 'sandbox',
    'target.labels': 'app=demo',
    'parameters.latency_ms': '200',
    // Long enough to be still running while the test looks at it on a busy machine (the run limit is 90 s).
    'parameters.duration_seconds': '30',
    'safety.max_blast_radius': '1',
    'safety.health_check_interval': '1',
    'probes[0].name': 'answers',
    'probes[0].properties.url': `${sandboxUrl}/health`,
    'probes[0].properties.max_latency_ms': '3000',
    ...values,
  };
  for (const [path, value] of Object.entries(fields)) await input(page, path).fill(value);
}

describe.skipIf(skip !== undefined)('the web dashboard in a real browser', () => {
  let sandbox: Sandbox;
  let runtime: LocalRuntime;
  let server: LocalServer;
  let browser: Browser;
  const call = apiClient(() => server.url, TOKEN);

  /** Starts a long sandbox latency experiment per name and waits until each is in OBSERVE, its fault in place. */
  const runningUnderFault = async (names: string[]): Promise<string[]> => {
    const ids: string[] = [];
    for (const name of names) {
      const answer = await call('POST', '/api/chaos/experiments', {
        name,
        chaos_type: 'network_latency',
        target: { provider: 'sandbox', labels: { app: 'demo' } },
        parameters: { latency_ms: 50, duration_seconds: 120 },
        safety: { timeout_seconds: 300, max_blast_radius: 1, health_check_interval: 1 },
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(202);
      ids.push(answer.body.id);
    }
    await expect
      .poll(async () => Promise.all(ids.map(async (id) => (await call('GET', `/api/chaos/experiments/${id}`)).body.phase)), { timeout: RUN_TIMEOUT_MS })
      .toEqual(names.map(() => 'OBSERVE'));
    return ids;
  };
  /** Every experiment stored, newest first. */
  const stored = async () => {
    const { body } = await call('GET', '/api/chaos/experiments?limit=100');
    return body.items as { id: string; name: string; status: string }[];
  };

  beforeAll(async () => {
    sandbox = await startSandbox({ replicas: 3, restartDelayMs: 100 });
    runtime = await LocalRuntime.start({ drivers: [createSandboxDriver(sandbox)] });
    server = await startServer({ runtime, token: TOKEN, port: 0, sandbox });
    browser = await launchTestChromium(executable as { path: string });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, CHROMIUM_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await runtime?.stop();
    await sandbox?.stop();
  });

  const openDashboard = () => open(browser, server.url, { timeoutMs: UI_TIMEOUT_MS });
  /** The dashboard, logged in, on its Experiments tab. */
  const loggedIn = () => logInFresh(browser, server.url, TOKEN, { timeoutMs: UI_TIMEOUT_MS });
  const logIn = (page: Page, token = TOKEN) => typeToken(page, token);
  const expectClean = (opened: OpenedDashboard, expectedStatuses: number[] = []) => expectCleanAt(opened, server.url, expectedStatuses);

  it('serves the page and its assets without the token, under a strict policy, and nothing else', async () => {
    for (const [path, type] of [
      ['/', 'text/html; charset=utf-8'],
      ['/index.html', 'text/html; charset=utf-8'],
      ['/assets/app.js', 'text/javascript; charset=utf-8'],
      ['/assets/app.css', 'text/css; charset=utf-8'],
      ['/assets/favicon.svg', 'image/svg+xml'],
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

    // Anything else under /assets is no file (404), beyond it the API's (the token is asked for): no file is read either way.
    for (const path of ['/assets/nothing.js', '/assets/../package.json', '/assets/..%2f..%2fpackage.json', '/assets/%2e%2e/%2e%2e/package.json', '/assets/', '/index.htm']) {
      const answer = await rawGet(server.url, path);
      expect([401, 404], path).toContain(answer.status);
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

    // By keyboard alone: the token field has the focus, Enter logs in.
    await page.getByLabel('Bearer token').fill('');
    await page.keyboard.type(TOKEN);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Experiments' }).waitFor();
    expect(await page.getByRole('link', { name: 'Experiments' }).getAttribute('aria-current')).toBe('page');
    // The new view's heading has the focus, not <body>.
    await expect.poll(() => page.locator(':focus').getAttribute('id'), { timeout: UI_TIMEOUT_MS }).toBe('experiments-title');

    await page.screenshot({ path: `${ARTIFACTS}/dashboard-experiments.png`, fullPage: true });

    await page.getByRole('link', { name: 'Topology' }).click();
    await page.getByRole('heading', { name: 'Topology' }).waitFor();
    expect(page.url()).toMatch(/#\/topology$/);
    // The Topology and Analysis tabs' screenshots come from test/e2e/dashboard-topology.test.ts, with data in them.

    await page.getByRole('link', { name: 'Analysis' }).click();
    await page.getByRole('heading', { name: 'Analysis' }).waitFor();

    // The token is kept for this tab: a reload stays logged in, on the same tab.
    await page.reload({ waitUntil: 'load' });
    await page.getByRole('heading', { name: 'Analysis' }).waitFor();
    expect(await page.getByLabel('Bearer token').count()).toBe(0);

    // Logged in again by the reload: the tab's heading has the focus.
    await expect.poll(() => page.locator(':focus').getAttribute('id'), { timeout: UI_TIMEOUT_MS }).toBe('analysis-title');
    // From the skip link (the page's first stop), the tabs and the emergency stop are reached with Tab; Escape closes the
    // stop's dialog without raising it.
    await page.getByRole('link', { name: 'Skip to content' }).focus();
    const reached: string[] = [((await page.locator(':focus').textContent()) ?? '').trim()];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      reached.push(((await page.locator(':focus').textContent()) ?? '').trim());
    }
    expect(reached).toEqual(['Skip to content', 'Experiments', 'Topology', 'Analysis', '■ Emergency stop']);
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Raise the emergency stop?' }).waitFor();
    expect(await page.locator(':focus').getAttribute('id')).toBe('estop-reason');
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    // Skip to content: the focus to the page's content, the place in the dashboard kept.
    await page.getByRole('link', { name: 'Skip to content' }).focus();
    await page.keyboard.press('Enter');
    expect(await page.locator(':focus').getAttribute('id')).toBe('main');
    expect(page.url()).toMatch(/#\/analysis$/);
    expect((await call('GET', '/health')).body.emergency_stop).toMatchObject({ active: false });

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

  it('keeps the saved token when the API cannot be reached at a reload (a 502), saying what went wrong', async () => {
    const opened = await loggedIn();
    const { page } = opened;
    // The API behind the page answers 502 (the proxy's answer when it cannot reach AWS); only the page is served.
    await page.route('**/openapi.json', (route) => route.fulfill({ status: 502, contentType: 'application/json', body: '{"error":{"code":"BAD_GATEWAY","message":"the API could not be reached"}}' }));
    await page.reload({ waitUntil: 'load' });

    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: UI_TIMEOUT_MS }).toMatch(/could not check the token: the API could not be reached.*The saved token is kept/);
    expect(await page.evaluate(() => sessionStorage.getItem('chaosduck.token'))).toBe(TOKEN);

    // Back: a reload logs in with it.
    await page.unroute('**/openapi.json');
    await page.reload({ waitUntil: 'load' });
    await page.getByRole('heading', { name: 'Experiments' }).waitFor();
    expectClean(opened, [502]);
    await opened.context.close();
  });

  it('sends the person back to log in, saying why, when the server refuses the token later (restarted with a new one)', async () => {
    const opened = await loggedIn();
    const { page } = opened;
    await page.getByRole('link', { name: 'Topology' }).click();
    // The same server, restarted with another token (one server at a time: each has its WebSocket gateway on the runtime).
    const restart = async (token: string) => {
      const { port } = new URL(server.url);
      await server.close();
      server = await startServer({ runtime, token, port: Number(port), sandbox });
    };
    await restart('a-new-token');
    try {
      await page.getByRole('link', { name: 'Experiments' }).click();

      await expect.poll(() => page.getByRole('alert').textContent(), { timeout: UI_TIMEOUT_MS }).toMatch(/The server refused the token .*log in again/);
      await page.getByLabel('Bearer token').waitFor();
      expect(await page.evaluate(() => sessionStorage.getItem('chaosduck.token'))).toBeNull();
    } finally {
      await opened.context.close();
      await restart(TOKEN);
    }
  });

  it('follows an experiment again after the feed drops (the server restarted): reconnecting, then live, nothing missed', async () => {
    const opened = await loggedIn();
    const { page } = opened;
    const answer = await call('POST', '/api/chaos/experiments', {
      name: 'dropped-feed',
      chaos_type: 'network_latency',
      target: { provider: 'sandbox', labels: { app: 'demo' } },
      parameters: { latency_ms: 50, duration_seconds: 30 },
      safety: { timeout_seconds: 60, max_blast_radius: 1, health_check_interval: 1 },
      probes: [{ name: 'answers', type: 'http', properties: { url: `${sandbox.url}/health` } }],
    });
    expect(answer.status).toBe(202);
    await page.goto(`${server.url}/#/experiments/${answer.body.id}`);
    await page.locator('[data-status="live"]').waitFor();

    // The server goes (the experiment runs on in the runtime) and comes back at the same address.
    const { port } = new URL(server.url);
    await server.close();
    await page.locator('[data-status="reconnecting"]').waitFor();
    server = await startServer({ runtime, token: TOKEN, port: Number(port), sandbox });

    await page.locator('.experiment-status [data-status="completed"]').waitFor({ timeout: RUN_TIMEOUT_MS });
    await page.locator('tr[data-seq="1"] [data-status="done"]').waitFor();
    // Every check is charted, those made while the feed was down too: one before the fault, each tick, one after.
    const { body } = await call('GET', `/api/chaos/experiments/${answer.body.id}`);
    const checks = body.journal.steady_states.during.length + 2;
    await expect.poll(() => page.locator('.probe-chart [data-point]').count(), { timeout: UI_TIMEOUT_MS }).toBe(checks);
    await opened.context.close();
  }, 2 * RUN_TIMEOUT_MS);

  it('creates a sandbox experiment from the form, previews its targets, follows it live to completed, and opens its report', async () => {
    const opened = await loggedIn();
    const { page } = opened;
    await fillLatencyExperiment(page, sandbox.url);

    // The dry run: exactly which target it would hit.
    await page.getByRole('button', { name: 'Check and preview (dry run)' }).click();
    const planned = page.locator('section.plan li[data-target]');
    await planned.first().waitFor();
    expect(await planned.count()).toBe(1);
    expect(await planned.first().getAttribute('data-target')).toMatch(/^sandbox\/demo\/replica-\d$/);
    expect(opened.posts.filter((post) => post.url === '/api/chaos/experiments')).toEqual([]);
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-new-experiment.png`, fullPage: true });

    await page.getByRole('button', { name: 'Start the experiment' }).click();
    await page.waitForURL(/#\/experiments\/exp-[\w-]+$/);
    const id = decodeURIComponent(page.url().split('/').at(-1) as string);

    // Live: the fault in place while OBSERVE runs, its checks charted as they arrive, then the end.
    await page.locator('li[data-phase="OBSERVE"][data-state="running"]').waitFor({ timeout: RUN_TIMEOUT_MS });
    expect(await page.locator('li[data-phase="INJECT"]').getAttribute('data-state')).toBe('done');
    await expect.poll(() => page.locator('.probe-chart [data-point]').count(), { timeout: RUN_TIMEOUT_MS }).toBeGreaterThanOrEqual(3);
    expect(await page.locator('tr[data-seq="1"] [data-status]').getAttribute('data-status')).toBe('pending');
    expect(await page.locator('tr[data-seq="1"] td').nth(1).textContent()).toBe('remove_proxy_fault');
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-experiment-running.png`, fullPage: true });
    await page.locator('.experiment-status [data-status="completed"]').waitFor({ timeout: RUN_TIMEOUT_MS });
    await expect.poll(() => page.locator('li[data-phase] [data-status]').evaluateAll((tags) => tags.map((tag) => tag.getAttribute('data-status'))), { timeout: UI_TIMEOUT_MS }).toEqual([
      'done', 'done', 'done', 'done', 'done',
    ]);
    await page.locator('tr[data-seq="1"] [data-status="done"]').waitFor();
    expect(await page.getByRole('img', { name: /^answers: latency of each check/ }).count()).toBe(1);

    // Submitted once, with an Idempotency-Key; stored as it ran.
    const created = opened.posts.filter((post) => post.url === '/api/chaos/experiments');
    expect(created).toHaveLength(1);
    expect(created[0]?.headers['idempotency-key']).toMatch(/^[0-9a-f]{32}$/);
    expect((await call('GET', `/api/chaos/experiments/${id}`)).body).toMatchObject({ name: 'dashboard-latency', status: 'completed' });

    // The journal, and the report in a sandboxed frame and in a tab of its own.
    await page.getByText('The journal (JSON)').click();
    expect(await page.locator('details pre').textContent()).toContain('"status": "completed"');
    await page.getByRole('button', { name: 'Show the report' }).click();
    const report = page.frameLocator('iframe.report');
    await report.getByRole('img', { name: /^dashboard-latency: timeline/ }).waitFor();
    expect(await page.locator('iframe.report').getAttribute('sandbox')).toBe('');
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-experiment.png`, fullPage: true });
    const [tab] = await Promise.all([opened.context.waitForEvent('page'), page.getByRole('link', { name: 'Open the report in a new tab' }).click()]);
    await tab.getByRole('img', { name: /^answers: latency of each check/ }).first().waitFor();

    // The list shows it, filtered by its status and chaos type.
    await page.getByRole('link', { name: '← Experiments' }).click();
    await page.locator('#filter-status').selectOption('completed');
    await page.locator('#filter-chaos-type').selectOption('network_latency');
    await page.locator(`tr[data-id="${id}"]`).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-experiments.png`, fullPage: true });
    await page.locator('#filter-chaos-type').selectOption('pod_delete');
    await page.getByText('No experiment matches these filters').waitFor();

    expectClean(opened);
    await opened.context.close();
  }, 2 * RUN_TIMEOUT_MS);

  it('only checks on Enter in a field (a dry run, nothing started), and keeps what was typed while another tab is looked at', async () => {
    const opened = await loggedIn();
    const { page } = opened;
    const before = (await stored()).length;
    await fillLatencyExperiment(page, sandbox.url, { name: 'entered-not-started' });

    await input(page, 'name').press('Enter');
    await page.locator('section.plan li[data-target]').first().waitFor();
    expect(opened.posts.map((post) => post.url)).toEqual(['/api/chaos/dry-run']);
    expect((await stored()).length).toBe(before);

    // To the Topology tab (the dry run's target ringed there) and back: the form as it was left.
    await page.getByRole('link', { name: 'Topology' }).click();
    await page.getByRole('heading', { name: 'Topology', exact: true }).waitFor();
    await page.goBack();
    await page.getByRole('heading', { name: 'New experiment' }).waitFor();
    expect(await input(page, 'name').inputValue()).toBe('entered-not-started');
    expect(await input(page, 'parameters.latency_ms').inputValue()).toBe('200');

    // "New experiment" from the list is a fresh form.
    await page.getByRole('link', { name: 'Experiments', exact: true }).click();
    await page.getByRole('link', { name: 'New experiment' }).click();
    await page.getByRole('heading', { name: 'New experiment' }).waitFor();
    expect(await input(page, 'name').inputValue()).toBe('');
    expect(opened.posts.filter((post) => post.url === '/api/chaos/experiments')).toEqual([]);
    expectClean(opened);
    await opened.context.close();
  });

  it('shows each field the API refuses beside its input, and what it refuses as a whole at the top, and submits nothing', async () => {
    const before = await stored();
    const opened = await loggedIn();
    const { page } = opened;
    await fillLatencyExperiment(page, sandbox.url, {
      name: 'dashboard-refused',
      'parameters.latency_ms': 'fast',
      'safety.max_blast_radius': '2',
      'probes[0].properties.url': 'not-a-url',
    });

    await page.getByRole('button', { name: 'Start the experiment' }).click();

    await page.locator('#f-parameters-latency_ms-error').waitFor();
    expect(await page.locator('#f-parameters-latency_ms-error').textContent()).toMatch(/expected number, received string/);
    expect(await input(page, 'parameters.latency_ms').getAttribute('aria-invalid')).toBe('true');
    expect(await input(page, 'parameters.latency_ms').getAttribute('aria-describedby')).toBe('f-parameters-latency_ms-error');
    expect(await page.locator('#f-safety-max_blast_radius-error').textContent()).toMatch(/expected number to be <=1/);
    expect(await page.locator('#f-probes-0-properties-url-error').textContent()).toMatch(/must be an http or https URL/);
    expect(await page.getByRole('alert').first().textContent()).toMatch(/The API refused 3 fields/);
    // The fields the API took are not marked.
    expect(await input(page, 'name').getAttribute('aria-invalid')).toBeNull();
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-form-errors.png`, fullPage: true });

    // Fixed, but aimed at nothing: the guardrail's refusal, at the top.
    await input(page, 'parameters.latency_ms').fill('200');
    await input(page, 'safety.max_blast_radius').fill('1');
    await input(page, 'probes[0].properties.url').fill(`${sandbox.url}/health`);
    await input(page, 'target.labels').fill('app=nobody');
    await page.getByRole('button', { name: 'Start the experiment' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent(), { timeout: UI_TIMEOUT_MS }).toMatch(/no target matches/);
    expect(await page.locator('.field-error').count()).toBe(0);

    // The same experiment as text, and back: nothing lost.
    await page.getByRole('button', { name: 'YAML / JSON' }).click();
    expect(await page.getByLabel(/The experiment, as YAML or JSON/).inputValue()).toMatch(/chaos_type: network_latency[\s\S]*app: nobody/);
    await page.getByRole('button', { name: 'Form' }).click();
    expect(await input(page, 'target.labels').inputValue()).toBe('app=nobody');

    expect(opened.posts.filter((post) => post.url === '/api/chaos/experiments')).toEqual([]);
    expect(await stored()).toEqual(before);
    expectClean(opened, [400, 409]);
    await opened.context.close();
  });

  it('raises the emergency stop with two experiments running, shows both rolling back live, and lifts it', async () => {
    const ids = await runningUnderFault(['held-one', 'held-two']);
    const opened = await loggedIn();
    const { page } = opened;

    await page.getByRole('button', { name: 'Emergency stop' }).click();
    const dialog = page.getByRole('dialog', { name: 'Raise the emergency stop?' });
    await dialog.getByLabel('Reason').fill('dashboard test: game day over');
    await dialog.getByRole('button', { name: 'Stop everything' }).click();

    const panel = page.getByRole('region', { name: 'Emergency stop on' });
    await panel.waitFor();
    expect(await panel.textContent()).toContain('“dashboard test: game day over”');
    for (const id of ids) await panel.locator(`li[data-id="${id}"] [data-status="emergency_stopped"]`).waitFor({ timeout: RUN_TIMEOUT_MS });
    expect(await panel.locator('li[data-id]').count()).toBe(2);
    expect(await panel.locator(`li[data-id="${ids[0]}"]`).textContent()).toMatch(/held-one.*emergency stopped.*1 rollback step/);
    // The list below follows too.
    for (const id of ids) await page.locator(`tr[data-id="${id}"] [data-status="emergency_stopped"]`).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-emergency-stop.png`, fullPage: true });
    expect((await call('GET', '/health')).body.emergency_stop).toMatchObject({ active: true, reason: 'dashboard test: game day over' });
    for (const id of ids) expect((await call('GET', `/api/chaos/experiments/${id}`)).body.status).toBe('emergency_stopped');

    await panel.getByRole('button', { name: 'Lift the emergency stop' }).click();
    await panel.waitFor({ state: 'detached' });
    expect((await call('GET', '/health')).body.emergency_stop).toMatchObject({ active: false });

    expectClean(opened);
    await opened.context.close();
  }, 2 * RUN_TIMEOUT_MS);

  it('shows the stop’s rollbacks ended after a feed that missed their end comes back', async () => {
    const opened = await openDashboard();
    const { page } = opened;
    // The page's WebSocket through a relay that can go deaf (the server's messages dropped) and drop the connection.
    let deaf = false;
    const relayed: { close(): Promise<void> }[] = [];
    await page.routeWebSocket(/\/ws\?/, (ws) => {
      const upstream = ws.connectToServer();
      upstream.onMessage((message) => {
        if (!deaf) ws.send(message);
      });
      relayed.push(ws);
    });
    await logIn(page);
    await page.getByRole('heading', { name: 'Experiments' }).waitFor();

    const ids = await runningUnderFault(['missed-one', 'missed-two']);

    // Raised from the page while its feed hears nothing: both listed as running, and they end unheard.
    deaf = true;
    await page.getByRole('button', { name: 'Emergency stop' }).click();
    const dialog = page.getByRole('dialog', { name: 'Raise the emergency stop?' });
    await dialog.getByLabel('Reason').fill('missed by the feed');
    await dialog.getByRole('button', { name: 'Stop everything' }).click();
    const panel = page.getByRole('region', { name: 'Emergency stop on' });
    for (const id of ids) await panel.locator(`li[data-id="${id}"]`).waitFor();
    await expect
      .poll(async () => Promise.all(ids.map(async (id) => (await call('GET', `/api/chaos/experiments/${id}`)).body.status)), { timeout: RUN_TIMEOUT_MS })
      .toEqual(['emergency_stopped', 'emergency_stopped']);
    for (const id of ids) expect(await panel.locator(`li[data-id="${id}"] [data-status]`).getAttribute('data-status')).not.toBe('emergency_stopped');

    // The connection drops and comes back: what was missed is read again, for the experiments the stop caught.
    deaf = false;
    for (const ws of relayed.splice(0)) await ws.close();
    for (const id of ids) await panel.locator(`li[data-id="${id}"] [data-status="emergency_stopped"]`).waitFor({ timeout: RUN_TIMEOUT_MS });

    await panel.getByRole('button', { name: 'Lift the emergency stop' }).click();
    await panel.waitFor({ state: 'detached' });
    expectClean(opened);
    await opened.context.close();
  }, 2 * RUN_TIMEOUT_MS);
});
