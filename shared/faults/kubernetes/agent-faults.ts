/**
 * `network_latency`, `network_loss`, `cpu_stress`, `memory_stress` on Kubernetes, the way AWS FIS does them on EKS:
 * an ephemeral container in each target pod runs the chaos agent (agent-script.ts), which applies the fault in the
 * pod's own namespaces and cgroup, undoes it when SIGTERMed or when its duration ends, and verifies the undo. The
 * fault therefore cannot outlive a dead control plane by more than its duration.
 *
 *   prepare  reads the pod (still the selected one, Running, not hostNetwork for network faults), picks the container
 *            whose namespaces the agent joins (`parameters.container`, default the first), names the agent container
 *            and asks the API server for a dry run of adding it (`dryRun=All`), so RBAC, PodSecurity admission and
 *            clusters without ephemeral containers refuse before anything is written or injected.
 *   apply    adds the ephemeral container (PUT pods/<pod>/ephemeralcontainers, optimistic on resourceVersion), then
 *            waits until the agent says `applied` in its log; an agent that cannot start (image pull, admission) or
 *            refuses (an interface already shaped, no tc in the image) is an injection failure that says why.
 *   revert   `stop_agent`: SIGTERM to the agent through exec, then waits for the container to terminate and reads
 *            its exit code and log: 0 = undone and verified. A pod that is gone took the fault with it; an agent that
 *            never started will not start applying after its deadline. Idempotent.
 *
 * Ephemeral containers cannot be removed from a pod: each fault leaves a terminated container in the pod's status
 * until the pod is replaced, as `kubectl debug` does.
 */
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { Exec, type V1ContainerStatus, type V1EphemeralContainer, type V1Pod, type V1Status } from '@kubernetes/client-node';
import type { FaultContext, RollbackIntent, TargetRef } from '../driver.js';
import type { JsonObject, JsonValue } from '../../journal/activity.js';
import { InjectionFailedError, ProviderUnavailableError, TargetRefusedError, ValidationError } from '../../errors.js';
import type { FaultSpec } from '../../model/experiment.js';
import type { KubeClients } from './cluster.js';
import { AGENT_APPLIED, AGENT_EXIT, AGENT_SCRIPT, AGENT_UNDONE } from './agent-script.js';
import { pollUntil } from '../poll.js';
import { kubeErrorMessage, kubeStatus, orUndefined } from './api-errors.js';
import { refuseProtectedNamespace } from './targets.js';

export const AGENT_CHAOS_TYPES = ['network_latency', 'network_loss', 'cpu_stress', 'memory_stress'] as const;
export type AgentChaosType = (typeof AGENT_CHAOS_TYPES)[number];
export type AgentFaultSpec = Extract<FaultSpec, { chaos_type: AgentChaosType }>;

export const STOP_AGENT = 'stop_agent';
/** Every chaos-agent ephemeral container is named so (the rest is random): topology and journals tell them by it. */
export const AGENT_NAME_PREFIX = 'chaosduck-';
/** Where the agent keeps its pid file, inside its container; the name makes it unique per fault. */
const runDir = (container: string) => `/tmp/chaosduck-agent/${container}`;

export interface AgentFaultOptions {
  /** The chaos agent image (needs sh, tc, stress-ng); default `CHAOSDUCK_AGENT_IMAGE`. */
  agentImage?: string;
  /** How long apply waits for the agent to start and apply (image pull included). */
  agentStartTimeoutSeconds?: number;
  /** How long revert waits for the agent to undo and exit. */
  agentStopTimeoutSeconds?: number;
  pollIntervalMs?: number;
}

const DEFAULT_START_TIMEOUT_SECONDS = 120;
const DEFAULT_STOP_TIMEOUT_SECONDS = 60;
const DEFAULT_POLL_MS = 1_000;
/** Waiting reasons after which the container will not start by itself. */
const STUCK = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

export function isAgentFault(spec: FaultSpec): spec is AgentFaultSpec {
  return (AGENT_CHAOS_TYPES as readonly string[]).includes(spec.chaos_type);
}

function asAgentFault(spec: FaultSpec): AgentFaultSpec {
  if (!isAgentFault(spec)) throw new TypeError(`the chaos agent cannot apply ${spec.chaos_type}`);
  return spec;
}

const isNetwork = (chaosType: string) => chaosType === 'network_latency' || chaosType === 'network_loss';

