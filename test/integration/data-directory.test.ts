/**
 * One runtime per data directory, told by its pid file. A pid is not an identity: after a crash, the pid in the file
 * may belong to another process by the time the next start reads it. The holder is recognised by pid, start time
 * and boot, so a reused pid neither blocks the restart nor keeps the recovery sweep from running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirectoryInUseError, claimDataDirectory, earlierStoreNotice } from '../../local/data-directory.js';
import { DATABASE_FILE, openDatabase } from '../../local/sqlite/database.js';
import { processIdentity } from '../../local/processes.js';
import { LocalRuntime } from '../../local/runtime.js';
import { MemoryDriver } from '../support/memory-driver.js';

let dataDir: string;
let other: ChildProcess;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'chaosduck-datadir-'));
  // A process that is not chaosduck, standing in for whatever now has the crashed runtime's pid.
  other = spawn('sleep', ['60'], { stdio: 'ignore' });
});
afterEach(() => {
  other.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

const pidFile = () => join(dataDir, 'runtime.pid');
const otherIdentity = () => processIdentity(other.pid as number) as NonNullable<ReturnType<typeof processIdentity>>;

describe('the data directory claim', () => {
  it.each([
    ['a pid file of an older version (a bare pid) now used by another program', () => String(other.pid)],
    ['a pid file whose pid now belongs to a process started later', () => JSON.stringify({ ...otherIdentity(), started: '1' })],
    ['a pid file of a previous boot', () => JSON.stringify({ ...otherIdentity(), boot: 'another-boot' })],
    ['an unreadable pid file', () => '{not json'],
  ])('takes over %s, and the recovery sweep rolls back what the crashed run left', async (_what, content) => {
    // Arrange: a run cut off with its fault in place (the runtime stopped under it, as a crash would), and then a
    // pid file that names a process which is not its holder.
    const driver = new MemoryDriver({ targets: 1 });
    const crashed = await LocalRuntime.start({ dataDir, drivers: [driver] });
    const injected = new Promise<void>((resolve) => crashed.bus.subscribe({ type: ['phase.completed'] }, (e) => e.phase === 'INJECT' && resolve()));
    const { id } = await crashed.submit({
      name: 'cut-off',
      chaos_type: 'pod_delete',
      target: { provider: 'memory', labels: { app: 'demo' } },
      parameters: { duration_seconds: 60 },
      safety: { max_blast_radius: 1, timeout_seconds: 120 },
    });
    await injected;
    await crashed.stop();
    writeFileSync(pidFile(), content());

    // Act
    const runtime = await LocalRuntime.start({ dataDir, drivers: [driver] });
    const recovery = await runtime.recover();
    const claim = JSON.parse(readFileSync(pidFile(), 'utf8'));
    await runtime.stop();

    // Assess
    expect(recovery).toEqual({ recovered: [{ id, status: 'rolled_back' }], unreadable: [] });
    expect(driver.faulted()).toEqual([]);
    expect(claim).toMatchObject({ pid: process.pid, started: processIdentity(process.pid)?.started });
    expect(existsSync(pidFile())).toBe(false);
  });

  it('refuses while the process the file names still runs, naming it', () => {
    writeFileSync(pidFile(), JSON.stringify(otherIdentity()));

    const refused = (() => {
      try {
        claimDataDirectory(dataDir);
      } catch (error) {
        return error;
      }
      return undefined;
    })();

    expect(refused).toBeInstanceOf(DataDirectoryInUseError);
    expect((refused as Error).message).toContain(`in use by chaosduck process ${other.pid}`);
    expect(readFileSync(pidFile(), 'utf8')).toBe(JSON.stringify(otherIdentity()));
  });
});

describe('the database in the data directory', () => {
  it('keeps experiments, journals and the emergency stop across restarts, in chaosduck.db', async () => {
    const first = await LocalRuntime.start({ dataDir, drivers: [new MemoryDriver({ targets: 1 })] });
    const record = await first.run({ name: 'kept', chaos_type: 'pod_delete', target: { provider: 'memory', labels: { app: 'demo' } }, parameters: { duration_seconds: 0 }, safety: { max_blast_radius: 1 } });
    await first.emergencyStop('kept too');
    await first.stop();

    const second = await LocalRuntime.start({ dataDir, drivers: [new MemoryDriver({ targets: 1 })] });
    try {
      expect(existsSync(join(dataDir, DATABASE_FILE))).toBe(true);
      expect(await second.store.getExperiment(record.id)).toEqual(record);
      expect(await second.journal(record.id)).toMatchObject({ status: 'completed' });
      expect(await second.store.getEmergencyStop()).toMatchObject({ active: true, reason: 'kept too' });
    } finally {
      await second.stop();
    }
  });

  it('refuses a database written by a later version, naming what to do, and changes nothing in it', () => {
    const path = join(dataDir, DATABASE_FILE);
    openDatabase(path).close();
    const later = openDatabase(path);
    later.exec('PRAGMA user_version = 99');
    later.close();

    expect(() => openDatabase(path)).toThrow(/written by a later ChaosDuck \(schema 99, this one reads \d+\); upgrade ChaosDuck, or use another --data-dir/);
  });

  it('brings a database of an earlier schema up to date, keeping what it holds', async () => {
    const first = await LocalRuntime.start({ dataDir, drivers: [new MemoryDriver({ targets: 1 })] });
    const record = await first.run({ name: 'kept', chaos_type: 'pod_delete', target: { provider: 'memory', labels: { app: 'demo' } }, parameters: { duration_seconds: 0 }, safety: { max_blast_radius: 1 } });
    await first.stop();
    // As the first schema left it: no scores table.
    const older = openDatabase(join(dataDir, DATABASE_FILE));
    older.exec('DROP TABLE scores; PRAGMA user_version = 1');
    older.close();

    const second = await LocalRuntime.start({ dataDir, drivers: [new MemoryDriver({ targets: 1 })] });
    try {
      expect(await second.store.getExperiment(record.id)).toEqual(record);
      expect(await second.store.getScore(record.id)).toBeUndefined();
      const again = await second.run({ name: 'scored', chaos_type: 'pod_delete', target: { provider: 'memory', labels: { app: 'demo' } }, parameters: { duration_seconds: 0 }, safety: { max_blast_radius: 1 } });
      expect((await second.store.getScore(again.id))?.score).toBe(100);
    } finally {
      await second.stop();
    }
  });

  it('tells a user whose data directory holds an earlier version\'s store that it is not read, and what to do', () => {
    const before = earlierStoreNotice(dataDir);
    mkdirSync(join(dataDir, 'dynamodb'));

    expect(before).toBeUndefined();
    expect(earlierStoreNotice(dataDir)).toMatch(/holds the data of an earlier ChaosDuck .* roll it back with the earlier version \(`chaosduck recover`\)/);
  });
});
