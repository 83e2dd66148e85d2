/**
 * The local sandbox: a demo service run as supervised replicas behind a proxy, offered to experiments as targets of
 * provider `sandbox`. It gives every workload fault a real process (or server), socket and clock to act on.
 *
 * Replica modes (`replicaMode`):
 *   process     (default) each replica is a forked Node process, about 40 MB each: a handful of replicas.
 *   in-process  each replica is a `node:http` server in this process, on its own 127.0.0.1 port: a thousand replicas
 *               start in well under a second. They answer exactly what a replica process does, but every one reports
 *               this process's pid (in its responses, its target's `details.pid`, fault outputs and exit records);
 *               the replica id tells them apart. pod_delete closes the replica's server and cuts its connections
 *               instead of signalling a process; network faults and stress workers work as in mode `process`.
 */
import type { TargetRef } from '../../shared/faults/driver.js';
import { startProxy, type SandboxProxy } from './proxy.js';
import { Supervisor, type Replica, type ReplicaMode } from './supervisor.js';
import { SANDBOX_PROVIDER } from '../defaults.js';

export type { ReplicaMode } from './supervisor.js';
export { SANDBOX_PROVIDER };

export interface SandboxOptions {
  service?: string;
  replicas?: number;
  /** `process` (default): one forked process per replica; `in-process`: one HTTP server per replica in this process. */
  replicaMode?: ReplicaMode;
  labels?: Record<string, string>;
  /** 0 picks a free port. */
  proxyPort?: number;
  restartDelayMs?: number;
  /** How long `startSandbox` waits for every replica to be ready. */
  readyTimeoutMs?: number;
}

export interface Sandbox {
  service: string;
  labels: Record<string, string>;
  replicaMode: ReplicaMode;
  /** The proxy's URL: where clients and probes send requests. */
  url: string;
  supervisor: Supervisor;
  proxy: SandboxProxy;
  /** Every live replica as a target, ready or not. */
  replicas(): TargetRef[];
  /** One live replica as a target, looked up by id in constant time. */
  target(replicaId: string): TargetRef | undefined;
  targetId(replicaId: string): string;
  /** The replica id in one of this sandbox's target ids; undefined for a target id of another service. */
  replicaIdOf(targetId: string): string | undefined;
  awaitReady(timeoutMs?: number, signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}

export async function startSandbox({
  service = 'demo',
  replicas = 3,
  replicaMode = 'process',
  labels = { app: 'demo' },
  proxyPort = 0,
  restartDelayMs,
  readyTimeoutMs = 30_000,
}: SandboxOptions = {}): Promise<Sandbox> {
  const supervisor = new Supervisor({ service, replicas, restartDelayMs, mode: replicaMode });
  const proxy = await startProxy({
    port: proxyPort,
    upstreams: () => supervisor.readyEndpoints(),
  });
  supervisor.start();
  const stop = async (): Promise<void> => {
    await Promise.all([supervisor.stop(), proxy.close()]);
  };
  try {
    await supervisor.awaitReady(readyTimeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }

  const targetPrefix = `${SANDBOX_PROVIDER}/${service}/`;
  const targetId = (replicaId: string): string => `${targetPrefix}${replicaId}`;
  const toTarget = (replica: Replica): TargetRef => ({
    provider: SANDBOX_PROVIDER,
    id: targetId(replica.id),
    labels: { ...labels, replica: replica.id },
    details: { service, mode: replicaMode, pid: replica.pid, port: replica.port, ready: replica.ready },
  });
  return {
    service,
    labels: { ...labels },
    replicaMode,
    url: proxy.url,
    supervisor,
    proxy,
    replicas: () => supervisor.replicas().map(toTarget),
    target: (replicaId) => {
      const replica = supervisor.replica(replicaId);
      return replica && toTarget(replica);
    },
    targetId,
    replicaIdOf: (id) => (id.startsWith(targetPrefix) && id.length > targetPrefix.length ? id.slice(targetPrefix.length) : undefined),
    awaitReady: (timeoutMs = readyTimeoutMs, signal) => supervisor.awaitReady(timeoutMs, signal),
    stop,
  };
}
