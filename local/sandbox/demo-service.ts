/**
 * One replica of the sandbox's demo service, as its own process (replica mode `process`). The supervisor forks it; it
 * reports its port over IPC and dies with its parent, so a control plane killed with SIGKILL leaves no replica behind.
 * What it answers lives in `demo-app.ts`, shared with the in-process replicas.
 */
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { closeGracefully, createDemoServer, type ReadyMessage } from './demo-app.js';

export type { ReadyMessage } from './demo-app.js';

const { values } = parseArgs({ options: { service: { type: 'string' }, replica: { type: 'string' } } });
const replica = values.replica ?? 'replica-0';
const server = createDemoServer({ service: values.service ?? 'demo', replica, pid: process.pid });

process.on('disconnect', () => process.exit(0));
// ESM loading is asynchronous, so the parent may already be gone before the listener above existed.
if (process.send !== undefined && !process.connected) process.exit(0);

process.on('SIGTERM', () => closeGracefully(server, () => process.exit(0)));

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  const ready: ReadyMessage = { type: 'ready', port };
  if (process.send) process.send(ready);
  else console.log(`${replica} listening on http://127.0.0.1:${port}`);
});
