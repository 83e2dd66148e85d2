/** Starting and stopping the detached stress workers behind cpu_stress and memory_stress. */
import { spawn } from 'node:child_process';
import { findProcessesWithArg, killAndWait, nodeOptionsFor, siblingModule } from '../processes.js';

const STRESS_WORKER = siblingModule(import.meta.url, 'stress-worker');

export type StressLoad = { kind: 'cpu'; workers: number; loadPercent: number } | { kind: 'memory'; memoryMb: number };

export interface StressRequest {
  /** `<experimentId>:<rollbackSeq>`: every worker of one fault carries it. */
  marker: string;
  /** Recorded on the command line so `ps` shows what a worker is for. */
  target: string;
  /** Epoch ms at which the workers end themselves. */
  endsAt: number;
  load: StressLoad;
}

export function stressMarker(experimentId: string, rollbackSeq: number): string {
  return `${experimentId}:${rollbackSeq}`;
}

/** The exact command-line argument a worker carries. */
export function stressMarkerArg(marker: string): string {
  return `--chaosduck-stress=${marker}`;
}

/** Spawns the workers detached, so they keep running (until `endsAt`) if this process dies. Returns their pids. */
export function spawnStressWorkers({ marker, target, endsAt, load }: StressRequest): number[] {
  const loadArgs =
    load.kind === 'cpu' ? ['--kind=cpu', `--load-percent=${load.loadPercent}`] : ['--kind=memory', `--memory-mb=${load.memoryMb}`];
  const count = load.kind === 'cpu' ? load.workers : 1;
  const pids: number[] = [];
  for (let i = 0; i < count; i++) {
    const child = spawn(
      process.execPath,
      [...nodeOptionsFor(STRESS_WORKER), STRESS_WORKER, stressMarkerArg(marker), `--target=${target}`, `--ends-at=${endsAt}`, ...loadArgs],
      { detached: true, stdio: 'ignore' },
    );
    child.unref();
    // A failed spawn is reported through the missing pid; unheard, its error event would crash this process.
    child.once('error', () => undefined);
    if (child.pid === undefined) throw new Error(`could not start stress worker ${i + 1} of ${count} for ${marker}`);
    pids.push(child.pid);
  }
  return pids;
}

/** Pids of the running workers that carry `marker`, whichever process started them. */
export function findStressWorkers(marker: string): number[] {
  return findProcessesWithArg(stressMarkerArg(marker));
}

/** Kills every worker with `marker` and waits until they are gone; none left is fine. */
export async function stopStressWorkers(marker: string, timeoutMs: number, signal?: AbortSignal): Promise<number[]> {
  const pids = findStressWorkers(marker);
  await killAndWait(pids, timeoutMs, signal);
  return pids;
}
