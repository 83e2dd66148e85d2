/**
 * DynamoDB for the embedded runtime: dynalite, in this process, listening on loopback, with its data kept under the
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
import dynalite from 'dynalite';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tableDefinition } from '../shared/store/table.js';

export interface LocalDynamo {
  client: DynamoDBClient;
  endpoint: string;
  close(): Promise<void>;
}

export class DataDirectoryInUseError extends Error {
  override readonly name = 'DataDirectoryInUseError';
}

export async function startDynalite(dataDir: string | undefined, tableName: string): Promise<LocalDynamo> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  // Table creation and deletion are instant: dynalite otherwise imitates DynamoDB's seconds-long CREATING state.
  const server = dynalite({ ...(dataDir ? { path: dataDir } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const close = async () => {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  try {
    await ensureTable(client, tableName);
  } catch (error) {
    await close();
    if (/lock/i.test(String((error as Error).message)) || /LOCK/.test(String((error as { cause?: Error }).cause?.message))) {
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
