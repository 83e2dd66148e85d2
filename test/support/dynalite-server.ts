/**
 * DynamoDB for tests, as its own process: dynalite on loopback, reporting its port over IPC. Running it beside the
 * test (as DynamoDB runs beside Lambda) gives it the second core, and it exits when its parent goes.
 */
import dynalite from 'dynalite';
import type { AddressInfo } from 'node:net';

export type DynaliteMessage = { port: number } | { error: string };

const path = process.argv[2] || undefined;
// Table creation and deletion are instant: dynalite otherwise imitates DynamoDB's seconds-long CREATING state.
const server = dynalite({ ...(path ? { path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.once('error', (error) => {
  process.send?.({ error: error.message } satisfies DynaliteMessage);
  process.exit(1);
});
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port } satisfies DynaliteMessage));
process.on('disconnect', () => process.exit(0));
// ESM loading is asynchronous, so the parent may already be gone before the listener above existed.
if (process.send !== undefined && !process.connected) process.exit(0);
