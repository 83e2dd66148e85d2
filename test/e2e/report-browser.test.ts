/**
 * The report as a person sees it, in a REAL headless Chromium (test/support/chromium.ts): real experiments on the
 * sandbox through the real `chaosduck` command (one that holds, one that deviates), their report written by
 * `chaosduck report` and served by `GET /api/chaos/experiments/{id}/report` on the local server, each page opened in
 * the browser: every chart has data points the browser lays out, every chart is an image named by its title, the page
 * logs no error and asks for nothing beyond itself. `--pdf` prints a PDF. The report of a real run with prometheus
 * probes (its recorded journal: no Prometheus is needed here) shows each value against its tolerance. Screenshots of
 * the pages are kept in test/artifacts/report.png and report-prometheus.png.
 *
 * The experiments run before Chromium starts, and their bounds are far from what the sandbox answers in, idle or busy:
 * the one that holds tolerates 5 s, the one that deviates adds 2.5 s where its probe tolerates 1.5 s.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime.js';
import { startServer, type LocalServer } from '../../local/server.js';
import { CHROMIUM_SETUP_TIMEOUT_MS, chromiumExecutable, launchTestChromium } from '../support/chromium.js';
import { runCli } from '../support/cli.js';

const TOKEN = 'test-token-report';
const ARTIFACTS = resolve('test/artifacts');

const executable = chromiumExecutable();
const skip = 'skip' in executable ? executable.skip : undefined;
if (skip) console.warn(`report browser tests skipped: ${skip}`);

/**
 * examples/sandbox-pod-delete.yaml with a bound no busy machine reaches (it tolerates 500 ms): one replica killed, the
 * service answering through the others, so the run holds.
 */
const KILL_ONE = `
name: sandbox-pod-kill
chaos_type: pod_delete
target: {provider: sandbox, labels: {app: demo}, selection: COUNT(1)}
parameters: {duration_seconds: 6}
safety: {timeout_seconds: 60, max_blast_radius: 0.5, health_check_interval: 2, health_check_failure_threshold: 2}
probes:
  - name: demo-answers
    type: http
    mode: continuous
    properties: {url: '\${SANDBOX_URL}/health', expected_status: 200, max_latency_ms: 5000}
`;

/** Every replica 2.5 s slower while the probe tolerates 1.5 s: each check under the fault fails, and the run halts. */
const SLOW_REPLICAS = `
name: sandbox-slow-replicas
chaos_type: network_latency
target: {provider: sandbox, labels: {app: demo}, selection: ALL}
parameters: {latency_ms: 2500, duration_seconds: 12}
safety: {timeout_seconds: 90, max_blast_radius: 1, health_check_interval: 1, health_check_failure_threshold: 2}
probes:
  - name: demo-answers
    type: http
    mode: continuous
    properties: {url: '\${SANDBOX_URL}/health', expected_status: 200, max_latency_ms: 1500, timeout_ms: 10000}
`;

interface Looked {
  page: Page;
  charts: { id: string; points: number; laidOut: number; failed: number; tolerance: boolean }[];
  /** Console errors and warnings, uncaught exceptions. */
  problems: string[];
  requests: string[];
}

