/**
 * The dashboard in a fresh browser context, for the browser tests of the dashboard (test/e2e/dashboard-*.test.ts): every
 * console error or warning, uncaught error and request the page makes is noted (a page opened from it, the report in a
 * new tab, is heard too), and `expectClean` checks nothing was asked of another server and nothing went wrong.
 *
 * @example
 * const opened = await openDashboard(browser, server.url);
 * await logIn(opened.page, TOKEN);
 * // … the scenario …
 * expectClean(opened, server.url);
 */
import { STATUS_CODES } from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';

export interface OpenedDashboard {
  context: BrowserContext;
  page: Page;
  /** Console errors and warnings, and uncaught errors, as `error: …`, `warning: …`, `uncaught: …`. */
  problems: string[];
  /** Every URL the page asked for, the WebSocket's included. */
  requests: string[];
  /** The POSTs the page made: path and headers. */
  posts: { url: string; headers: Record<string, string> }[];
}

/** A fresh browser context and tab on the dashboard at `url` (not logged in), noting what it logs and asks for. */
export async function openDashboard(browser: Browser, url: string, { timeoutMs }: { timeoutMs: number }): Promise<OpenedDashboard> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(timeoutMs);
  const opened: OpenedDashboard = { context, page, problems: [], requests: [], posts: [] };
  context.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') opened.problems.push(`${message.type()}: ${message.text()}`);
  });
  context.on('weberror', (error) => opened.problems.push(`uncaught: ${error.error().message}`));
  context.on('request', (req) => {
    opened.requests.push(req.url());
    if (req.method() === 'POST') opened.posts.push({ url: new URL(req.url()).pathname, headers: req.headers() });
  });
  await page.goto(`${url}/`, { waitUntil: 'load' });
  return opened;
}

/** Logs in with `token` as a person does: the token pasted, the button pressed. */
export async function logIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('Bearer token').fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** A fresh tab on the dashboard, logged in, on its Experiments tab. */
export async function loggedIn(browser: Browser, url: string, token: string, options: { timeoutMs: number }): Promise<OpenedDashboard> {
  const opened = await openDashboard(browser, url, options);
  await logIn(opened.page, token);
  await opened.page.getByRole('heading', { name: 'Experiments' }).waitFor();
  return opened;
}

/**
 * Nothing was asked of any server but the one at `url` (the WebSocket included; a blob: of the page's, the report,
 * too), and the page logged no error. Chromium logs each answer of 400 or more on the console itself ("Failed to load
 * resource"); those the scenario asked for are named by their status in `expectedStatuses`.
 */
export function expectClean({ problems, requests }: Pick<OpenedDashboard, 'problems' | 'requests'>, url: string, expectedStatuses: number[] = []): void {
  const origin = new URL(url);
  const elsewhere = requests.filter((request) => {
    const parsed = new URL(request);
    return !(parsed.host === origin.host && ['http:', 'ws:'].includes(parsed.protocol)) && !request.startsWith(`blob:${origin.origin}/`);
  });
  expect(elsewhere).toEqual([]);
  const expected = (problem: string) => expectedStatuses.some((status) => problem === `error: Failed to load resource: the server responded with a status of ${status} (${STATUS_CODES[status]})`);
  expect(problems.filter((problem) => !expected(problem))).toEqual([]);
}
