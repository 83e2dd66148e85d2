/**
 * Helpers for the state-machine tests: a real HTTP service for the probes to judge, experiment documents for the
 * memory driver, progress-event waits, and a tap on aws-local-stepfunctions' event logs that counts entered states.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StateMachine } from 'aws-local-stepfunctions';
import { vi } from 'vitest';
import type { LocalEventBus, EventPattern } from '../../local/event-bus.js';
import type { ExperimentInput } from '../../shared/model/experiment.js';
import type { JournalEvent } from '../../shared/model/lifecycle.js';

// ---- the service under test ------------------------------------------------------------------------------------------

export interface HealthServer {
  /** `http://127.0.0.1:<port><path>` */
  url(path: string): string;
  /** The status each path answers with; a path not set answers 200. Change it mid-test to break the service. */
  status: Map<string, number | (() => number)>;
  /** Requests seen per path. */
  hits: Map<string, number>;
  /**
   * Paths whose answer is held until `release(path)`: lets a test keep an observation tick in flight while it does
   * something else, without guessing at durations.
   */
  hold(path: string): void;
  release(path: string): void;
  /** Resolves when a request for `path` arrives (or has arrived since the server started). */
  requested(path: string): Promise<void>;
  close(): Promise<void>;
}

export async function startHealthServer(): Promise<HealthServer> {
  const status = new Map<string, number | (() => number)>();
  const hits = new Map<string, number>();
  const held = new Map<string, ServerResponse[]>();
  const waiters = new Map<string, (() => void)[]>();
  const answer = (path: string, res: ServerResponse) => {
    const wanted = status.get(path) ?? 200;
    res.statusCode = typeof wanted === 'function' ? wanted() : wanted;
    res.end(res.statusCode < 400 ? 'ok' : 'broken');
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    for (const wake of waiters.get(path) ?? []) wake();
    waiters.delete(path);
    const queue = held.get(path);
    if (queue) queue.push(res);
    else answer(path, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    status,
    hits,
    hold: (path) => void held.set(path, held.get(path) ?? []),
    release: (path) => {
      const queue = held.get(path) ?? [];
      held.delete(path);
      for (const res of queue) answer(path, res);
    },
    requested: (path) =>
      (hits.get(path) ?? 0) > 0 ? Promise.resolve() : new Promise((resolve) => waiters.set(path, [...(waiters.get(path) ?? []), resolve])),
    close: async () => {
      for (const path of [...held.keys()]) {
        for (const res of held.get(path) ?? []) res.destroy();
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- experiments -----------------------------------------------------------------------------------------------------

type ProbeMode = 'sot' | 'eot' | 'continuous' | 'on_chaos';
export const httpProbe = (name: string, url: string, mode: ProbeMode, timeoutMs = 5_000) => ({
  name,
  type: 'http' as const,
  mode,
  properties: { url, timeout_ms: timeoutMs },
});

export interface ExperimentOptions {
  name?: string;
  selection?: string;
  durationSeconds?: number;
  safety?: NonNullable<Extract<ExperimentInput, { chaos_type: 'pod_delete' }>['safety']>;
  probes?: ReturnType<typeof httpProbe>[];
}

/** A pod_delete experiment on the memory driver's `app=demo` targets. */
export function memoryExperiment(options: ExperimentOptions = {}): ExperimentInput {
  return {
    name: options.name ?? 'memory-pod-delete',
    chaos_type: 'pod_delete',
    target: { provider: 'memory', labels: { app: 'demo' }, selection: options.selection ?? 'COUNT(1)' },
    parameters: { duration_seconds: options.durationSeconds ?? 0 },
    safety: { timeout_seconds: 60, max_blast_radius: 1, ...options.safety },
    probes: options.probes ?? [],
  };
}

// ---- progress events -------------------------------------------------------------------------------------------------

/** The first progress event that matches, from now on. Subscribe before starting what publishes it. */
export function nextEvent(bus: LocalEventBus, pattern: EventPattern, matches: (event: JournalEvent) => boolean = () => true): Promise<JournalEvent> {
  return new Promise((resolve) => {
    const unsubscribe = bus.subscribe(pattern, (event) => {
      if (!matches(event)) return;
      unsubscribe();
      resolve(event);
    });
  });
}

// ---- executions ------------------------------------------------------------------------------------------------------

export interface EnteredState {
  /** The state machine the state belongs to (`experiment`, `observe`…), from the execution ARN. */
  machine: string;
  execution: string;
  state: string;
}

export interface ExecutionTap {
  /** Every state entered by every execution (parent and child) since the tap was set, in order. */
  entered: EnteredState[];
  /** Waits until the event logs of every execution seen so far have closed. */
  logsClosed(): Promise<void>;
  /**
   * Waits until every Task invocation started so far has returned or thrown — including tasks that keep running after
   * their execution was stopped, as a Lambda does after StopExecution.
   */
  tasksSettled(): Promise<void>;
}

export interface TapOptions {
  /**
   * Called before each Task state's handler runs, with the state's name; the handler waits for the promise it returns.
   * Lets a test hold a task (e.g. `Begin`) whatever that task does inside.
   */
  beforeTask?: (state: string) => Promise<void> | undefined;
}

/**
 * Taps every run of aws-local-stepfunctions from here on, without touching the runtime: reads the event log each run
 * returns and wraps the run's Task handlers to see when they settle. Do not combine with the runtime's own
 * `countTransitions`, which reads the same event log. Restore with `vi.restoreAllMocks()`.
 */
export function tapExecutions({ beforeTask }: TapOptions = {}): ExecutionTap {
  const entered: EnteredState[] = [];
  const readers: Promise<void>[] = [];
  const tasks: Promise<unknown>[] = [];
  const original = StateMachine.prototype.run;
  vi.spyOn(StateMachine.prototype, 'run').mockImplementation(function (this: StateMachine, input, options) {
    const handlers = options?.overrides?.taskResourceLocalHandlers ?? {};
    const wrapped = Object.fromEntries(
      Object.entries(handlers).map(([state, handler]) => [
        state,
        (taskInput: Parameters<typeof handler>[0]) => {
          const result = Promise.resolve(beforeTask?.(state)).then(() => handler(taskInput));
          tasks.push(result.catch(() => undefined));
          return result;
        },
      ]),
    );
    const run = original.call(this, input, { ...options, overrides: { ...options?.overrides, taskResourceLocalHandlers: wrapped } });
    const execution = String((options?.context?.Execution as { Id?: unknown } | undefined)?.Id ?? 'unknown');
    const machine = /:execution:chaosduck-([a-z-]+):/.exec(execution)?.[1] ?? 'unknown';
    readers.push(
      (async () => {
        for await (const event of run.eventLogs) {
          if (event.type === 'StateEntered') entered.push({ machine, execution, state: event.state.name });
        }
      })(),
    );
    return run;
  });
  const drain = async (promises: Promise<unknown>[]) => {
    // A settling task may start executions that start more tasks: wait until nothing new has appeared.
    for (let seen = -1; seen !== promises.length; ) {
      seen = promises.length;
      await Promise.all(promises);
    }
  };
  return { entered, logsClosed: () => drain(readers), tasksSettled: () => drain(tasks) };
}
