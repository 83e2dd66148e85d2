/**
 * The local sandbox: a demo service run as supervised replica processes behind a proxy, offered to experiments as
 * targets of provider `sandbox`. It gives every workload fault a real process, socket and clock to act on.
 */
import type { TargetRef } from '../../shared/faults/driver.js';
import { startProxy, type SandboxProxy } from './proxy.js';
import { Supervisor, type Replica } from './supervisor.js';

export const SANDBOX_PROVIDER = 'sandbox';

export interface SandboxOptions {
  service?: string;
  replicas?: number;
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
  /** The proxy's URL: where clients and probes send requests. */
  url: string;
  supervisor: Supervisor;
  proxy: SandboxProxy;
  /** Every live replica as a target, ready or not. */
  replicas(): TargetRef[];
  targetId(replicaId: string): string;
  awaitReady(timeoutMs?: number, signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}

export async function startSandbox({
  service = 'demo',
  replicas = 3,
  labels = { app: 'demo' },
  proxyPort = 0,
  restartDelayMs,
  readyTimeoutMs = 30_000,
}: SandboxOptions = {}): Promise<Sandbox> {
  const supervisor = new Supervisor({ service, replicas, restartDelayMs });
  const proxy = await startProxy({
    port: proxyPort,
    upstreams: () => supervisor.readyReplicas().flatMap(({ id, port }) => (port === null ? [] : [{ id, port }])),
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

  const targetId = (replicaId: string): string => `${SANDBOX_PROVIDER}/${service}/${replicaId}`;
  const toTarget = (replica: Replica): TargetRef => ({
    provider: SANDBOX_PROVIDER,
    id: targetId(replica.id),
    labels: { ...labels, replica: replica.id },
    details: { service, pid: replica.pid, port: replica.port, ready: replica.ready },
  });
  return {
    service,
    labels: { ...labels },
    url: proxy.url,
    supervisor,
    proxy,
    replicas: () => supervisor.replicas().map(toTarget),
    targetId,
    awaitReady: (timeoutMs = readyTimeoutMs, signal) => supervisor.awaitReady(timeoutMs, signal),
    stop,
  };
}
