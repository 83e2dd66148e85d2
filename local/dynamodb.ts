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
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DynaliteMessage } from './dynalite-server.js';
import { isRunning, tsxImportUrl } from './processes.js';
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

/**
 * Claims the data directory for this process with a pid file, so a second runtime on the same directory is refused
 * with a clear message (LevelDB's own lock would only make dynalite fail). A pid file left by a killed process is
 * taken over: that is the crash the recovery sweep exists for. Returns the release function.
 */
export function claimDataDirectory(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const pidFile = join(dataDir, 'runtime.pid');
  try {
    writeFileSync(pidFile, String(process.pid), { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const holder = Number(readFileSync(pidFile, 'utf8'));
    if (holder !== process.pid && isRunning(holder)) {
      throw new DataDirectoryInUseError(`data directory ${dataDir} is in use by chaosduck process ${holder}; stop it, or use another --data-dir`);
    }
    writeFileSync(pidFile, String(process.pid));
  }
  return () => {
    try {
      if (Number(readFileSync(pidFile, 'utf8')) === process.pid) rmSync(pidFile);
    } catch {
      // Already gone: nothing to release.
    }
  };
}

export async function startDynalite(dataDir: string | undefined, tableName: string): Promise<LocalDynamo> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const child = fork(SERVER, dataDir ? [dataDir] : [], { execArgv: ['--import', tsxImportUrl()], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
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