function agentImage(options: AgentFaultOptions): string {
  const image = options.agentImage ?? process.env.CHAOSDUCK_AGENT_IMAGE;
  if (!image) {
    throw new ProviderUnavailableError(
      'no chaos agent image configured for Kubernetes network and stress faults: set CHAOSDUCK_AGENT_IMAGE (deployed: cdk deploy -c chaosduck:agentImage=<image>) to an image with sh, tc (iproute2) and stress-ng (agent/Dockerfile builds one)',
    );
  }
  return image;
}

/** The agent's environment: everything it needs, visible in the pod spec. */
function agentEnv(spec: AgentFaultSpec, container: string, startBy: number): { name: string; value: string }[] {
  const p = spec.parameters;
  const env: Record<string, string | number> = {
    CHAOSDUCK_FAULT: spec.chaos_type,
    CHAOSDUCK_DURATION_SECONDS: p.duration_seconds,
    CHAOSDUCK_RUN_DIR: runDir(container),
    CHAOSDUCK_START_BY: startBy,
  };
  switch (spec.chaos_type) {
    case 'network_latency':
      Object.assign(env, { CHAOSDUCK_INTERFACE: spec.parameters.interface ?? 'eth0', CHAOSDUCK_LATENCY_MS: spec.parameters.latency_ms, CHAOSDUCK_JITTER_MS: spec.parameters.jitter_ms });
      break;
    case 'network_loss':
      Object.assign(env, { CHAOSDUCK_INTERFACE: spec.parameters.interface ?? 'eth0', CHAOSDUCK_LOSS_PERCENT: spec.parameters.loss_percent });
      break;
    case 'cpu_stress':
      Object.assign(env, { CHAOSDUCK_CPU_WORKERS: spec.parameters.cpu_cores, CHAOSDUCK_CPU_LOAD: spec.parameters.cpu_load_percent });
      break;
    case 'memory_stress':
      Object.assign(env, { CHAOSDUCK_MEMORY_MB: spec.parameters.memory_mb });
      break;
  }
  return Object.entries(env).map(([name, value]) => ({ name, value: String(value) }));
}

function agentContainer(spec: AgentFaultSpec, name: string, image: string, targetContainer: string, startBy: number): V1EphemeralContainer {
  return {
    name,
    image,
    command: ['/bin/sh', '-c', AGENT_SCRIPT, 'chaosduck-agent'],
    env: agentEnv(spec, name, startBy),
    // Join the target container's namespaces (its processes, for stress), as FIS's targetContainerName.
    targetContainerName: targetContainer,
    terminationMessagePolicy: 'FallbackToLogsOnError',
    // tc needs root and NET_ADMIN in the pod's network namespace; stress needs nothing beyond the pod's defaults.
    ...(isNetwork(spec.chaos_type) ? { securityContext: { runAsUser: 0, runAsNonRoot: false, capabilities: { add: ['NET_ADMIN'] } } } : {}),
  };
}

/**
 * Why a pod cannot take the agent, from the API server's answer to adding it. In prepare (a dry run) nothing was
 * attempted, so the refusal is the target's (`TargetRefusedError`, 409) or the control plane's missing permission
 * (`ProviderUnavailableError`, 503); in apply it is a failed injection.
 */
function cannotTakeAgent(namespace: string, pod: string, error: unknown, stage: 'prepare' | 'apply'): Error {
  const code = kubeStatus(error);
  const why = kubeErrorMessage(error);
  const prefix = `pod ${namespace}/${pod} cannot take an ephemeral chaos-agent container`;
  const refused = (message: string) => (stage === 'prepare' ? new TargetRefusedError(message) : new InjectionFailedError(message));
  if (code === 404) return refused(`${prefix}: the cluster does not serve pods/ephemeralcontainers (Kubernetes 1.25 or later is needed) or the pod is gone (${why}); nothing was injected`);
  if (code === 403) {
    if (/PodSecurity|pod security/i.test(why)) {
      return refused(
        `${prefix}: the namespace's Pod Security admission refuses it (${why}); network faults need NET_ADMIN as root, which only the "privileged" level allows; label the namespace pod-security.kubernetes.io/enforce=privileged or choose another; nothing was injected`,
      );
    }
    const message = `${prefix}: the control plane may not update pods/ephemeralcontainers in namespace ${namespace} (${why}; apply deploy/kubernetes/rbac.yaml); nothing was injected`;
    return stage === 'prepare' ? new ProviderUnavailableError(message) : new InjectionFailedError(message);
  }
  if (code === 422) return refused(`${prefix}: the API server rejected it as invalid (${why}); nothing was injected`);
  return error instanceof Error ? error : new Error(String(error));
}

