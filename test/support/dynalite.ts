/**
 * DynamoDB for tests that need its wire: dynalite in a child process, listening on loopback, in memory (or under a
 * directory). The DynamoDB adapters talk to it through the AWS SDK exactly as they talk to DynamoDB. Tests only: the
 * embedded runtime keeps its data in SQLite.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { mkdirSync } from 'node:fs';
import type { DynaliteMessage } from './dynalite-server.js';
import { forkSupervised, siblingModule } from '../../local/processes.js';
import { tableDefinition } from '../../shared/store/table.js';

export interface LocalDynamo {
  client: DynamoDBClient;
  endpoint: string;
  close(): Promise<void>;
}

const SERVER = siblingModule(import.meta.url, 'dynalite-server');

export async function startDynalite(dataDir: string | undefined, tableName: string): Promise<LocalDynamo> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const child = forkSupervised(SERVER, dataDir ? [dataDir] : []);
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`dynalite exited (code ${code}); is the data directory ${dataDir} in use by another process?`))),
  );
  exited.catch(() => undefined);
  const port = await Promise.race([
    new Promise<number>((resolve, reject) =>
      child.once('message', (message: DynaliteMessage) => ('port' in message ? resolve(message.port) : reject(new Error(message.error)))),
    ),
    exited,
  ]);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const close = async () => {
    client.destroy();
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.disconnect();
    await exited;
  };
  try {
    // LevelDB allows one process per directory; dynalite finds out on its first request, and exits.
    await Promise.race([ensureTable(client, tableName), exited]);
  } catch (error) {
    await close();
    throw error;
  }
  return { client, endpoint, close };
}

export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    await client.send(new CreateTableCommand(tableDefinition(tableName)));
    // CreateTable returns while the table is still CREATING, even with dynalite's delay at 0.
    await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 }, { TableName: tableName });
  }
}
