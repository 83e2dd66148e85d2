/**
 * Keeps N replicas of the demo service running, as a ReplicaSet does: a replica that dies is replaced, after a short
 * restart delay, by a new one with a new id. Every death is recorded with the moment its replacement became ready, so
 * an experiment can measure recovery time.
 *
 * A replica runs in one of two modes:
 *   process     a forked Node process (`demo-service.ts`), about 40 MB each: a handful of replicas, real pids.
 *   in-process  a `node:http` server inside this process on its own 127.0.0.1 port, a few kB each: a thousand replicas
 *               on one machine. Every such replica reports this process's pid; its id is what tells it apart.
 * Both answer the same requests (`demo-app.ts`), and the supervisor treats them alike: ready tracking, deaths,
 * restarts and exit records. Only starting and ending a replica differ, behind `ReplicaInstance`.
 */
import type { AddressInfo, Socket } from 'node:net';
import { closeGracefully, createDemoServer, type ReadyMessage } from './demo-app.js';
import { forkSupervised, isRunning, siblingModule } from '../processes.js';
import { pollUntil } from '../wait.js';

const DEMO_SERVICE = siblingModule(import.meta.url, 'demo-service');

/** A SIGKILLed process is gone within milliseconds unless stuck in the kernel; this only bounds that case. */
const KILL_TIMEOUT_MS = 10_000;

export type ReplicaMode = 'process' | 'in-process';
export const REPLICA_MODES: readonly ReplicaMode[] = ['process', 'in-process'];

export interface Replica {
  /** `replica-<n>`, never reused within one supervisor. */
  id: string;
  /** The replica's own process in mode `process`; in mode `in-process`, the supervisor's process, shared by all. */
  pid: number;
  /** Set once the replica reports that it listens. */
  port: number | null;
  ready: boolean;
  startedAt: number;
  readyAt: number | null;
}

/** Where a ready replica listens, as the proxy needs it. */
export interface ReplicaEndpoint {
  readonly id: string;
  readonly port: number;
}

export interface ReplicaExit {
  replica: string;
  /** As `Replica.pid`: in mode `in-process` the supervisor's own pid, which lives on. */
  pid: number;
  diedAt: number;
  /**
   * How the replica ended, in process terms for both modes: a clean shutdown (SIGTERM, or an in-process replica
   * closed gracefully) is exit code 0; a kill (SIGKILL, or an in-process replica closed with its connections
   * destroyed) is signal SIGKILL; an in-process server that failed (e.g. could not listen) is exit code 1.
   */
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
  /** Default `process`. */
  mode?: ReplicaMode;
}

export interface KillOptions {
  /** > 0: end the replica gracefully first (SIGTERM, or close and drain), and kill it only if still alive after. */
  graceMs?: number;
  /** How long to wait for the kill itself to take effect. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface KillOutcome {
  /** What ended the replica, or was sent last: SIGTERM when it exited within the grace period. */
  signal: 'SIGTERM' | 'SIGKILL';
  /** False if the replica outlived the kill's timeout; true means its exit is recorded (`exitOfReplica`). */
  exited: boolean;
}

/** One running replica, whichever way it runs: all the supervisor needs to end it. */
interface ReplicaInstance {
  readonly pid: number;
  /** False once the replica is dead, possibly before its exit has reached the supervisor. */
  alive(): boolean;
  /** Graceful end: stop taking connections, finish those in flight, exit 0. */
  terminate(): void;
  /** Immediate end: as SIGKILL, open connections are cut. */
  forceKill(): void;
}

interface ReplicaEvents {
  ready(port: number): void;
  exit(exitCode: number | null, signal: NodeJS.Signals | null): void;
}

/** Starts replica `id`; null when it could not even be started (the supervisor retries as after a crash). */
type Launcher = (id: string, service: string, events: ReplicaEvents) => ReplicaInstance | null;

interface LiveReplica {
  replica: Replica;
  instance: ReplicaInstance;
  /** Settles when the replica has exited and the supervisor has recorded it. */
  exited: Promise<void>;
}

export class Supervisor {
  readonly service: string;
  readonly desired: number;
  readonly restartDelayMs: number;
  readonly mode: ReplicaMode;
  readonly #launch: Launcher;
  readonly #live = new Map<string, LiveReplica>();
  readonly #exits: ReplicaExit[] = [];
  readonly #exitByReplica = new Map<string, ReplicaExit>();
  readonly #restarts = new Set<NodeJS.Timeout>();
  #readyCount = 0;
  /** The ready replicas' endpoints, rebuilt only after a replica became ready or died. */
  #endpoints: readonly ReplicaEndpoint[] | null = null;
  #nextId = 1;
  #stopped = false;

