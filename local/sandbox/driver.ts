/**
 * The fault driver for provider `sandbox`: every workload chaos type, acted out on the sandbox's real processes.
 *
 *   pod_delete       SIGKILL a replica (SIGTERM first, given a grace period); the supervisor replaces it.
 *   network_latency  a proxy rule delaying the replica's requests, expiring by itself after duration_seconds.
 *   network_loss     a proxy rule dropping a share of the replica's requests, expiring likewise.
 *   cpu_stress       detached busy-loop workers, which end themselves after duration_seconds.
 *   memory_stress    a detached worker holding memory_mb, which ends itself likewise.
 *
 * What apply creates is named from the fault context (experiment id, rollback sequence) rather than stored in the
 * intent, because prepare runs before those are known; revert gets the same context, so it finds the same things.
 */
import { availableParallelism, totalmem } from 'node:os';
import { InjectionFailedError, NotFoundError, ProviderUnavailableError, ValidationError } from '../../shared/errors.js';
import type { FaultContext, FaultDriver, RollbackIntent, TargetRef } from '../../shared/faults/driver.js';
import type { JsonObject, JsonValue } from '../../shared/journal/activity.js';
import { KUBERNETES_CHAOS_TYPES, type ChaosType, type ExperimentSpec } from '../../shared/model/experiment.js';
import { awaitExit, canScanProcesses, isRunning } from '../processes.js';
import type { ProxyFaultRule } from './proxy.js';
import { SANDBOX_PROVIDER, type Sandbox } from './sandbox.js';
import { spawnStressWorkers, stopStressWorkers, stressMarker } from './stress.js';
import type { Replica } from './supervisor.js';
import { pollUntil } from '../wait.js';

type WorkloadChaosType = (typeof KUBERNETES_CHAOS_TYPES)[number];
type WorkloadSpec = Extract<ExperimentSpec, { chaos_type: WorkloadChaosType }>;

export const AWAIT_REPLICA_RECOVERY = 'await_replica_recovery';
export const REMOVE_PROXY_FAULT = 'remove_proxy_fault';
export const STOP_STRESS_WORKERS = 'stop_stress_workers';

const STRESS_STOP_TIMEOUT_MS = 10_000;
/** A SIGKILLed process is gone within milliseconds unless stuck in the kernel; this only bounds that case. */
const KILL_TIMEOUT_MS = 10_000;

/** The id of the proxy rule a network fault adds: the same in apply and revert, in any process. */
export function proxyRuleId(experimentId: string, targetId: string, chaosType: string): string {
  return `${experimentId}:${targetId}:${chaosType}`;
}