const readPod = (clients: KubeClients, namespace: string, name: string): Promise<V1Pod | undefined> => orUndefined(clients.core.readNamespacedPod({ name, namespace }));

export async function prepareAgentFault(spec: FaultSpec, target: TargetRef, clients: KubeClients, options: AgentFaultOptions): Promise<RollbackIntent> {
  const fault = asAgentFault(spec);
  refuseProtectedNamespace(fault.target);
  const image = agentImage(options);
  const namespace = String(target.details.namespace ?? fault.target.namespace);
  const name = String(target.details.pod);
  const pod = await readPod(clients, namespace, name);
  if (!pod || (target.details.uid && pod.metadata?.uid !== target.details.uid)) {
    throw new InjectionFailedError(`pod ${namespace}/${name} is gone (or was replaced) since it was selected; nothing was injected`);
  }
  if (pod.status?.phase !== 'Running' || pod.metadata?.deletionTimestamp) {
    throw new InjectionFailedError(`pod ${namespace}/${name} is ${pod.metadata?.deletionTimestamp ? 'terminating' : pod.status?.phase}, not running; nothing was injected`);
  }
  if (isNetwork(fault.chaos_type) && pod.spec?.hostNetwork) {
    throw new ValidationError(
      [{ field: 'target.labels', message: `pod ${namespace}/${name} uses the node's network (hostNetwork: true): a ${fault.chaos_type} would shape the whole node, so ChaosDuck refuses it` }],
      'target',
    );
  }
  const containers = (pod.spec?.containers ?? []).map((c) => c.name);
  const targetContainer = fault.parameters.container ?? containers[0];
  if (!targetContainer || !containers.includes(targetContainer)) {
    throw new ValidationError(
      [{ field: 'parameters.container', message: `pod ${namespace}/${name} has no container "${targetContainer ?? ''}" (has: ${containers.join(', ') || 'none'})` }],
      'experiment',
    );
  }
  const agent = `${AGENT_NAME_PREFIX}${randomBytes(5).toString('hex')}`;
  // Never longer than the experiment may run: apply bounds it again by the time left before the deadline.
  const startTimeout = Math.min(options.agentStartTimeoutSeconds ?? DEFAULT_START_TIMEOUT_SECONDS, fault.safety.timeout_seconds);
  // Only for the dry run; apply sets the real deadline when it adds the container.
  const container = agentContainer(fault, agent, image, targetContainer, Math.floor(Date.now() / 1000) + startTimeout);
  try {
    await clients.core.replaceNamespacedPodEphemeralcontainers({
      name,
      namespace,
      dryRun: 'All',
      body: withAgent(pod, container),
    });
  } catch (error) {
    throw cannotTakeAgent(namespace, name, error, 'prepare');
  }
  return {
    provider: target.provider,
    action: STOP_AGENT,
    target,
    params: {
      chaos_type: fault.chaos_type,
      namespace,
      pod: name,
      uid: pod.metadata?.uid ?? '',
      cluster: fault.target.cluster ?? null,
      agent,
      image,
      target_container: targetContainer,
      run_dir: runDir(agent),
      start_timeout_seconds: startTimeout,
      stop_timeout_seconds: options.agentStopTimeoutSeconds ?? DEFAULT_STOP_TIMEOUT_SECONDS,
    },
    snapshot: {
      pod: { name, namespace, uid: pod.metadata?.uid ?? '', node: pod.spec?.nodeName ?? null, containers },
      ephemeral_containers: (pod.spec?.ephemeralContainers ?? []).map((c) => c.name),
    },
  };
}

function withAgent(pod: V1Pod, container: V1EphemeralContainer): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod.metadata?.name, namespace: pod.metadata?.namespace, uid: pod.metadata?.uid, resourceVersion: pod.metadata?.resourceVersion },
    spec: { ...pod.spec!, ephemeralContainers: [...(pod.spec?.ephemeralContainers ?? []), container] },
  };
}

interface AgentParams {
  namespace: string;
  pod: string;
  uid: string;
  agent: string;
  image: string;
  target_container: string;
  run_dir: string;
  start_timeout_seconds: number;
  stop_timeout_seconds: number;
}

const statusOf = (pod: V1Pod | undefined, agent: string): V1ContainerStatus | undefined => pod?.status?.ephemeralContainerStatuses?.find((s) => s.name === agent);

async function agentLog(clients: KubeClients, p: AgentParams): Promise<string> {
  try {
    return await clients.core.readNamespacedPodLog({ name: p.pod, namespace: p.namespace, container: p.agent, tailLines: 50 });
  } catch (error) {
    return `(no log: ${kubeErrorMessage(error)})`;
  }
}

