/**
 * Keeps N replicas of the demo service running, as a ReplicaSet does: a replica that dies is replaced, after a short
 * restart delay, by a new one with a new id and pid. Every death is recorded with the moment its replacement became
 * ready, so an experiment can measure recovery time.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ReadyMessage } from './demo-service.js';
import { tsxImportUrl } from '../processes.js';
import { pollUntil } from '../wait.js';

const DEMO_SERVICE = fileURLToPath(new URL('./demo-service.ts', import.meta.url));

export interface Replica {
  /** `replica-<n>`, never reused within one supervisor. */
  id: string;
  pid: number;
  /** Set once the replica reports that it listens. */
  port: number | null;
  ready: boolean;
  startedAt: number;
  readyAt: number | null;
}

export interface ReplicaExit {
  replica: string;
  pid: number;
  diedAt: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The replica started in its place, once the restart delay has passed. */
  replacement: string | null;
  replacementReadyAt: number | null;
}

export interface SupervisorOptions {
  service: string;
  replicas: number;
  restartDelayMs?: number;
}

export class Supervisor {
  readonly service: string;
  readonly desired: number;
  readonly restartDelayMs: number;
  readonly #live = new Map<string, { replica: Replica; child: ChildProcess }>();
  readonly #exits: ReplicaExit[] = [];
  readonly #restarts = new Set<NodeJS.Timeout>();
  #nextId = 1;
  #stopped = false;

  constructor({ service, replicas, restartDelayMs = 200 }: SupervisorOptions) {
    this.service = service;
    this.desired = replicas;
    this.restartDelayMs = restartDelayMs;
  }

  start(): void {
    for (let i = 0; i < this.desired; i++) this.#spawn(null);
  }

  /** Live replicas (ready or starting), oldest first. Copies, so callers cannot change the supervisor's state. */
  replicas(): Replica[] {
    return [...this.#live.values()].map(({ replica }) => ({ ...replica }));
  }

  readyReplicas(): Replica[] {
    return this.replicas().filter((replica) => replica.ready);
  }

  exits(): ReplicaExit[] {
    return this.#exits.map((exit) => ({ ...exit }));
  }

  exitOf(pid: number): ReplicaExit | undefined {
    const exit = this.#exits.find((candidate) => candidate.pid === pid);
    return exit && { ...exit };
  }

  async awaitReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    await pollUntil(() => this.readyReplicas().length >= this.desired, {
      timeoutMs,
      what: `${this.service} to have ${this.desired} ready replicas`,
      signal,
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#restarts) clearTimeout(timer);
    this.#restarts.clear();
    await Promise.all(
      [...this.#live.values()].map(({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return undefined;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        return exited;
      }),
    );
  }

  #spawn(replacing: ReplicaExit | null): void {
    const id = `replica-${this.#nextId++}`;
    const child = fork(DEMO_SERVICE, ['--service', this.service, '--replica', id], {
      execArgv: ['--import', tsxImportUrl()],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    if (child.pid === undefined) {
      // The spawn itself failed (e.g. EAGAIN); the error event follows. Try again as after a crash.
      child.once('error', () => undefined);
      this.#scheduleSpawn(replacing);
      return;
    }
    const replica: Replica = { id, pid: child.pid, port: null, ready: false, startedAt: Date.now(), readyAt: null };
    if (replacing) replacing.replacement = id;
    this.#live.set(id, { replica, child });

    child.on('message', (message: Partial<ReadyMessage>) => {
      if (message.type !== 'ready' || typeof message.port !== 'number') return;
      replica.port = message.port;
      replica.ready = true;
      replica.readyAt = Date.now();
      if (replacing) replacing.replacementReadyAt = replica.readyAt;
    });
    child.once('exit', (exitCode, signal) => {
      this.#live.delete(id);
      if (this.#stopped) return;
      const exit: ReplicaExit = {
        replica: id,
        pid: replica.pid,
        diedAt: Date.now(),
        exitCode,
        signal,
        replacement: null,
        replacementReadyAt: null,
      };
      this.#exits.push(exit);
      this.#scheduleSpawn(exit);
    });
  }

  #scheduleSpawn(replacing: ReplicaExit | null): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => {
      this.#restarts.delete(timer);
      if (!this.#stopped) this.#spawn(replacing);
    }, this.restartDelayMs);
    this.#restarts.add(timer);
  }
}
