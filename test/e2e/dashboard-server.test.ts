/**
 * What `serve` answers the dashboard page without the token: `GET /dashboard.json` (which server, where the token comes
 * from, live progress), its files with an ETag a browser revalidates with (304 when unchanged), and 404 for a path under
 * /assets/ the bundle lacks (not the API's 401).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime.js';
import { serveTokenHint, startServer, type LocalServer } from '../../local/server.js';
import { MemoryDriver } from '../support/memory-driver.js';

describe('serve: what the dashboard page gets without the token', () => {
  let runtime: LocalRuntime;
  let server: LocalServer;

  beforeAll(async () => {
    runtime = await LocalRuntime.start({ drivers: [new MemoryDriver({ targets: 1 })] });
    server = await startServer({ runtime, token: 'dashboard-server-token', port: 0, tokenHint: serveTokenHint('dashboard-server-token', undefined) });
  });
  afterAll(async () => {
    await server?.close();
    await runtime?.stop();
  });

  it('answers GET /dashboard.json: served by serve, the token it printed, live progress there; never cached', async () => {
    const answer = await fetch(`${server.url}/dashboard.json`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(await answer.json()).toEqual({
      served_by: 'serve',
      token_hint: 'the token chaosduck serve printed (also in .chaosduck/token)',
      live_progress: { available: true },
    });
    // Other methods are the API's, which asks for the token.
    expect((await fetch(`${server.url}/dashboard.json`, { method: 'POST' })).status).toBe(401);
  });

  it('says the token is the one in CHAOSDUCK_TOKEN when it came from there', () => {
    expect(serveTokenHint('from-env', 'from-env')).toBe('the token in CHAOSDUCK_TOKEN');
    expect(serveTokenHint('from-file', 'another')).toBe('the token chaosduck serve printed (also in .chaosduck/token)');
    expect(serveTokenHint('from-file', undefined)).toBe('the token chaosduck serve printed (also in .chaosduck/token)');
  });

  it('serves the script with an ETag and answers 304 to a browser that has it, asking again each time', async () => {
    const page = await (await fetch(`${server.url}/`)).text();
    const script = /src="(assets\/[^"]+\.js)"/.exec(page)?.[1];
    expect(script).toBeDefined();
    const first = await fetch(`${server.url}/${script}`);
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]{32}"$/);
    expect(first.headers.get('cache-control')).toBe('no-cache');
    expect((await first.text()).length).toBeGreaterThan(1000);

    for (const ifNoneMatch of [etag as string, `W/${etag}`, `"other", ${etag}`, '*']) {
      const again = await fetch(`${server.url}/${script}`, { headers: { 'if-none-match': ifNoneMatch } });
      expect({ ifNoneMatch, status: again.status }).toEqual({ ifNoneMatch, status: 304 });
      expect(again.headers.get('etag')).toBe(etag);
      expect(await again.text()).toBe('');
    }
    const changed = await fetch(`${server.url}/${script}`, { headers: { 'if-none-match': '"an-older-bundle"' } });
    expect(changed.status).toBe(200);
    expect((await changed.text()).length).toBeGreaterThan(1000);
    // The page has its own ETag.
    const index = await fetch(`${server.url}/`);
    expect(index.headers.get('etag')).toMatch(/^"[\w-]{32}"$/);
    expect(index.headers.get('etag')).not.toBe(etag);
  });

  it('answers 404 without the token for a path under /assets/ the bundle lacks; other unknown paths stay the API\'s', async () => {
    const missing = await fetch(`${server.url}/assets/no-such-file.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'the dashboard has no /assets/no-such-file.js' } });
    expect((await fetch(`${server.url}/assets/no-such-file.js`, { method: 'HEAD' })).status).toBe(404);
    expect((await fetch(`${server.url}/no-such-path`)).status).toBe(401);
  });
});
