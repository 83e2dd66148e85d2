/**
 * The report as a person sees it, in a REAL headless Chromium (test/support/chromium.ts): real experiments on the
 * sandbox through the real `chaosduck` command (one that holds, one that deviates), their report written by
 * `chaosduck report` and served by `GET /api/chaos/experiments/{id}/report` on the local server, each page opened in
 * the browser: every chart has data points the browser lays out, every chart is an image named by its title, the page
 * logs no error and asks for nothing beyond itself. `--pdf` prints a PDF. A screenshot of the page is kept in
 * test/artifacts/report.png.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
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

/** Every replica 700 ms slower while the probe tolerates 500 ms: each check under the fault fails, and the run halts. */
const SLOW_REPLICAS = `
name: sandbox-slow-replicas
chaos_type: network_latency
target: {provider: sandbox, labels: {app: demo}, selection: ALL}
parameters: {latency_ms: 700, duration_seconds: 8}
safety: {timeout_seconds: 60, max_blast_radius: 1, health_check_interval: 1, health_check_failure_threshold: 2}
probes:
  - name: demo-answers
    type: http
    mode: continuous
    properties: {url: '\${SANDBOX_URL}/health', expected_status: 200, max_latency_ms: 500}
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
    writeFileSync(join(dir, 'slow.yaml'), SLOW_REPLICAS);
    const held = await runCli(['run', resolve('examples/sandbox-pod-delete.yaml'), '--data-dir', 'data', '--journal', 'held.json'], { cwd: dir });
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
    // The deviated run: its probe's failed checks marked against the 500 ms it tolerates.
    expect(byId.get('x2-probe-1')).toMatchObject({ tolerance: true });
    expect(byId.get('x2-probe-1')?.failed).toBeGreaterThanOrEqual(2);
    expect(byId.get('x1-probe-1')?.tolerance).toBe(true);
    mkdirSync(ARTIFACTS, { recursive: true });
    await looked.page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });

    expect(readFileSync(join(dir, 'report.pdf')).subarray(0, 5).toString('latin1')).toBe('%PDF-');
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
