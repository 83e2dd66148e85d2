/**
 * What the embedded runtime can target now, as the topology and analysis routes and commands ask it: the topology
 * sources the runtime was given (Kubernetes, AWS), and the sandbox when it has one.
 */
import { readTopology, type TopologySources } from '../functions/api/core.js';
import type { JsonObject } from '../shared/journal/activity.js';
import { SANDBOX_PROVIDER } from './defaults.js';
import type { LocalRuntime } from './runtime.js';
import type { Sandbox } from './sandbox/sandbox.js';

/**
 * The sandbox as the topology routes show it: its service, labels and address, and each live replica with its target
 * id (as a dry run names it) and whether it is ready.
 */
export function sandboxTopology(sandbox: Sandbox): JsonObject {
  return {
    available: true,
    service: sandbox.service,
    url: sandbox.url,
    labels: sandbox.labels,
    replica_mode: sandbox.replicaMode,
    desired_replicas: sandbox.supervisor.desired,
    ready_replicas: sandbox.supervisor.readyCount(),
    replicas: sandbox.replicas().map((target) => ({
      id: sandbox.replicaIdOf(target.id) ?? target.id,
      target: target.id,
      labels: target.labels,
      ready: target.details.ready === true,
      pid: (target.details.pid as number | undefined) ?? null,
      port: (target.details.port as number | undefined) ?? null,
    })),
  };
}

/** The runtime's topology sources, with the sandbox's when it runs. */
export function topologySources(runtime: LocalRuntime, sandbox?: Sandbox): TopologySources {
  return sandbox ? { ...runtime.topology, sandbox: async () => sandboxTopology(sandbox) } : runtime.topology;
}

/**
 * Everything this runtime can target. A sandbox that is not running yet (the CLI starts it when first needed) is
 * still there to target: `{available: true}`, without replicas.
 */
export async function runtimeTopology(runtime: LocalRuntime, sandbox?: Sandbox): Promise<JsonObject> {
  const topology = await readTopology(topologySources(runtime, sandbox));
  const notStarted = !topology.sandbox && runtime.deps.drivers.has(SANDBOX_PROVIDER) ? { sandbox: { available: true } } : {};
  return { ...topology, ...notStarted } as JsonObject;
}
