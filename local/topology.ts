/**
 * What the embedded runtime can target now, as the topology and analysis routes and commands ask it: the topology
 * sources the runtime was given (Kubernetes, AWS), and the sandbox when it has one.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readTopology, type TopologySources } from '../functions/api/core.js';
import { ProviderUnavailableError, ValidationError } from '../shared/errors.js';
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

/**
 * The runtime's topology sources, with the sandbox's when it runs. A fresh install is configured for neither
 * Kubernetes nor AWS, and its sources fail for that alone (no kubeconfig; no region): the combined topology shows them
 * as `null` (not configured), not as errors. A configured source that fails (a cluster that does not answer) is still
 * the error it is; judged at each request, so a kubeconfig made while `serve` runs counts at once.
 */
export function topologySources(runtime: LocalRuntime, sandbox?: Sandbox): TopologySources {
  return {
    ...runtime.topology,
    notConfigured: (source, error) =>
      source === 'k8s'
        ? error instanceof ProviderUnavailableError && !kubernetesConfigured()
        : (error instanceof ValidationError || error instanceof ProviderUnavailableError) && !awsConfigured(),
    ...(sandbox ? { sandbox: async () => sandboxTopology(sandbox) } : {}),
  };
}

/** True when the Kubernetes client has something to load: KUBECONFIG, ~/.kube/config, or a pod's service account. */
export function kubernetesConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.KUBECONFIG || env.KUBERNETES_SERVICE_HOST) || existsSync(join(homedir(), '.kube', 'config'));
}

/**
 * True when the AWS SDK has a region or credentials to go on: from the environment (keys, a profile, a web identity,
 * a container role) or the shared config and credentials files. With none of them, AWS is not configured at all.
 */
export function awsConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  const set = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI'];
  if (set.some((name) => env[name])) return true;
  return [env.AWS_CONFIG_FILE || join(homedir(), '.aws', 'config'), env.AWS_SHARED_CREDENTIALS_FILE || join(homedir(), '.aws', 'credentials')].some((file) => existsSync(file));
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