const lastAgentLine = (log: string) =>
  log
    .split('\n')
    .filter((line) => line.startsWith('chaosduck-agent:'))
    .pop() ?? log.trim().split('\n').pop() ?? '';

export async function applyAgentFault(spec: FaultSpec, intent: RollbackIntent, clients: KubeClients, context: FaultContext, options: AgentFaultOptions): Promise<JsonValue> {
  const fault = asAgentFault(spec);
  const p = intent.params as unknown as AgentParams;
  // The agent must have applied before the experiment's deadline; past its start-by time it refuses to apply at all.
  const left = context.deadline === undefined ? p.start_timeout_seconds : Math.floor((context.deadline - Date.now()) / 1000);
  const startTimeout = Math.max(1, Math.min(p.start_timeout_seconds, left));
  const startBy = Math.floor(Date.now() / 1000) + startTimeout;
  const container = agentContainer(fault, p.agent, p.image, p.target_container, startBy);
  // Optimistic concurrency: the write carries the resourceVersion read just before; a conflict means the pod changed
  // (another debug container, a status update) and is read again.
  for (let attempt = 1; ; attempt++) {
    context.signal.throwIfAborted();
    const pod = await readPod(clients, p.namespace, p.pod);
    if (!pod || pod.metadata?.uid !== p.uid) throw new InjectionFailedError(`pod ${p.namespace}/${p.pod} (uid ${p.uid}) no longer exists; nothing was injected`);
    try {
      await clients.core.replaceNamespacedPodEphemeralcontainers({ name: p.pod, namespace: p.namespace, body: withAgent(pod, container) });
      break;
    } catch (error) {
      if (kubeStatus(error) === 409 && attempt < 5) continue;
      throw cannotTakeAgent(p.namespace, p.pod, error, 'apply');
    }
  }
  const started = Date.now();
  const outcome = await pollUntil<JsonObject>(
    async () => {
      const status = statusOf(await readPod(clients, p.namespace, p.pod), p.agent);
      const waiting = status?.state?.waiting;
      if (waiting?.reason && STUCK.has(waiting.reason)) {
        throw new InjectionFailedError(`the chaos agent in pod ${p.namespace}/${p.pod} cannot start: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''} (image ${p.image}); it will not apply after its deadline`);
      }
      if (!status?.state?.running && !status?.state?.terminated) return undefined;
      const log = await agentLog(clients, p);
      const applied = log.split('\n').find((line) => line.startsWith(AGENT_APPLIED));
      const terminated = status.state.terminated;
      if (terminated && !applied) {
        throw new InjectionFailedError(`the chaos agent in pod ${p.namespace}/${p.pod} exited ${terminated.exitCode} without applying the fault: ${lastAgentLine(log)}`);
      }
      if (!applied) return undefined;
      return { agent: p.agent, pod: `${p.namespace}/${p.pod}`, applied: applied.replace('chaosduck-agent: applied: ', ''), started_after_ms: Date.now() - started, self_expires_after_seconds: fault.parameters.duration_seconds };
    },
    { signal: context.signal, timeoutMs: startTimeout * 1000, intervalMs: options.pollIntervalMs ?? DEFAULT_POLL_MS, what: `the chaos agent in pod ${p.namespace}/${p.pod} to apply the fault` },
  ).catch((error: unknown) => {
    if (error instanceof Error && /^timed out/.test(error.message)) throw new InjectionFailedError(`${error.message}; it will not apply after its deadline`);
    throw error;
  });
  return outcome;
}

/** Runs `command` in a container through the exec subresource (WebSocket), resolving with its output and status. */
export async function execInContainer(clients: KubeClients, namespace: string, pod: string, container: string, command: string[], signal: AbortSignal): Promise<{ stdout: string; stderr: string; status: V1Status | undefined }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk));
  stderr.on('data', (chunk: Buffer) => err.push(chunk));
  let status: V1Status | undefined;
  const socket = await new Exec(clients.config).exec(namespace, pod, container, command, stdout, stderr, null, false, (s) => {
    status = s;
  });
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      socket.close();
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('close', () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
    socket.on('error', reject);
  });
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), status };
}

