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
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DynaliteMessage } from './dynalite-server.js';
import { forkSupervised, processIdentity, siblingModule } from './processes.js';
import { tableDefinition } from '../shared/store/table.js';

export interface LocalDynamo {
  client: DynamoDBClient;
  endpoint: string;
  close(): Promise<void>;
}

const SERVER = siblingModule(import.meta.url, 'dynalite-server');

export class DataDirectoryInUseError extends Error {
  override readonly name = 'DataDirectoryInUseError';
}

/**
 * Claims the data directory for this process with a pid file, so a second runtime on the same directory is refused
 * with a clear message (LevelDB's own lock would only make dynalite fail). The file names the holder by pid, start
 * time and boot, so a pid that another process has since reused is not taken for the holder: a file left by a
 * killed process is taken over, which is the crash the recovery sweep exists for. Returns the release function.
 */
export function claimDataDirectory(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const pidFile = join(dataDir, 'runtime.pid');
  const me = JSON.stringify(processIdentity(process.pid) ?? { pid: process.pid });
  // Two tries: a stale file is moved aside (only one of two racing starts can move it) and the claim made afresh.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(pidFile, me, { flag: 'wx' });
      return () => {
        try {
          if (readFileSync(pidFile, 'utf8') === me) rmSync(pidFile);
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = liveHolder(pidFile);
    // This very process may take its own claim over: a runtime it dropped without stopping (tests do).
    if (holder !== undefined && holder !== process.pid) {
      throw new DataDirectoryInUseError(`data directory ${dataDir} is in use by chaosduck process ${holder}; stop it, or use another --data-dir`);
    }
    const stale = `${pidFile}.stale-${process.pid}`;
    try {
      renameSync(pidFile, stale);
    } catch {
      continue; // another start moved it first; the next try sees its claim
    }
    // What was moved may be a fresh claim another start made after we read the stale one: then it goes back.
    const moved = liveHolder(stale);
    if (moved !== undefined && moved !== process.pid) {
      renameSync(stale, pidFile);
      throw new DataDirectoryInUseError(`data directory ${dataDir} is in use by chaosduck process ${moved}; stop it, or use another --data-dir`);
    }
    rmSync(stale, { force: true });
  }
  throw new DataDirectoryInUseError(`data directory ${dataDir} is being claimed by another chaosduck process; try again, or use another --data-dir`);
}

/**
 * The pid of the process a pid file names, if that very process still runs. A file of an older version holds only a
 * pid; it counts as held only while that pid runs chaosduck.
 */
function liveHolder(pidFile: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(pidFile, 'utf8').trim();
  } catch {
    return undefined;
  }
  if (/^\d+$/.test(text)) {
    const pid = Number(text);
    return processIdentity(pid) && /chaosduck|cli\/bin\.js/.test(commandLine(pid)) ? pid : undefined;
  }
  try {
    const holder = JSON.parse(text) as { pid?: unknown; started?: unknown; boot?: unknown };
    const now = typeof holder.pid === 'number' ? processIdentity(holder.pid) : undefined;
    return now && now.started === holder.started && now.boot === holder.boot ? now.pid : undefined;
  } catch {
    return undefined; // unreadable: nobody can be shown to hold it
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

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
