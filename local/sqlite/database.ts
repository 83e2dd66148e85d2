/**
 * The embedded runtime's database: SQLite through `node:sqlite` (built into Node 22, nothing to compile), in one file
 * under the data directory (or in memory for tests and benchmarks). Both embedded adapters, the experiment store and
 * the connection store, share it.
 *
 * Durability: WAL, with `synchronous=NORMAL`, so a commit reaches the operating system before the call returns and a
 * killed process (SIGKILL, a crash) loses nothing it committed; `durably` also syncs the commits the lifecycle's safety
 * rests on (rollback entries) to the disk, which covers a power loss too.
 */
import { createRequire } from 'node:module';
import type { DatabaseSync as Database, StatementSync } from 'node:sqlite';

export type { Database };

/**
 * The schema, as the steps that build it: a database at version n (`PRAGMA user_version`) gets the steps after n, in
 * one transaction. A step is never edited once released; a change is a new step. A database of a later version than
 * this code knows is refused rather than misread.
 *
 * Tables are STRICT, so a column holds only its declared type. Records the lifecycle reads back whole (experiments,
 * rollback entries, events, phase results, journals, scores) are JSON text beside the columns their guards and
 * indexes use, and are checked when read (shared/store/records.ts), as DynamoDB's items are.
 */
const MIGRATIONS: readonly string[] = [
  `
CREATE TABLE experiments (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  phase TEXT,
  chaos_type TEXT,
  created_at TEXT NOT NULL,
  rollback_seq INTEGER NOT NULL DEFAULT 0,
  record TEXT NOT NULL
) STRICT;
CREATE INDEX experiments_by_status ON experiments (status, created_at, id);
CREATE INDEX experiments_by_time ON experiments (created_at, id);
CREATE INDEX experiments_by_type ON experiments (chaos_type, created_at, id);

CREATE TABLE phases (
  experiment_id TEXT NOT NULL,
  ordinal INTEGER NOT NULL,
  result TEXT NOT NULL,
  PRIMARY KEY (experiment_id, ordinal)
) STRICT, WITHOUT ROWID;

CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  experiment_id TEXT NOT NULL,
  at TEXT NOT NULL,
  event TEXT NOT NULL
) STRICT;
CREATE INDEX events_by_experiment ON events (experiment_id, at, id);

CREATE TABLE rollback_entries (
  experiment_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  state TEXT NOT NULL,
  entry TEXT NOT NULL,
  outcome TEXT,
  PRIMARY KEY (experiment_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE journals (
  experiment_id TEXT PRIMARY KEY,
  journal TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE leases (
  target TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  held_until INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE idempotency_keys (
  key TEXT PRIMARY KEY,
  experiment_id TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE emergency_stop (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  active INTEGER NOT NULL,
  since TEXT,
  reason TEXT
) STRICT;

CREATE TABLE connections (
  connection_id TEXT PRIMARY KEY,
  connected_at TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE subscriptions (
  topic TEXT NOT NULL,
  connection_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (topic, connection_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX subscriptions_by_connection ON subscriptions (connection_id, topic);
`,
  // 2: resilience scores, one per scored experiment, found by target, service or chaos type in time order.
  `
CREATE TABLE scores (
  experiment_id TEXT PRIMARY KEY,
  target TEXT NOT NULL,
  service TEXT NOT NULL,
  chaos_type TEXT NOT NULL,
  ended_at TEXT NOT NULL,
  score TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX scores_by_time ON scores (ended_at, experiment_id);
CREATE INDEX scores_by_target ON scores (target, ended_at, experiment_id);
CREATE INDEX scores_by_service ON scores (service, ended_at, experiment_id);
CREATE INDEX scores_by_chaos_type ON scores (chaos_type, ended_at, experiment_id);
`,
];
const SCHEMA_VERSION = MIGRATIONS.length;

/** The file name of the database in a data directory. */
export const DATABASE_FILE = 'chaosduck.db';

export class DatabaseVersionError extends Error {
  override readonly name = 'DatabaseVersionError';
}

/**
 * Opens (creating when needed) the database at `path`, or one in memory. Node prints an ExperimentalWarning when
 * `node:sqlite` is first loaded; it is held back here (that warning only) so a user does not take it for a fault.
 */
export function openDatabase(path = ':memory:'): Database {
  const { DatabaseSync } = loadSqlite();
  const db = new DatabaseSync(path);
  try {
    // Another process may hold a write lock for a moment (a second runtime is refused before it gets here, but a
    // person's sqlite3 shell may not be): wait for it rather than fail.
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = OFF;');
    const version = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
    if (version > SCHEMA_VERSION) {
      throw new DatabaseVersionError(`${path} was written by a later ChaosDuck (schema ${version}, this one reads ${SCHEMA_VERSION}); upgrade ChaosDuck, or use another --data-dir`);
    }
    if (version < SCHEMA_VERSION) transaction(db, () => db.exec(`${MIGRATIONS.slice(version).join('\n')}\nPRAGMA user_version = ${SCHEMA_VERSION};`));
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Runs `work` as one transaction, taking the write lock at once (BEGIN IMMEDIATE), so its reads and the writes they
 * decide are atomic even against another process. `work` must be synchronous: nothing else runs meanwhile.
 */
export function transaction<T>(db: Database, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/** Runs `work` (a write) and syncs its commit, and every commit before it, to the disk before returning. */
export function durably<T>(db: Database, work: () => T): T {
  db.exec('PRAGMA synchronous = FULL');
  try {
    return work();
  } finally {
    db.exec('PRAGMA synchronous = NORMAL');
  }
}

/** Prepared statements by their text, made once per database. */
export class Statements {
  private readonly cache = new Map<string, StatementSync>();
  constructor(private readonly db: Database) {}
  get(sql: string): StatementSync {
    let statement = this.cache.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.cache.set(sql, statement);
    }
    return statement;
  }
}

function loadSqlite(): typeof import('node:sqlite') {
  const emitWarning = process.emitWarning;
  process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]) {
    if (String(warning).startsWith('SQLite is an experimental feature')) return;
    return (emitWarning as (...args: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    return createRequire(import.meta.url)('node:sqlite') as typeof import('node:sqlite');
  } finally {
    process.emitWarning = emitWarning;
  }
}