describe.skipIf(skip !== undefined)('the report page in a real browser', () => {
  let dir: string;
  let browser: Browser;
  let runtime: LocalRuntime | undefined;
  let server: LocalServer | undefined;
  const ids: string[] = [];
  const env = () => ({ CHAOSDUCK_CHROMIUM: (executable as { path: string }).path });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chaosduck-report-browser-'));
    writeFileSync(join(dir, 'kill-one.yaml'), KILL_ONE);
    writeFileSync(join(dir, 'slow.yaml'), SLOW_REPLICAS);
    const held = await runCli(['run', 'kill-one.yaml', '--data-dir', 'data', '--journal', 'held.json'], { cwd: dir });
    expect(held.code, held.stdout + held.stderr).toBe(0);
    const deviated = await runCli(['run', 'slow.yaml', '--data-dir', 'data', '--journal', 'deviated.json'], { cwd: dir });
    expect(deviated.code, deviated.stdout + deviated.stderr).toBe(1);
    for (const file of ['held.json', 'deviated.json']) ids.push(JSON.parse(readFileSync(join(dir, file), 'utf8')).chaosduck.id);
    // The same data directory the runs wrote, served as `chaosduck serve` serves it.
    runtime = await LocalRuntime.start({ dataDir: join(dir, 'data') });
    server = await startServer({ runtime, token: TOKEN, port: 0 });
    browser = await launchTestChromium(executable as { path: string });
  }, CHROMIUM_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await runtime?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Opens `url` and reads what a person would see of the charts, and whatever went wrong or was asked for. */
  async function look(url: string, headers?: Record<string, string>): Promise<Looked> {
    const context = await browser.newContext({ viewport: { width: 1024, height: 900 }, ...(headers ? { extraHTTPHeaders: headers } : {}) });
    const page = await context.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
    page.on('request', (request) => requests.push(request.url()));
    const response = await page.goto(url, { waitUntil: 'load' });
    expect(response?.ok(), `${url}: ${response?.status()}`).toBe(true);
    // Counted in the browser's own DOM, each point's box as the browser laid it out.
    const charts = await page.$$eval('svg.chart', (svgs) =>
      svgs.map((svg) => {
        const points = [...svg.querySelectorAll('[data-point]')];
        return {
          id: svg.id as string,
          points: points.length,
          laidOut: points.filter((point) => {
            const box = point.getBoundingClientRect();
            return box.width > 0 && box.height > 0;
          }).length,
          failed: svg.querySelectorAll('[data-point="failed"]').length as number,
          tolerance: svg.querySelector('[data-tolerance]') !== null,
        };
      }),
    );
    return { page, charts, problems, requests };
  }

  /** What every report page must be: charts with their points laid out, named images, no error, no request. */
  async function expectSound(looked: Looked, url: string): Promise<void> {
    expect(looked.charts.length).toBeGreaterThan(0);
    for (const chart of looked.charts) {
      expect(chart.points, chart.id).toBeGreaterThan(0);
      expect(chart.laidOut, chart.id).toBe(chart.points);
    }
    expect(await looked.page.getByRole('img', { name: /^sandbox-pod-kill: timeline/ }).count()).toBe(1);
    expect(await looked.page.getByRole('img', { name: /^demo-answers: latency of each check/ }).count()).toBeGreaterThan(0);
    expect(looked.problems).toEqual([]);
    expect(looked.requests).toEqual([url]);
  }

  it('chaosduck report writes a page whose every chart has its points, that loads nothing, and prints it to a PDF', async () => {
    const result = await runCli(['report', 'held.json', 'deviated.json', '-o', 'report.html', '--pdf', 'report.pdf'], { cwd: dir, env: env() });
    expect(result.code, result.stdout + result.stderr).toBe(0);

    const url = pathToFileURL(join(dir, 'report.html')).href;
    const looked = await look(url);

    await expectSound(looked, url);
    const byId = new Map(looked.charts.map((chart) => [chart.id, chart]));
    expect([...byId.keys()]).toEqual(['compare-score', 'compare-recovery', 'trend', 'x1-timeline', 'x1-probe-1', 'x1-recovery', 'x2-timeline', 'x2-probe-1', 'x2-recovery']);
    // The deviated run: its probe's failed checks marked against the 1.5 s it tolerates.
    expect(byId.get('x2-probe-1')).toMatchObject({ tolerance: true });
    expect(byId.get('x2-probe-1')?.failed).toBeGreaterThanOrEqual(2);
    expect(byId.get('x1-probe-1')?.tolerance).toBe(true);
    mkdirSync(ARTIFACTS, { recursive: true });
    await looked.page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });

    expect(readFileSync(join(dir, 'report.pdf')).subarray(0, 5).toString('latin1')).toBe('%PDF-');
  });

  it("shows a real prometheus run's values against their tolerances, with labels that tell small values apart", async () => {
    const journal = fileURLToPath(new URL('../support/fixtures/journals/sandbox-prometheus.json', import.meta.url));
    const result = await runCli(['report', journal, '-o', 'prometheus.html'], { cwd: dir });
    expect(result.code, result.stdout + result.stderr).toBe(0);

    const url = pathToFileURL(join(dir, 'prometheus.html')).href;
    const looked = await look(url);

    expect(looked.problems).toEqual([]);
    expect(looked.requests).toEqual([url]);
    for (const chart of looked.charts) expect(chart.laidOut, chart.id).toBe(chart.points);
    const probes = looked.charts.filter((chart) => chart.id.includes('-probe-'));
    expect(probes.map((chart) => [chart.id, chart.tolerance])).toEqual([
      ['x1-probe-1', true],
      ['x1-probe-2', true],
      ['x1-probe-3', true],
    ]);
    // What a person reads on each probe chart, from the browser's own DOM: the value axis, the tolerance's label, and
    // what hovering over each point says.
    const read = (id: string) =>
      looked.page.$eval(`svg#${id}`, (svg) => ({
        ticks: [...svg.querySelectorAll('.axis-y text:not(.axis-label)')].map((text) => text.textContent),
        tolerance: svg.querySelector('[data-tolerance] text')?.textContent,
        hovers: [...svg.querySelectorAll('[data-point] > title')].map((title) => title.textContent),
        noValue: svg.querySelectorAll('[data-point="no-value"]').length,
      }));
    const latency = await read('x1-probe-1');
    expect(latency.ticks).toEqual(['0', '0.1', '0.2', '0.3', '0.4']);
    expect(latency.tolerance).toBe('< 0.25');
    expect(latency.hovers[0]).toBe('health-latency before the fault: 0.02851');
    expect(latency.hovers.filter((text) => / — failed: sandbox_health_latency_seconds\{.*\} = 0\.3\d+, expected < 0\.25$/.test(text ?? ''))).toHaveLength(5);
    expect((await read('x1-probe-2')).tolerance).toBe('within [0, 0.5]');
    const errors = await read('x1-probe-3');
    expect(errors.noValue).toBe(6);
    expect(errors.hovers.every((text) => /^error-ratio during the fault \(tick \d\): no value — failed: the query returned no series/.test(text ?? ''))).toBe(true);
    expect(new Set(errors.ticks).size).toBe(errors.ticks.length);
    mkdirSync(ARTIFACTS, { recursive: true });
    await looked.page.screenshot({ path: join(ARTIFACTS, 'report-prometheus.png'), fullPage: true });
  });

  it('GET /api/chaos/experiments/{id}/report serves the page as HTML under its policy; the browser finds it sound', async () => {
    const url = `${server?.url}/api/chaos/experiments/${ids[0]}/report`;
    const answer = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });

    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(answer.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    expect(await answer.text()).toMatch(/^<!doctype html>/);

    const looked = await look(url, { authorization: `Bearer ${TOKEN}` });
    await expectSound(looked, url);
    expect(looked.charts.map((chart) => chart.id)).toEqual(['x1-timeline', 'x1-probe-1', 'x1-recovery']);
  });

  it('answers an unknown experiment with a JSON 404, as the other routes do', async () => {
    const answer = await fetch(`${server?.url}/api/chaos/experiments/exp-nobody/report`, { headers: { authorization: `Bearer ${TOKEN}` } });

    expect(answer.status).toBe(404);
    expect(answer.headers.get('content-type')).toBe('application/json');
    expect(await answer.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'experiment exp-nobody not found' } });
  });
});