export function createSandboxDriver(sandbox: Sandbox): FaultDriver {
  const { supervisor, proxy } = sandbox;

  const liveReplica = (params: JsonObject): Replica | undefined => {
    const id = stringParam(params, 'replica');
    const pid = numberParam(params, 'pid');
    return supervisor.replicas().find((replica) => replica.id === id && replica.pid === pid);
  };

  /** Ends the replica as a pod delete does, and returns only once it is gone, so revert never mistakes it for alive. */
  const killReplica = async (replica: Replica, graceSeconds: number, signal: AbortSignal): Promise<JsonObject> => {
    const killedAt = new Date().toISOString();
    const result = (sent: NodeJS.Signals): JsonObject => ({
      replica: replica.id,
      killed_pid: replica.pid,
      signal: sent,
      grace_period_seconds: graceSeconds,
      killed_at: killedAt,
    });
    if (graceSeconds > 0) {
      process.kill(replica.pid, 'SIGTERM');
      if (await awaitExit(replica.pid, graceSeconds * 1000, signal)) return result('SIGTERM');
    }
    // As the kubelet does: whatever has not exited when the grace period ends is killed.
    process.kill(replica.pid, 'SIGKILL');
    if (!(await awaitExit(replica.pid, KILL_TIMEOUT_MS, signal))) {
      throw new InjectionFailedError(`${replica.id} (pid ${replica.pid}) survived SIGKILL for ${KILL_TIMEOUT_MS} ms`);
    }
    return result('SIGKILL');
  };

  const awaitRecovery = async (intent: RollbackIntent, signal: AbortSignal): Promise<JsonObject> => {
    const service = stringParam(intent.params, 'service');
    const pid = numberParam(intent.params, 'pid');
    if (service !== sandbox.service) {
      return { recovered: false, skipped: `service ${service} is not run by this sandbox (${sandbox.service})` };
    }
    const started = Date.now();
    // Right after the kill the supervisor may not have seen the exit yet, so a still-listed dead pid means "wait".
    await pollUntil(
      () =>
        !supervisor.replicas().some((replica) => replica.pid === pid && !isRunning(pid)) &&
        supervisor.readyReplicas().length >= supervisor.desired,
      { timeoutMs: numberParam(intent.params, 'timeout_ms'), what: `${service} to recover its replicas`, signal },
    );
    const exit = supervisor.exitOf(pid);
    return {
      recovered: true,
      replica: stringParam(intent.params, 'replica'),
      pid,
      replica_died: exit !== undefined,
      replacement: exit?.replacement ?? null,
      recovered_after_ms: exit?.replacementReadyAt != null ? exit.replacementReadyAt - exit.diedAt : null,
      ready_replicas: supervisor.readyReplicas().length,
      desired_replicas: supervisor.desired,
      waited_ms: Date.now() - started,
    };
  };

  return {
    provider: SANDBOX_PROVIDER,
    chaosTypes: KUBERNETES_CHAOS_TYPES,

    async resolve(spec: ExperimentSpec, signal: AbortSignal): Promise<TargetRef[]> {
      signal.throwIfAborted();
      const { labels } = asWorkload(spec).target;
      return sandbox
        .replicas()
        .filter((target) => target.details.ready === true && Object.entries(labels).every(([key, value]) => target.labels[key] === value));
    },

    async prepare(spec: ExperimentSpec, target: TargetRef, signal: AbortSignal): Promise<RollbackIntent> {
      signal.throwIfAborted();
      const workload = asWorkload(spec);
      const replica = supervisor.replicas().find((candidate) => sandbox.targetId(candidate.id) === target.id);
      if (!replica) throw new NotFoundError(`${target.id} is not running`);
      const params: JsonObject = { chaos_type: workload.chaos_type, service: sandbox.service, replica: replica.id, pid: replica.pid };
      const intent = (action: string, extra: JsonObject = {}): RollbackIntent => ({
        provider: SANDBOX_PROVIDER,
        action,
        target,
        params: { ...params, ...extra },
        snapshot: {
          service: sandbox.service,
          replica: replica.id,
          pid: replica.pid,
          port: replica.port,
          ready: replica.ready,
          desired_replicas: supervisor.desired,
          ready_replicas: supervisor.readyReplicas().length,
          proxy_rules: proxy.rules(replica.id).map(ruleJson),
        },
      });
      switch (workload.chaos_type) {
        case 'pod_delete':
          return intent(AWAIT_REPLICA_RECOVERY, { timeout_ms: spec.safety.timeout_seconds * 1000 });
        case 'network_latency':
        case 'network_loss':
          return intent(REMOVE_PROXY_FAULT);
        case 'cpu_stress':
          assertStressable();
          if (workload.parameters.cpu_cores > availableParallelism()) {
            throw new ValidationError([{ field: 'parameters.cpu_cores', message: `this machine has ${availableParallelism()} cores` }]);
          }
          return intent(STOP_STRESS_WORKERS);
        case 'memory_stress': {
          assertStressable();
          // Past half of the machine's memory the OOM killer, not the experiment, decides what dies.
          const limitMb = Math.floor(totalmem() / 2 / 1024 / 1024);
          if (workload.parameters.memory_mb > limitMb) {
            throw new ValidationError([{ field: 'parameters.memory_mb', message: `the sandbox allows at most ${limitMb} MB` }]);
          }
          return intent(STOP_STRESS_WORKERS);
        }
      }
    },

    async apply(spec: ExperimentSpec, intent: RollbackIntent, context: FaultContext): Promise<JsonValue> {
      context.signal.throwIfAborted();
      const workload = asWorkload(spec);
      const replica = liveReplica(intent.params);
      if (!replica) throw new InjectionFailedError(`${intent.target.id} is no longer running`);
      const expiresAt = Date.now() + workload.parameters.duration_seconds * 1000;
      const ruleBase = { id: proxyRuleId(context.experimentId, intent.target.id, workload.chaos_type), replica: replica.id, expiresAt };
      const marker = stressMarker(context.experimentId, context.rollbackSeq);
      switch (workload.chaos_type) {
        case 'pod_delete':
          return killReplica(replica, workload.parameters.grace_period_seconds ?? 0, context.signal);
        case 'network_latency': {
          const { latency_ms, jitter_ms } = workload.parameters;
          const rule: ProxyFaultRule = { ...ruleBase, kind: 'latency', latencyMs: latency_ms, jitterMs: jitter_ms };
          proxy.addRule(rule);
          return ruleJson(rule);
        }
        case 'network_loss': {
          const rule: ProxyFaultRule = { ...ruleBase, kind: 'loss', lossPercent: workload.parameters.loss_percent };
          proxy.addRule(rule);
          return ruleJson(rule);
        }
        case 'cpu_stress': {
          const { cpu_cores, cpu_load_percent } = workload.parameters;
          const load = { kind: 'cpu', workers: cpu_cores, loadPercent: cpu_load_percent } as const;
          const pids = spawnStressWorkers({ marker, target: intent.target.id, endsAt: expiresAt, load });
          return { marker, pids, cpu_cores, cpu_load_percent, ends_at: new Date(expiresAt).toISOString() };
        }
        case 'memory_stress': {
          const { memory_mb } = workload.parameters;
          const load = { kind: 'memory', memoryMb: memory_mb } as const;
          const pids = spawnStressWorkers({ marker, target: intent.target.id, endsAt: expiresAt, load });
          return { marker, pids, memory_mb, ends_at: new Date(expiresAt).toISOString() };
        }
      }
    },

    async revert(intent: RollbackIntent, context: FaultContext): Promise<JsonValue> {
      context.signal.throwIfAborted();
      switch (intent.action) {
        case AWAIT_REPLICA_RECOVERY:
          return awaitRecovery(intent, context.signal);
        case REMOVE_PROXY_FAULT: {
          const ruleId = proxyRuleId(context.experimentId, intent.target.id, stringParam(intent.params, 'chaos_type'));
          return { rule_id: ruleId, removed: proxy.removeRule(ruleId) };
        }
        case STOP_STRESS_WORKERS: {
          const marker = stressMarker(context.experimentId, context.rollbackSeq);
          // Without /proc no worker can have been started: prepare refuses stress there.
          const killed = canScanProcesses ? await stopStressWorkers(marker, STRESS_STOP_TIMEOUT_MS, context.signal) : [];
          return { marker, killed };
        }
        default:
          throw new TypeError(`the sandbox driver has no rollback action ${intent.action}`);
      }
    },
  };
}

