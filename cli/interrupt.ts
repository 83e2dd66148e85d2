/**
 * Ctrl-C and `kill` while something is injected. A terminal's Ctrl-C sends SIGINT to the whole process group, `kill`
 * and service managers send SIGTERM (or SIGHUP when the terminal goes): the first of them starts a clean stop (roll
 * back, write the journal); any later one only says the rollback is still going, since leaving now would leave faults
 * behind. Only SIGKILL leaves at once, and then the next start's recovery sweep finishes the rollback.
 */
import { constants } from 'node:os';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface Interruption {
  /** The first signal received, once one has been. */
  readonly signal: NodeJS.Signals | undefined;
  /** Resolves with the first signal. */
  readonly received: Promise<NodeJS.Signals>;
  /** 128 + the signal's number (130 for SIGINT), the shell's code for a process ended by a signal. */
  exitCode(): number | undefined;
  dispose(): void;
}

/** Takes over the signals until disposed; `stillGoing` is what later signals are told. */
export function watchInterrupts(stillGoing: string): Interruption {
  let first: NodeJS.Signals | undefined;
  let resolve!: (signal: NodeJS.Signals) => void;
  const received = new Promise<NodeJS.Signals>((r) => (resolve = r));
  const handler = (signal: NodeJS.Signals) => {
    if (first === undefined) {
      first = signal;
      resolve(signal);
    } else {
      console.error(`\n${signal} again: ${stillGoing}`);
    }
  };
  for (const signal of SIGNALS) process.on(signal, handler);
  // A terminal that has gone (SIGHUP) makes writes to it fail; the rollback must not die of its progress lines.
  const unwritable = (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EIO' && error.code !== 'EPIPE') throw error;
  };
  process.stdout.on('error', unwritable);
  process.stderr.on('error', unwritable);
  return {
    get signal() {
      return first;
    },
    received,
    exitCode: () => (first === undefined ? undefined : 128 + constants.signals[first]),
    dispose: () => {
      for (const signal of SIGNALS) process.off(signal, handler);
      process.stdout.off('error', unwritable);
      process.stderr.off('error', unwritable);
    },
  };
}