export async function revertAgentFault(intent: RollbackIntent, clients: KubeClients, context: FaultContext, options: AgentFaultOptions): Promise<JsonValue> {
  const p = intent.params as unknown as AgentParams;
  const where = `pod ${p.namespace}/${p.pod}`;
  const first = await readPod(clients, p.namespace, p.pod);
  if (!first || first.metadata?.uid !== p.uid) {
    // The fault lived in the pod's network namespace and cgroup, which went with it.
    return { undone: true, how: 'pod_gone', agent: p.agent, pod: `${p.namespace}/${p.pod}` };
  }
  if (!(first.spec?.ephemeralContainers ?? []).some((c) => c.name === p.agent)) {
    return { undone: true, how: 'never_added', agent: p.agent, pod: `${p.namespace}/${p.pod}` };
  }
  let signalled = false;
  const envOf = (pod: V1Pod, name: string) => Number(pod.spec?.ephemeralContainers?.find((c) => c.name === p.agent)?.env?.find((e) => e.name === name)?.value ?? 0);
  const startBy = envOf(first, 'CHAOSDUCK_START_BY');
  const endsBy = startBy + envOf(first, 'CHAOSDUCK_DURATION_SECONDS');
  const intervalMs = options.pollIntervalMs ?? DEFAULT_POLL_MS;
  // Ephemeral containers cannot be removed: each fault leaves one, terminated, until the pod is replaced.
  const leftInPod = (pod: V1Pod) => ({ ephemeral_containers_in_pod: (pod.spec?.ephemeralContainers ?? []).map((c) => c.name) });
  const result = await pollUntil<JsonObject>(
    async (): Promise<JsonObject | undefined> => {
      const pod = await readPod(clients, p.namespace, p.pod);
      if (!pod || pod.metadata?.uid !== p.uid) return { undone: true, how: 'pod_gone', agent: p.agent, pod: `${p.namespace}/${p.pod}` };
      const state = statusOf(pod, p.agent)?.state;
      if (state?.terminated) {
        const log = await agentLog(clients, p);
        const code = state.terminated.exitCode;
        if (code === AGENT_EXIT.undone && log.includes(AGENT_UNDONE)) {
          return { undone: true, how: signalled ? 'stopped' : 'expired', verified: true, agent: p.agent, pod: `${p.namespace}/${p.pod}`, agent_said: lastAgentLine(log), ...leftInPod(pod) };
        }
        if (code === AGENT_EXIT.notApplied) return { undone: true, how: 'never_applied', agent: p.agent, pod: `${p.namespace}/${p.pod}`, agent_said: lastAgentLine(log), ...leftInPod(pod) };
        throw new Error(`the chaos agent in ${where} exited ${code} (${state.terminated.reason ?? 'unknown reason'}) without confirming the undo: ${lastAgentLine(log) || 'no log'}; the fault may still be in place`);
      }
      if (state?.running) {
        if (!signalled) {
          try {
            const { status } = await execInContainer(clients, p.namespace, p.pod, p.agent, ['/bin/sh', '-c', 'kill -TERM "$(cat "$1/pid")"', 'chaosduck-stop', p.run_dir], context.signal);
            signalled = status?.status === 'Success';
          } catch (error) {
            if (context.signal.aborted) throw error;
            // Refused: no later poll can do better, and on a real cluster nothing else stops the agent early.
            if (execRefused(error)) {
              throw new Error(
                `the control plane may not exec into ${where} to stop the chaos agent (${kubeErrorMessage(error)}): pods/exec needs both get and create (apply deploy/kubernetes/rbac.yaml); the agent undoes the fault by itself at ${new Date(endsBy * 1000).toISOString()}`,
              );
            }
            // It may have exited between the read and the exec: the next poll sees it terminated, or signals again.
          }
        }
        return undefined;
      }
      // Never started (image pull, scheduling of the container): once its deadline has passed it will refuse to apply.
      if (Date.now() / 1000 > startBy) {
        return { undone: true, how: 'never_started', agent: p.agent, pod: `${p.namespace}/${p.pod}`, reason: state?.waiting?.reason ?? null, ...leftInPod(pod) };
      }
      return undefined;
    },
    {
      signal: context.signal,
      // Long enough to see an agent that never started pass its start-by time (then it can never apply).
      timeoutMs: Math.max(p.stop_timeout_seconds * 1000, (startBy + 1) * 1000 - Date.now() + 3 * intervalMs),
      intervalMs,
      what: `the chaos agent in ${where} to undo the fault and exit`,
    },
  );
  return result;
}

/** An exec the API server refused (RBAC: 403; authentication: 401), as the WebSocket handshake reports it. */
function execRefused(error: unknown): boolean {
  const code = kubeStatus(error);
  return code === 401 || code === 403 || /Unexpected server response: 40[13]\b/.test(kubeErrorMessage(error));
}