  constructor({ service, replicas, restartDelayMs = 200, mode = 'process' }: SupervisorOptions) {
    if (!REPLICA_MODES.includes(mode)) throw new TypeError(`unknown replica mode ${String(mode)}`);
    this.service = service;
    this.desired = replicas;
    this.restartDelayMs = restartDelayMs;
    this.mode = mode;
    this.#launch = mode === 'in-process' ? launchInProcess : launchProcess;
  }

  /** Starts every replica at once; they become ready concurrently (`awaitReady`). */
  start(): void {
    for (let i = 0; i < this.desired; i++) this.#spawn(null);
  }

  /** Live replicas (ready or starting), oldest first. Copies, so callers cannot change the supervisor's state. */
  replicas(): Replica[] {
    return [...this.#live.values()].map(({ replica }) => ({ ...replica }));
  }

  /** One live replica by id (a copy), in constant time. */
  replica(id: string): Replica | undefined {
    const live = this.#live.get(id);
    return live && { ...live.replica };
  }

  readyReplicas(): Replica[] {
    return [...this.#live.values()].filter(({ replica }) => replica.ready).map(({ replica }) => ({ ...replica }));
  }

  readyCount(): number {
    return this.#readyCount;
  }

  /** Where the ready replicas listen, oldest first. Cached between changes, so asking per request is cheap; do not modify. */
  readyEndpoints(): readonly ReplicaEndpoint[] {
    this.#endpoints ??= Object.freeze(
      [...this.#live.values()].flatMap(({ replica: { id, port, ready } }) => (ready && port !== null ? [Object.freeze({ id, port })] : [])),
    );
    return this.#endpoints;
  }

  /** Whether replica `id` is listed and still alive (a listed replica may already be dead, its exit not yet seen). */
  isAlive(id: string): boolean {
    return this.#live.get(id)?.instance.alive() ?? false;
  }

  exits(): ReplicaExit[] {
    return this.#exits.map((exit) => ({ ...exit }));
  }

  /** The exit of the replica that ran as `pid`. Mode `process` only: in-process replicas all share one pid. */
  exitOf(pid: number): ReplicaExit | undefined {
    const exit = this.#exits.find((candidate) => candidate.pid === pid);
    return exit && { ...exit };
  }

  /** The exit of replica `id`, in either mode. */
  exitOfReplica(id: string): ReplicaExit | undefined {
    const exit = this.#exitByReplica.get(id);
    return exit && { ...exit };
  }

  async awaitReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    await pollUntil(() => this.#readyCount >= this.desired, {
      timeoutMs,
      what: `${this.service} to have ${this.desired} ready replicas`,
      signal,
    });
  }

  /**
   * Ends a live replica as a pod delete does: gracefully first when given a grace period, then by force (SIGKILL for
   * a process; for an in-process replica, closing its server and destroying its connections). Resolves once the
   * replica has exited and its exit is recorded, so the supervisor is already replacing it; the process running an
   * in-process replica is never signalled.
   */
  async kill(id: string, { graceMs = 0, timeoutMs = KILL_TIMEOUT_MS, signal }: KillOptions = {}): Promise<KillOutcome> {
    signal?.throwIfAborted();
    const live = this.#live.get(id);
    if (!live) throw new Error(`${id} is not a live replica of ${this.service}`);
    if (graceMs > 0) {
      live.instance.terminate();
      if (await settlesWithin(live.exited, graceMs, signal)) return { signal: 'SIGTERM', exited: true };
    }
    // As the kubelet does: whatever has not exited when the grace period ends is killed.
    live.instance.forceKill();
    return { signal: 'SIGKILL', exited: await settlesWithin(live.exited, timeoutMs, signal) };
  }

