/**
 * The embedded runtime's data directory (`.chaosduck` by default): one runtime at a time may use it.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processIdentity } from './processes.js';

export class DataDirectoryInUseError extends Error {
  override readonly name = 'DataDirectoryInUseError';
}

/**
 * Claims the data directory for this process with a pid file, so a second runtime on the same directory is refused
 * with a clear message: each would take the other's runs for crashed ones and roll them back. The file names the
 * holder by pid, start time and boot, so a pid that another process has since reused is not taken for the holder: a
 * file left by a killed process is taken over, which is the crash the recovery sweep exists for. Returns the release
 * function.
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

/**
 * What to tell a user whose data directory still holds the store of an earlier ChaosDuck (dynalite's LevelDB folder,
 * `dynamodb/`), which this version does not read: its experiments are not listed, and one a crash left running is not
 * rolled back from it.
 */
export function earlierStoreNotice(dataDir: string): string | undefined {
  const earlier = join(dataDir, 'dynamodb');
  if (!existsSync(earlier)) return undefined;
  return (
    `note: ${earlier} holds the data of an earlier ChaosDuck (DynamoDB on dynalite); this version keeps its data in ` +
    `${join(dataDir, 'chaosduck.db')} and does not read it. If an experiment was running there when it stopped, roll it back ` +
    'with the earlier version (`chaosduck recover`); then delete the folder, and this note goes.'
  );
}
