/**
 * The `cmd` probe: run a command on this machine and judge its exit code and stdout. A string runs through
 * `/bin/sh -c` (pipes, globs, `$VARS`); an array runs as argv with no shell, so arguments need no quoting.
 *
 * The command gets its own process group, so a timeout kills what a shell started too, not just the shell.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { ValidationError, type FieldIssue } from '../errors.js';
import type { CmdProbe, Probe } from '../model/experiment.js';
import { BoundedCapture, excerpt } from './capture.js';
import type { ProbeEnvironment, ProbeOutcome } from './probe.js';
import { textFailures } from './text-tolerance.js';

/** Per stream; `stdout_contains` / `stdout_matches` see only this much. */
export const MAX_OUTPUT_BYTES = 64 * 1024;
export const CMD_LOCAL_ONLY = 'cmd probes run only on the local runtime';
/** After the kill, how long to wait for the pipes to close before giving up on a descendant that left the group. */
const PIPE_GRACE_MS = 1000;

/** For experiment submission: every `cmd` probe is an issue on a runtime that cannot run commands. */
export function assertProbesAllowed(probes: readonly Probe[], runtime: ProbeEnvironment['runtime']): void {
  if (runtime === 'local') return;
  const issues = probes.flatMap((probe, index): FieldIssue[] =>
    probe.type === 'cmd' ? [{ field: `probes[${index}].type`, message: CMD_LOCAL_ONLY }] : [],
  );
  if (issues.length > 0) throw new ValidationError(issues);
}

export async function runCmdProbe(probe: CmdProbe, env: ProbeEnvironment): Promise<ProbeOutcome> {
  if (env.runtime !== 'local') {
    // The index is unknown here; names are unique within an experiment, so the name pins the probe down.
    throw new ValidationError([{ field: `probes[${JSON.stringify(probe.name)}].type`, message: CMD_LOCAL_ONLY }]);
  }
  env.signal.throwIfAborted();
  const props = probe.properties;
  const run = await execute(props, env.signal);
  const failures = run.failure
    ? [run.failure]
    : [
        ...(run.signal !== null
          ? [`killed by ${run.signal}`]
          : run.exitCode !== props.expected_exit_code
            ? [`exit code ${String(run.exitCode)}, expected ${props.expected_exit_code}`]
            : []),
        ...textFailures('stdout', run.stdout, props.stdout_contains, props.stdout_matches),
      ];
  return {
    ok: failures.length === 0,
    output: {
      exit_code: run.exitCode,
      signal: run.signal,
      stdout_excerpt: excerpt(run.stdout),
      stderr_excerpt: excerpt(run.stderr),
      duration_ms: run.durationMs,
      failures,
    },
  };
}

export interface Execution {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** Set when the command did not run to its own end: it could not start, or it timed out. */
  failure: string | undefined;
}

/** What a command needs to run: argv (no shell) or a shell string, where, with what environment, for how long. */
export type CommandSpec = Pick<CmdProbe['properties'], 'command' | 'cwd' | 'env' | 'timeout_ms'>;

/** Runs a command to its end, its timeout or the signal (which rejects); it never throws for the command's failure. */
export function execute(props: CommandSpec, signal: AbortSignal): Promise<Execution> {
  const [file, ...args] = typeof props.command === 'string' ? ['/bin/sh', '-c', props.command] : props.command;
  if (file === undefined) throw new ValidationError([{ field: 'properties.command', message: 'empty command' }], 'probe');

  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, {
      cwd: props.cwd,
      env: { ...process.env, ...props.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const stdout = new BoundedCapture(MAX_OUTPUT_BYTES);
    const stderr = new BoundedCapture(MAX_OUTPUT_BYTES);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));

    let stopped: 'timeout' | 'cancelled' | undefined;
    const stop = (why: 'timeout' | 'cancelled'): void => {
      if (stopped) return;
      stopped = why;
      killGroup(child);
      // A descendant that called setsid() survives the group kill and can hold our pipes open for as long as it lives.
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, PIPE_GRACE_MS).unref();
    };
    const timer = setTimeout(() => stop('timeout'), props.timeout_ms);
    const onAbort = (): void => stop('cancelled');
    signal.addEventListener('abort', onAbort, { once: true });

    const finish = (exitCode: number | null, exitSignal: NodeJS.Signals | null, failure?: string): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (stopped === 'cancelled') {
        reject(signal.reason);
        return;
      }
      resolve({
        exitCode,
        signal: exitSignal,
        stdout: stdout.text(),
        stderr: stderr.text(),
        durationMs: Math.round(performance.now() - started),
        failure: failure ?? (stopped === 'timeout' ? `timeout after ${props.timeout_ms} ms` : undefined),
      });
    };
    // 'error' means it never started (missing binary, bad cwd); 'close' may follow it, and the promise keeps the first.
    child.once('error', (error) => finish(null, null, `failed to start: ${error.message}`));
    child.once('close', (code, exitSignal) => finish(code, exitSignal));
  });
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // ESRCH: everything in the group has already exited.
  }
}
