/**
 * The web dashboard's files, as the local server serves them: `/` (the page), `/index.html` and `/assets/*`, without
 * the token. The page holds no data: everything it shows comes from API calls that each need the token, which the
 * person types into it. Only the files the bundle has are answered (looked up by exact path, so no path can reach
 * beyond them); any other path is the API's, token and all.
 *
 * Where the files come from: the built command (dist/cli/) reads dist/dashboard/, which scripts/build.mjs wrote beside
 * it from the same sources. Run from the sources (tsx: a checkout edited since its build, and the tests), the bundle is
 * made in memory by esbuild (a devDependency, there in a checkout) when first asked for, so a stale dist/dashboard/
 * is never served. cli/bin.js counts the dashboard's sources among those a build must be newer than.
 */
import { readdir, readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';

/**
 * What the page may do: run its own script and nothing inline, call its own server (`ws:` for the WebSocket feed;
 * `wss:` when served over https), frame nothing from elsewhere, be framed by nobody. Inline styles are allowed: the
 * experiment report it shows in a sandboxed frame (srcdoc, which takes this policy) is styled inline, and Preact sets
 * styles through the DOM.
 */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; img-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

/** The dashboard's files by URL path (`/`, `/index.html`, `/assets/app.js`, …). */
export type DashboardFiles = ReadonlyMap<string, { body: Buffer; type: string }>;

/** True for the paths the dashboard may answer: its page and its assets. */
export const isDashboardPath = (pathname: string): boolean => pathname === '/' || pathname === '/index.html' || pathname.startsWith('/assets/');

/** The dashboard's files: dist/dashboard/ beside the built command, or bundled now from the sources. */
export async function loadDashboard(): Promise<DashboardFiles> {
  const byPath = new Map<string, Buffer>();
  if (import.meta.url.endsWith('.ts')) {
    const { bundleDashboard } = await import('../dashboard/bundle.mjs');
    const { files } = await bundleDashboard(fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, ''));
    for (const [path, body] of files) byPath.set(path, body);
  } else {
    // Built: this module is inside dist/cli/; the build wrote the dashboard's files into dist/dashboard/.
    const dir = new URL('../dashboard/', import.meta.url);
    for (const path of ['index.html', ...(await readdir(new URL('assets/', dir))).map((name) => `assets/${name}`)]) {
      byPath.set(path, await readFile(new URL(path, dir)));
    }
  }
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const [path, body] of byPath) {
    const type = CONTENT_TYPES[path.slice(path.lastIndexOf('.') + 1)];
    if (type) files.set(`/${path}`, { body, type });
  }
  const page = files.get('/index.html');
  if (!page) throw new Error('the dashboard bundle has no index.html');
  files.set('/', page);
  return files;
}

/** Answers a GET or HEAD for one of the dashboard's files; false (nothing sent) when `pathname` is none of them. */
export function sendDashboardFile(res: ServerResponse, files: DashboardFiles, method: string, pathname: string): boolean {
  const file = files.get(pathname);
  if (!file) return false;
  res.writeHead(200, {
    'content-type': file.type,
    'content-length': String(file.body.length),
    'content-security-policy': DASHBOARD_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    // Always asked again: a newer bundle (a restarted server) is picked up at once.
    'cache-control': 'no-cache',
  });
  res.end(method === 'HEAD' ? undefined : file.body);
  return true;
}
