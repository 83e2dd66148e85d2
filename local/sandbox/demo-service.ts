/**
 * One replica of the sandbox's demo service. The supervisor forks it; it reports its port over IPC and dies with its
 * parent, so a control plane killed with SIGKILL leaves no replica behind.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

/** What a replica sends its supervisor once it listens. */
export interface ReadyMessage {
  type: 'ready';
  port: number;
}

const { values } = parseArgs({ options: { service: { type: 'string' }, replica: { type: 'string' } } });
const identity = JSON.stringify({ service: values.service ?? 'demo', replica: values.replica ?? 'replica-0', pid: process.pid });

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && (path === '/' || path === '/health')) {
    res.writeHead(200, { 'content-type': 'application/json' }).end(identity);
  } else {
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
  }
});

process.on('disconnect', () => process.exit(0));
// ESM loading is asynchronous, so the parent may already be gone before the listener above existed.
if (process.send !== undefined && !process.connected) process.exit(0);

// A graceful delete (pod_delete with a grace period): stop taking connections, finish what is in flight, exit.
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  const ready: ReadyMessage = { type: 'ready', port };
  if (process.send) process.send(ready);
  else console.log(`${values.replica ?? 'replica-0'} listening on http://127.0.0.1:${port}`);
});