function asWorkload(spec: ExperimentSpec): WorkloadSpec {
  if (!isWorkload(spec)) throw new ProviderUnavailableError(`the sandbox cannot run ${spec.chaos_type}`);
  return spec;
}

function isWorkload(spec: ExperimentSpec): spec is WorkloadSpec {
  return (KUBERNETES_CHAOS_TYPES as readonly ChaosType[]).includes(spec.chaos_type);
}

function assertStressable(): void {
  if (!canScanProcesses) {
    throw new ProviderUnavailableError('sandbox stress needs /proc (Linux) to find its workers again on revert');
  }
}

function ruleJson(rule: ProxyFaultRule): JsonObject {
  const common = { rule_id: rule.id, replica: rule.replica, kind: rule.kind, expires_at: new Date(rule.expiresAt).toISOString() };
  return rule.kind === 'latency'
    ? { ...common, latency_ms: rule.latencyMs, jitter_ms: rule.jitterMs }
    : { ...common, loss_percent: rule.lossPercent };
}

function stringParam(params: JsonObject, name: string): string {
  const value = params[name];
  if (typeof value !== 'string') throw new TypeError(`rollback intent param ${name} must be a string`);
  return value;
}

function numberParam(params: JsonObject, name: string): number {
  const value = params[name];
  if (typeof value !== 'number') throw new TypeError(`rollback intent param ${name} must be a number`);
  return value;
}
