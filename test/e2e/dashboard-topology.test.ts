/**
 * The dashboard's Topology and Analysis tabs as a person uses them, in a REAL headless Chromium
 * (test/support/chromium.ts) against the local server (`chaosduck serve`'s, in-process on a free port, with the
 * embedded runtime and the sandbox), after two real experiments on the sandbox: one that holds, one that deviates.
 *
 * Topology: the sandbox's service and replicas drawn with their state and the probe readings the runs left; nodes
 * reached and selected by keyboard; the selection filling the new-experiment form's target; the form's dry run ringed
 * in the graph. Analysis: the trend chart with a point per scored experiment (filtered by chaos type), the hypotheses
 * for this control plane with their experiment opened in the form, and a sentence made into an experiment (a prompt
 * it cannot read refused beside its field), shown with what each phrase was read as and its dry run, and opened in
 * the form, never submitted. No page logs an error or asks anything of another server. Screenshots are kept in
 * test/artifacts/dashboard-topology.png and dashboard-analysis.png.
 *
 * The experiments run before Chromium starts, with bounds far from what the sandbox answers in on a busy machine (as
 * test/e2e/report-browser.test.ts): the one that holds tolerates 5 s, the one that deviates adds 2.5 s where its probe
 * tolerates 1.5 s.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime.js';
import { createSandboxDriver } from '../../local/sandbox/driver.js';
import { startSandbox, type Sandbox } from '../../local/sandbox/sandbox.js';
import { startServer, type LocalServer } from '../../local/server.js';
import { apiClient } from '../support/api-client.js';
import { CHROMIUM_SETUP_TIMEOUT_MS, chromiumExecutable, launchTestChromium } from '../support/chromium.js';
import { expectClean as expectCleanAt, loggedIn, type OpenedDashboard } from '../support/dashboard-page.js';

const TOKEN = 'test-token-dashboard-topology';
const ARTIFACTS = resolve('test/artifacts');
/** How long the page may take to show something on a busy machine. */
const UI_TIMEOUT_MS = 30_000;
/** Two experiments of about ten seconds each, a busy machine, and Chromium starting. */
const SETUP_TIMEOUT_MS = CHROMIUM_SETUP_TIMEOUT_MS + 180_000;

const executable = chromiumExecutable();
const skip = 'skip' in executable ? executable.skip : undefined;
if (skip) console.warn(`dashboard topology and analysis browser tests skipped: ${skip}`);

/** A form input by the path of the field it holds, as the form names it (experiments/form.ts). */
const input = (page: Page, path: string) => page.locator(`#f-${path.replace(/[^\w-]+/g, '-')}`);

