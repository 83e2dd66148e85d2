/**
 * The web dashboard's files, as the local server serves them: `/` (the page), `/index.html` and `/assets/*`, without
 * the token. The page holds no data: everything it shows comes from API calls that each need the token, which the
 * person types into it. Only the files the bundle has are answered (looked up by exact path, so no path can reach
 * beyond them), and any other path under /assets/ is 404; any other path is the API's, token and all.
 *
 * Where the files come from: the built command (dist/cli/) reads dist/dashboard/, which scripts/build.mjs wrote beside
 * it from the same sources. Run from the sources (tsx: a checkout edited since its build, and the tests), the bundle is
 * made in memory by esbuild (a devDependency, there in a checkout) when first asked for, so a stale dist/dashboard/
 * is never served. cli/bin.js counts the dashboard's sources among those a build must be newer than.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
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

/** The dashboard's files by URL path (`/`, `/index.html`, `/assets/app.js`, …), each with its ETag (a hash of its content). */
export type DashboardFiles = ReadonlyMap<string, { body: Buffer; type: string; etag: string }>;

const ASSETS_PREFIX = '/assets/';

/** True for the paths the dashboard may answer: its page and its assets. */
export const isDashboardPath = (pathname: string): boolean => pathname === '/' || pathname === '/index.html' || pathname.startsWith(ASSETS_PREFIX);

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
  const files = new Map<string, { body: Buffer; type: string; etag: string }>();
  for (const [path, body] of byPath) {
    const type = CONTENT_TYPES[path.slice(path.lastIndexOf('.') + 1)];
    if (type) files.set(`/${path}`, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"` });
  }
  const page = files.get('/index.html');
  if (!page) throw new Error('the dashboard bundle has no index.html');
  files.set('/', page);
  return files;
}

/**
 * What the page asks its server first (`GET /dashboard.json`, without the token: like the page, it holds no data): which
 * server it is, where the token to log in with comes from, and whether live progress (the WebSocket feed) is there.
 */
export interface DashboardConfig {
  served_by: 'serve' | 'dashboard';
  token_hint: string;
  live_progress: { available: true } | { available: false; reason: string };
}

export const DASHBOARD_CONFIG_PATH = '/dashboard.json';

/** Answers `GET`/`HEAD /dashboard.json`; never cached, as it changes with each start (`--ws` given or not, the token's source). */
export function sendDashboardConfig(res: ServerResponse, method: string, config: DashboardConfig): void {
  const body = JSON.stringify(config);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store' });
  res.end(method === 'HEAD' ? undefined : body);
}

/**
 * Answers a GET or HEAD for one of the dashboard's files, or 404 for a path under /assets/ that is none of them (the
 * API has nothing there, so no token is asked for); false (nothing sent) for any other path. A browser that holds the
 * file asks with If-None-Match and gets 304: the script is downloaded again only when it changed.
 */
export function sendDashboardFile(req: IncomingMessage, res: ServerResponse, files: DashboardFiles, pathname: string): boolean {
  const method = req.method ?? 'GET';
  const file = files.get(pathname);
  if (!file) {
    if (!pathname.startsWith(ASSETS_PREFIX)) return false;
    const body = JSON.stringify({ error: { code: 'NOT_FOUND', message: `the dashboard has no ${pathname}` } });
    res.writeHead(404, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'x-content-type-options': 'nosniff' });
    res.end(method === 'HEAD' ? undefined : body);
    return true;
  }
  const headers = {
    etag: file.etag,
    // Always asked again (with the ETag): a newer bundle (a restarted server) is picked up at once.
    'cache-control': 'no-cache',
    'content-security-policy': DASHBOARD_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  if (matches(req.headers['if-none-match'], file.etag)) {
    res.writeHead(304, headers).end();
    return true;
  }
  res.writeHead(200, { ...headers, 'content-type': file.type, 'content-length': String(file.body.length) });
  res.end(method === 'HEAD' ? undefined : file.body);
  return true;
}

/** True when If-None-Match names `etag` (weakly compared, as RFC 9110 13.1.2 says for it) or is `*`. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed.replace(/^W\//, '') === etag;
  });
}