  /** Ends every replica (by force) and restarts none; in mode `in-process` every server is closed when this resolves. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#restarts) clearTimeout(timer);
    this.#restarts.clear();
    await Promise.all(
      [...this.#live.values()].map(({ instance, exited }) => {
        instance.forceKill();
        return exited;
      }),
    );
  }

  #spawn(replacing: ReplicaExit | null): void {
    const id = `replica-${this.#nextId++}`;
    const replica: Replica = { id, pid: 0, port: null, ready: false, startedAt: Date.now(), readyAt: null };
    let settle = (): void => undefined;
    const exited = new Promise<void>((resolve) => (settle = resolve));
    const isCurrent = (): boolean => this.#live.get(id)?.replica === replica;

    const instance = this.#launch(id, this.service, {
      ready: (port) => {
        if (replica.ready || !isCurrent()) return;
        replica.port = port;
        replica.ready = true;
        replica.readyAt = Date.now();
        this.#readyCount++;
        this.#endpoints = null;
        if (replacing) replacing.replacementReadyAt = replica.readyAt;
      },
      exit: (exitCode, signal) => {
        if (!isCurrent()) return;
        this.#live.delete(id);
        if (replica.ready) {
          this.#readyCount--;
          this.#endpoints = null;
        }
        if (!this.#stopped) {
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
          this.#exitByReplica.set(id, exit);
          this.#scheduleSpawn(exit);
        }
        settle();
      },
    });
    if (!instance) {
      this.#scheduleSpawn(replacing);
      return;
    }
    replica.pid = instance.pid;
    if (replacing) replacing.replacement = id;
    this.#live.set(id, { replica, instance, exited });
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

/** A replica as its own process, which reports its port over IPC. */
const launchProcess: Launcher = (id, service, events) => {
  const child = forkSupervised(DEMO_SERVICE, ['--service', service, '--replica', id]);
  if (child.pid === undefined) {
    // The spawn itself failed (e.g. EAGAIN); the error event follows, and unheard would crash this process.
    child.once('error', () => undefined);
    return null;
  }
  const pid = child.pid;
  child.on('message', (message: Partial<ReadyMessage>) => {
    if (message.type === 'ready' && typeof message.port === 'number') events.ready(message.port);
  });
  child.once('exit', (exitCode, signal) => events.exit(exitCode, signal));
  return {
    pid,
    alive: () => child.exitCode === null && child.signalCode === null && isRunning(pid),
    terminate: () => void child.kill('SIGTERM'),
    forceKill: () => void child.kill('SIGKILL'),
  };
};

/**
 * A replica as an HTTP server in this process. Its "death" is its server closing: gracefully (drain, exit code 0), or
 * by force (every open connection destroyed at once, as the kernel does for a killed process: signal SIGKILL).
 */
const launchInProcess: Launcher = (id, service, events) => {
  const server = createDemoServer({ service, replica: id, pid: process.pid });
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  let ending: { exitCode: number | null; signal: NodeJS.Signals | null } | null = null;
  let closing = false;
  let exited = false;

  const exit = (): void => {
    if (exited) return;
    exited = true;
    events.exit(ending?.exitCode ?? null, ending?.signal ?? null);
  };
  /** Acts on `ending` once the server listens (before that, the listen callback calls it). */
  const end = (): void => {
    if (!closing && !server.listening) return;
    const killed = ending?.signal === 'SIGKILL' || ending?.exitCode === 1;
    if (!closing) {
      closing = true;
      if (killed) server.close(exit);
      else closeGracefully(server, exit);
    }
    // Also after a graceful close began: a kill when the grace period ends cuts what is still draining.
    if (killed) for (const socket of sockets) socket.destroy();
  };

  server.on('error', () => {
    // Could not listen (e.g. out of file descriptors), or failed later: the replica crashed and will be replaced.
    ending ??= { exitCode: 1, signal: null };
    if (server.listening) end();
    else exit();
  });
  server.listen(0, '127.0.0.1', () => {
    if (ending) end();
    else events.ready((server.address() as AddressInfo).port);
  });

  return {
    pid: process.pid,
    alive: () => !exited && ending?.signal !== 'SIGKILL',
    terminate: () => {
      if (ending) return;
      ending = { exitCode: 0, signal: null };
      end();
    },
    forceKill: () => {
      if (exited || ending?.signal === 'SIGKILL') return;
      ending = { exitCode: null, signal: 'SIGKILL' };
      end();
    },
  };
};

/** True if `promise` settles within `ms`; rejects if `signal` aborts first. */
async function settlesWithin(promise: Promise<unknown>, ms: number, signal?: AbortSignal): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      promise.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
      new Promise<never>((_resolve, reject) => {
        if (!signal) return;
        onAbort = () => reject(signal.reason);
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