describe.skipIf(skip !== undefined)('the Topology and Analysis tabs in a real browser', () => {
  let sandbox: Sandbox;
  let runtime: LocalRuntime;
  let server: LocalServer;
  let browser: Browser;
  const call = apiClient(() => server.url, TOKEN);
  const experiments: { held: string; deviated: string } = { held: '', deviated: '' };
  const storedCount = async () => ((await call('GET', '/api/chaos/experiments?limit=100')).body.items as unknown[]).length;

  beforeAll(async () => {
    sandbox = await startSandbox({ replicas: 3, replicaMode: 'in-process', restartDelayMs: 100 });
    runtime = await LocalRuntime.start({ drivers: [createSandboxDriver(sandbox)] });
    server = await startServer({ runtime, token: TOKEN, port: 0, sandbox });
    const probe = (maxLatencyMs: number) => ({
      name: 'demo-answers',
      type: 'http',
      mode: 'continuous',
      properties: { url: `${sandbox.url}/health`, expected_status: 200, max_latency_ms: maxLatencyMs, timeout_ms: 10_000 },
    });
    // One replica killed while the service answers through the others: the hypothesis holds.
    const held = await runtime.run({
      name: 'sandbox-pod-kill',
      chaos_type: 'pod_delete',
      target: { provider: 'sandbox', labels: { app: 'demo' }, selection: 'COUNT(1)' },
      parameters: { duration_seconds: 4 },
      safety: { timeout_seconds: 60, max_blast_radius: 0.5, health_check_interval: 2, health_check_failure_threshold: 2 },
      probes: [probe(5000)],
    });
    expect(held.status, held.reason ?? '').toBe('completed');
    // Every replica 2.5 s slower while the probe tolerates 1.5 s: each check under the fault fails, the run halts.
    const deviated = await runtime.run({
      name: 'sandbox-slow-replicas',
      chaos_type: 'network_latency',
      target: { provider: 'sandbox', labels: { app: 'demo' }, selection: 'ALL' },
      parameters: { latency_ms: 2500, duration_seconds: 12 },
      safety: { timeout_seconds: 90, max_blast_radius: 1, health_check_interval: 1, health_check_failure_threshold: 2 },
      probes: [probe(1500)],
    });
    expect(deviated.deviated, deviated.reason ?? '').toBe(true);
    Object.assign(experiments, { held: held.id, deviated: deviated.id });
    browser = await launchTestChromium(executable as { path: string });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await runtime?.stop();
    await sandbox?.stop();
  });

  /** A fresh browser tab, logged in, on the tab `tab`, noting every console error and every request it makes. */
  async function openTab(tab: 'Topology' | 'Analysis'): Promise<OpenedDashboard> {
    const opened = await loggedIn(browser, server.url, TOKEN, { timeoutMs: UI_TIMEOUT_MS });
    await opened.page.getByRole('link', { name: tab }).click();
    await opened.page.getByRole('heading', { name: tab, exact: true }).waitFor();
    return opened;
  }

  /** Nothing was asked of any server but ours (the WebSocket included), and the page logged no error but those named. */
  const expectClean = (opened: OpenedDashboard, expectedStatuses: number[] = []) => expectCleanAt(opened, server.url, expectedStatuses);

  it('answers the sandbox in GET /api/topology/combined: its service, and each replica with its target id and readiness', async () => {
    const { status, body } = await call('GET', '/api/topology/combined');

    expect(status).toBe(200);
    expect(body).toMatchObject({ aws: null, kubernetes: null, sandbox: { available: true, service: 'demo', url: sandbox.url, labels: { app: 'demo' }, desired_replicas: 3 } });
    expect(body.sandbox.replicas.map((replica: { target: string }) => replica.target).sort()).toEqual(sandbox.replicas().map((target) => target.id).sort());
    expect(body.sandbox.replicas.every((replica: { ready: boolean; labels: Record<string, string> }) => replica.ready && replica.labels.app === 'demo')).toBe(true);
    // The route's description says so, for clients that read the document.
    const { body: document } = await call('GET', '/openapi.json');
    const schema = document.paths['/api/topology/combined'].get.responses['200'].content['application/json'].schema;
    expect(Object.keys(schema.properties).sort()).toEqual(['aws', 'kubernetes', 'sandbox']);
    expect(schema.required.sort()).toEqual(['aws', 'kubernetes']);
  });

  it('draws the sandbox with its signals, selects nodes by keyboard into the form, and rings the dry run’s targets', async () => {
    const opened = await openTab('Topology');
    const { page } = opened;
    const service = page.locator('[data-node="sandbox:demo"]');
    const replicas = page.locator('svg.topology-graph [data-node^="sandbox/demo/"]');

    // The service and its three replicas (one of them the replacement of the one the first run killed), each labelled
    // with its state in words; the service with the steady state the runs read on app=demo.
    await expect.poll(() => replicas.count(), { timeout: UI_TIMEOUT_MS }).toBe(3);
    expect(await service.getAttribute('aria-label')).toMatch(/^sandbox service demo at http:\/\/127\.0\.0\.1:\d+; 3 of 3 ready; steady state (met|not met)/);
    for (const label of await replicas.evaluateAll((nodes) => nodes.map((node) => node.getAttribute('aria-label')))) {
      expect(label).toMatch(/^sandbox replica replica-\d+ of demo .*; ready$/);
    }
    expect(await page.locator('[data-source="sandbox"]').textContent()).toContain('shown');
    expect(await page.locator('[data-source="kubernetes"]').textContent()).toContain('not configured');

    // Focused, the service shows the latest reading of its probe, from the runs.
    await service.focus();
    const details = page.locator('[data-details="sandbox:demo"]');
    await details.getByRole('heading', { name: 'Latest probe readings' }).waitFor();
    const rows = await details.locator('table.signals tbody tr').allTextContents();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.includes('demo-answers (http)') && /HTTP 200 in \d+ ms/.test(row))).toBe(true);
    const linked = await details.locator('table.signals a').evaluateAll((links) => links.map((link) => link.getAttribute('href')));
    expect(linked.every((href) => [experiments.held, experiments.deviated].some((id) => href === `#/experiments/${id}`))).toBe(true);

    // By keyboard: Tab from the service to a replica, Enter selects it; Tab to the next, Enter adds it.
    await page.keyboard.press('Tab');
    const first = await page.locator(':focus').getAttribute('data-node');
    expect(first).toMatch(/^sandbox\/demo\/replica-\d+$/);
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    const second = await page.locator(':focus').getAttribute('data-node');
    expect(second).toMatch(/^sandbox\/demo\/replica-\d+$/);
    await page.keyboard.press('Enter');
    const picked = [first, second].map((id) => String(id).replace('sandbox/demo/', ''));
    for (const id of [first, second]) expect(await page.locator(`[data-node="${id}"]`).getAttribute('aria-pressed')).toBe('true');
    expect(JSON.parse((await page.locator('pre.target-json').textContent()) ?? '')).toEqual({ provider: 'sandbox', pod_names: picked, selection: 'ALL' });

    // The selection fills the form's target; its dry run names exactly those replicas.
    await page.getByRole('button', { name: 'New experiment on this target' }).click();
    await page.getByRole('heading', { name: 'New experiment' }).waitFor();
    expect(page.url()).toMatch(/#\/experiments\/new$/);
    // The form's heading has the focus (not <body>, where the button that went left it).
    await expect.poll(() => page.locator(':focus').getAttribute('id'), { timeout: UI_TIMEOUT_MS }).toBe('new-title');
    expect(await input(page, 'target.provider').inputValue()).toBe('sandbox');
    expect(await input(page, 'target.pod_names').inputValue()).toBe(picked.join(', '));
    expect(await input(page, 'target.selection').inputValue()).toBe('ALL');
    await input(page, 'name').fill('from-the-graph');
    await page.getByRole('button', { name: 'Check and preview (dry run)' }).click();
    await expect.poll(() => page.locator('ul.targets li[data-target]').evaluateAll((items) => items.map((item) => item.getAttribute('data-target')).sort())).toEqual(
      [first, second].sort(),
    );

    // Back in the graph, those two are ringed and say so; the service, whose replicas are drawn, is not.
    await page.getByRole('link', { name: 'Topology' }).click();
    for (const id of [first, second]) {
      await page.locator(`[data-node="${id}"].planned`).waitFor();
      expect(await page.locator(`[data-node="${id}"]`).getAttribute('aria-label')).toMatch(/the latest dry run would hit it$/);
    }
    expect(await page.locator('svg.topology-graph .planned').count()).toBe(2);
    expect(await page.locator('.planned-note').textContent()).toMatch(/would hit 2 targets, ringed in the graph: sandbox\/demo\//);
    await service.focus();
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-topology.png`, fullPage: true });

    // By pointer: a replica, then the service, which starts a new selection (it cannot be one target with a replica).
    await page.locator(`[data-node="${first}"]`).click();
    expect(JSON.parse((await page.locator('pre.target-json').textContent()) ?? '')).toEqual({ provider: 'sandbox', pod_names: [picked[0]] });
    await service.click();
    expect(await page.locator('.selection .notice').textContent()).toMatch(/^A new selection: demo cannot be part of one target/);
    expect(JSON.parse((await page.locator('pre.target-json').textContent()) ?? '')).toEqual({ provider: 'sandbox', labels: { app: 'demo' } });
    await page.getByRole('button', { name: 'New experiment on this target' }).click();
    await page.getByRole('heading', { name: 'New experiment' }).waitFor();
    expect(await input(page, 'target.labels').inputValue()).toBe('app=demo');
    // The new target in place of the old one; what else was typed is kept.
    expect(await input(page, 'name').inputValue()).toBe('from-the-graph');
    expect(await input(page, 'target.pod_names').inputValue()).toBe('');
    expect(await input(page, 'target.selection').inputValue()).toBe('');

    expectClean(opened);
    await opened.context.close();
  });

  it('charts the resilience trend, lists hypotheses, and drafts experiments from them and from a sentence, submitting none', async () => {
    const trend = (await call('GET', '/api/analysis/resilience-trend')).body.items as { experiment_id: string; chaos_type: string }[];
    expect(trend.map((point) => point.experiment_id).sort()).toEqual([experiments.held, experiments.deviated].sort());
    const before = await storedCount();
    const opened = await openTab('Analysis');
    const { page } = opened;

    // A point per scored experiment, the deviated one in red; the summary beside it.
    const points = page.locator('.trend-chart svg [data-point]');
    await expect.poll(() => points.count(), { timeout: UI_TIMEOUT_MS }).toBe(2);
    expect(await page.locator('.trend-chart svg [data-point="failed"]').count()).toBe(1);
    expect(await page.getByRole('img', { name: 'Resilience score over time' }).count()).toBe(1);
    expect(await page.locator('[data-fact="count"]').textContent()).toBe('2');
    await page.getByLabel('Chaos type').selectOption('pod_delete');
    await expect.poll(() => points.count()).toBe(1);
    expect(await page.locator('.trend-chart svg [data-point="ok"] title').textContent()).toContain(experiments.held);
    await page.getByLabel('Chaos type').selectOption('');
    await expect.poll(() => points.count()).toBe(2);

    // Hypotheses for this control plane (the sandbox), by the offline rules, each with its experiment.
    const hypothesis = page.locator('ol.hypotheses li', { has: page.getByRole('heading', { name: 'the sandbox service loses a replica' }) });
    await hypothesis.waitFor();
    expect(await page.locator('section[aria-labelledby="hypotheses-title"] .answerer').getAttribute('data-source')).toBe('rules');
    expect(await hypothesis.textContent()).toMatch(/likelihood medium.*impact medium/);

    // A prompt the rules cannot read is refused beside its field, and nothing is drafted.
    const prompt = page.getByLabel('Describe the experiment');
    await prompt.fill('make it interesting');
    await page.getByRole('button', { name: 'Write the experiment' }).click();
    await expect.poll(() => page.locator('#nl-problem').textContent()).toMatch(/could not understand: which fault to inject/);
    expect(await prompt.getAttribute('aria-invalid')).toBe('true');

    // A sentence: what each phrase was read as, the experiment, its dry run (or what refused it), as the API answers.
    const sentence = 'add 300ms latency to one sandbox replica for 5 seconds';
    const { body: expected } = await call('POST', '/api/analysis/nl-experiment', { prompt: sentence });
    await prompt.fill(sentence);
    await page.getByRole('button', { name: 'Write the experiment' }).click();
    await page.locator('.nl-answer').waitFor();
    expect(await prompt.getAttribute('aria-invalid')).toBeNull();
    expect(await page.locator('ul.understood li').allTextContents()).toEqual(expected.understood);
    expect(await page.locator('.nl-answer .answerer').getAttribute('data-source')).toBe('rules');
    expect(await page.locator('pre.nl-experiment').textContent()).toContain('chaos_type: network_latency');
    if (expected.dry_run) {
      expect(await page.locator('.nl-answer ul.targets li').count()).toBe((expected.dry_run.targets as unknown[]).length);
    } else {
      expect(await page.locator('.nl-answer .problem').textContent()).toContain(expected.refused.message);
    }
    // From the top: the header stays on top of the page, and a full-page picture taken scrolled down would cover it.
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-analysis.png`, fullPage: true });

    // Opened in the form, to be checked and started there; nothing was submitted.
    await page.getByRole('button', { name: 'Open this experiment in the form' }).click();
    await page.getByRole('heading', { name: 'New experiment' }).waitFor();
    expect(await input(page, 'name').inputValue()).toBe('demo-network-latency');
    expect(await page.locator('#f-chaos_type').inputValue()).toBe('network_latency');
    expect(await input(page, 'parameters.latency_ms').inputValue()).toBe('300');

    // So is the hypothesis' experiment, with a probe on the sandbox's own address.
    await page.getByRole('link', { name: 'Analysis' }).click();
    await hypothesis.getByRole('button', { name: /experiment in the form$/ }).click();
    await page.getByRole('heading', { name: 'New experiment' }).waitFor();
    expect(await input(page, 'name').inputValue()).toBe('sandbox-pod-delete');
    expect(await input(page, 'target.labels').inputValue()).toBe('app=demo');
    expect(await input(page, 'probes[0].properties.url').inputValue()).toBe(`${sandbox.url}/health`);

    expect(await storedCount()).toBe(before);
    expectClean(opened, [400]);
    await opened.context.close();
  });
});
