/**
 * DynamoDB for the embedded runtime: dynalite in a child process, listening on loopback, with its data kept under the
 * data directory (or in memory for tests and benchmarks). The lifecycle talks to it through the AWS SDK exactly as it
 * talks to DynamoDB.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DynaliteMessage } from './dynalite-server.js';
import { tsxImportUrl } from './processes.js';
import { tableDefinition } from '../shared/store/table.js';

export interface LocalDynamo {
  client: DynamoDBClient;
  endpoint: string;
  close(): Promise<void>;
}

const SERVER = fileURLToPath(new URL('./dynalite-server.ts', import.meta.url));

export class DataDirectoryInUseError extends Error {
  override readonly name = 'DataDirectoryInUseError';
}

export async function startDynalite(dataDir: string | undefined, tableName: string): Promise<LocalDynamo> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const child = fork(SERVER, dataDir ? [dataDir] : [], { execArgv: ['--import', tsxImportUrl()], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: DynaliteMessage) => ('port' in message ? resolve(message.port) : reject(new Error(message.error))));
    child.once('exit', (code) => reject(new Error(`dynalite exited (code ${code}) before it listened`)));
  });
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
    await ensureTable(client, tableName);
  } catch (error) {
    await close();
    // LevelDB allows one process per directory; dynalite reports the lock failure when the first request opens it.
    if (/lock/i.test(`${(error as Error).message} ${String((error as { cause?: unknown }).cause ?? '')}`)) {
      throw new DataDirectoryInUseError(`data directory ${dataDir} is in use by another chaosduck process; stop it or set CHAOSDUCK_DATA_DIR`);
    }
    throw error;
  }
  return { client, endpoint, close };
}

async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    await client.send(new CreateTableCommand(tableDefinition(tableName)));
    // CreateTable returns while the table is still CREATING, even with dynalite's delay at 0.
    await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 }, { TableName: tableName });
  }
}
