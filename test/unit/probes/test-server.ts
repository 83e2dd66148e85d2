/** A real HTTP server on a free loopback port for the probe tests; every route is a case a probe must judge. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export const SLOW_MS = 400;

export interface TestServer {
  url: string;
  /** Requests seen, so a test can tell what actually reached the server. */
  requests: Array<{ method: string; path: string; headers: IncomingMessage['headers']; body: string }>;
  close(): Promise<void>;
}

type Route = (res: ServerResponse) => void | Promise<void>;

export async function startTestServer(): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  // `/pair` answers only once two requests wait on it, so a probe that goes there alone times out.
  let waiting: ServerResponse[] = [];
  const routes: Record<string, Route> = {
    '/ok': (res) => void res.end('all good: the duck is healthy'),
    '/error': (res) => {
      res.statusCode = 500;
      res.end('internal error');
    },
    '/no-content': (res) => {
      res.statusCode = 204;
      res.end();
    },
    '/slow': async (res) => {
      await sleep(SLOW_MS);
      res.end('slow but fine');
    },
    '/slow-body': async (res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first half, ');
      await sleep(SLOW_MS);
      res.end('second half');
    },
    '/hang': () => undefined,
    '/stall-body': (res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
    },
    '/big': (res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('x'.repeat(3 * 1024 * 1024));
    },
    '/pair': (res) => {
      waiting.push(res);
      if (waiting.length < 2) return;
      for (const r of waiting) r.end('paired');
      waiting = [];
    },
  };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push({ method: req.method ?? '', path, headers: req.headers, body: Buffer.concat(chunks).toString() });
    const route = routes[path];
    if (route) await route(res);
    else {
      res.statusCode = 404;
      res.end('no such route');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Hanging routes never end their responses; drop them so close() returns.
        server.closeAllConnections();
      }),
  };
}

/** A loopback port with nothing listening: bound, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
