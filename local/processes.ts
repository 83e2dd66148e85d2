/**
 * Process helpers for the embedded runtime and the sandbox: starting their helper processes (the built JavaScript, or
 * the TypeScript sources through tsx when that is what runs), and finding or ending processes by a command-line
 * marker through /proc, which works from any process, including one started after a crash.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { extname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pollUntil } from './wait.js';

/** `--import` value that loads tsx, resolved from this file so children start the same way whatever their cwd. */
export function tsxImportUrl(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
}

/**
 * A helper module beside the caller, as the caller runs: `dist/…/name.js` from the built JavaScript, `…/name.ts`
 * from the sources (tests, or a checkout whose build is out of date).
 */
export function siblingModule(callerUrl: string, name: string): string {
  return fileURLToPath(new URL(`./${name}${extname(fileURLToPath(callerUrl))}`, callerUrl));
}

/** Node's options to run `module`: tsx only for TypeScript. */
export function nodeOptionsFor(module: string): string[] {
  return module.endsWith('.ts') ? ['--import', tsxImportUrl()] : [];
}

export const canScanProcesses = process.platform === 'linux';

/**
 * Starts a module as a child this process supervises (the sandbox's replica processes), talking over IPC. The
 * child gets a process group of its own, so a Ctrl-C or a `kill` sent to the control plane's whole group does not end
 * it while the control plane still needs it to roll back; it ends itself when its parent goes (IPC disconnect).
 */
export function forkSupervised(module: string, args: readonly string[]): ChildProcess {
  return fork(module, args, { execArgv: nodeOptionsFor(module), stdio: ['ignore', 'ignore', 'inherit', 'ipc'], detached: true });
}

/** True while `pid` runs; a zombie (killed, not yet reaped by its parent) counts as gone. */
export function isRunning(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // The state follows the command name, which is in parentheses and may itself hold spaces or parentheses.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/**
 * What tells a process apart from a later one that reuses its pid: its start time (clock ticks after boot, from
 * /proc/<pid>/stat) and the boot it started in. Undefined when the process is gone (or on a system without /proc).
 */
export function processIdentity(pid: number): { pid: number; started: string; boot: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, starttime field 22.
    const started = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    if (!started || !isRunning(pid)) return undefined;
    return { pid, started, boot: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() };
  } catch {
    return undefined;
  }
}

/** Waits up to `timeoutMs` for `pid` to end; false if it still runs by then. */
export async function awaitExit(pid: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isRunning(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(25, undefined, { signal });
  }
  return true;
}

/** Pids of running processes (other than this one) that have `arg` as one whole command-line argument. */
export function findProcessesWithArg(arg: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // ended while we looked, or not ours to read
    }
    if (cmdline.split('\0').includes(arg) && isRunning(pid)) pids.push(pid);
  }
  return pids;
}

/** SIGKILLs every pid and waits until all are gone. */
export async function killAndWait(pids: readonly number[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
  await pollUntil(() => pids.every((pid) => !isRunning(pid)), { timeoutMs, what: `processes ${pids.join(', ')} to end`, signal });
}
