/**
 * The dashboard's live feed (dashboard/src/live.ts) against a real HTTP server with a WebSocket endpoint, using Node's
 * own WebSocket client as a browser's: a connection the server refuses while it answers GET /health is not tried
 * again (`refused`); one that drops while the server is away is opened again when it is back (`reconnecting`, `live`);
 * and the feed without WebSocket opens nothing and says `unavailable`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer } from 'ws';
import { createLiveFeed, unavailableFeed, type LiveState } from '../../../dashboard/src/live.js';

interface Endpoint {
  url: string;
  upgrades: string[];
  server: Server;
  sockets: WebSocketServer;
}

/** GET /health answers 200; an upgrade to /ws is refused with 400 when `refuse` says so, else accepted. */
async function endpoint(refuse: (topic: string) => boolean, port = 0): Promise<Endpoint> {
  const server = createServer((req, res) => res.writeHead(req.url === '/health' ? 200 : 404).end());
  const sockets = new WebSocketServer({ noServer: true });
  const upgrades: string[] = [];
  server.on('upgrade', (req, socket, head) => {
    const topic = new URL(req.url ?? '/', 'http://x').searchParams.get('experimentId') ?? '';
    upgrades.push(topic);
    if (refuse(topic)) {
      // As the local gateway refuses one (local/ws-gateway.ts), and API Gateway a $connect that did not answer 2xx.
      socket.once('finish', () => socket.destroy());
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => sockets.emit('connection', ws));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`, upgrades, server, sockets };
}

async function close(at: Endpoint): Promise<void> {
  for (const client of at.sockets.clients) client.terminate();
  at.sockets.close();
  at.server.closeAllConnections();
  await new Promise<void>((resolve) => at.server.close(() => resolve()));
}

describe('the live feed', () => {
  const opened: Endpoint[] = [];
  afterEach(async () => {
    for (const at of opened.splice(0)) await close(at).catch(() => undefined);
  });

  it('does not try again a connection the server refused while it answers', async () => {
    const at = await endpoint((topic) => topic === 'refused-id');
    opened.push(at);
    const feed = createLiveFeed(at.url, 'token');
    const states: LiveState[] = [];
    const stop = feed.watch('refused-id', () => undefined, (state) => states.push(state));
    await vi.waitFor(() => expect(states.at(-1)).toBe('refused'), { timeout: 20_000 });
    // Told once it is refused, and nothing after (a retry would be heard as `reconnecting` and another upgrade).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(states).toEqual(['connecting', 'reconnecting', 'refused']);
    expect(at.upgrades).toEqual(['refused-id']);
    stop();
    feed.close();
  });

  it('opens a dropped connection again once the server is back', async () => {
    const at = await endpoint(() => false);
    opened.push(at);
    const feed = createLiveFeed(at.url, 'token');
    const states: LiveState[] = [];
    const stop = feed.watch('*', () => undefined, (state) => states.push(state));
    await vi.waitFor(() => expect(states.at(-1)).toBe('live'), { timeout: 20_000 });

    const { port } = new URL(at.url);
    await close(at);
    await vi.waitFor(() => expect(states.at(-1)).toBe('reconnecting'), { timeout: 20_000 });
    const back = await endpoint(() => false, Number(port));
    opened.push(back);
    await vi.waitFor(() => expect(states.at(-1)).toBe('live'), { timeout: 40_000 });
    expect(states).not.toContain('refused');
    stop();
    feed.close();
  }, 60_000);

  it('without a WebSocket, opens nothing and says so', () => {
    const states: LiveState[] = [];
    const stop = unavailableFeed().watch('*', () => undefined, (state) => states.push(state));
    expect(states).toEqual(['unavailable']);
    stop();
  });
});
