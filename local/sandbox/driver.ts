/**
 * The fault driver for provider `sandbox`: every workload chaos type, acted out on the sandbox's real processes.
 *
 *   pod_delete       SIGKILL a replica (SIGTERM first, given a grace period); the supervisor replaces it. An
 *                    in-process replica is "killed" by closing its server and cutting its connections (gracefully
 *                    first, given a grace period): the sandbox's own process, whose pid it reports, is never signalled.
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
import { KUBERNETES_CHAOS_TYPES, type ChaosType, type FaultSpec } from '../../shared/model/experiment.js';
import { canScanProcesses } from '../processes.js';
import type { ProxyFaultRule } from './proxy.js';
import { SANDBOX_PROVIDER, type Sandbox } from './sandbox.js';
import { spawnStressWorkers, stopStressWorkers, stressMarker } from './stress.js';
import type { Replica } from './supervisor.js';
import { pollUntil } from '../wait.js';

type WorkloadChaosType = (typeof KUBERNETES_CHAOS_TYPES)[number];
type WorkloadSpec = Extract<FaultSpec, { chaos_type: WorkloadChaosType }>;

export const AWAIT_REPLICA_RECOVERY = 'await_replica_recovery';
export const REMOVE_PROXY_FAULT = 'remove_proxy_fault';
export const STOP_STRESS_WORKERS = 'stop_stress_workers';

const STRESS_STOP_TIMEOUT_MS = 10_000;

/** The id of the proxy rule a network fault adds: the same in apply and revert, in any process. */
export function proxyRuleId(experimentId: string, targetId: string, chaosType: string): string {
  return `${experimentId}:${targetId}:${chaosType}`;
}

export function createSandboxDriver(sandbox: Sandbox): FaultDriver {
  const { supervisor, proxy } = sandbox;

  /** The replica an intent names, if that very replica (id and pid: ids restart at 1 in a new sandbox) still lives. */
  const liveReplica = (params: JsonObject): Replica | undefined => {
    const replica = supervisor.replica(stringParam(params, 'replica'));
    return replica?.pid === numberParam(params, 'pid') ? replica : undefined;
  };

  /**
   * Ends the replica as a pod delete does, the way its mode allows (the supervisor knows), and returns only once it
   * is gone, so revert never mistakes it for alive.
   */
  const killReplica = async (replica: Replica, graceSeconds: number, signal: AbortSignal): Promise<JsonObject> => {
    const killedAt = new Date().toISOString();
    const outcome = await supervisor.kill(replica.id, { graceMs: graceSeconds * 1000, signal });
    if (!outcome.exited) throw new InjectionFailedError(`${replica.id} (pid ${replica.pid}) survived ${outcome.signal}`);
    return {
      replica: replica.id,
      replica_mode: supervisor.mode,
      killed_pid: replica.pid,
      signal: outcome.signal,
      grace_period_seconds: graceSeconds,
      killed_at: killedAt,
    };
  };

  const awaitRecovery = async (intent: RollbackIntent, signal: AbortSignal): Promise<JsonObject> => {
    const service = stringParam(intent.params, 'service');
    const replicaId = stringParam(intent.params, 'replica');
    const pid = numberParam(intent.params, 'pid');
    if (service !== sandbox.service) {
      return { recovered: false, skipped: `service ${service} is not run by this sandbox (${sandbox.service})` };
    }
    const started = Date.now();
    // A replica that died by other means may still be listed until the supervisor sees its exit: that means "wait".
    const deadButListed = (): boolean => supervisor.replica(replicaId)?.pid === pid && !supervisor.isAlive(replicaId);
    await pollUntil(() => !deadButListed() && supervisor.readyCount() >= supervisor.desired, {
      timeoutMs: numberParam(intent.params, 'timeout_ms'),
      what: `${service} to recover its replicas`,
      signal,
    });
    // The pid check keeps a fresh sandbox (ids restart at 1) from reporting another replica's exit.
    const recorded = supervisor.exitOfReplica(replicaId);
    const exit = recorded?.pid === pid ? recorded : undefined;
    return {
      recovered: true,
      replica: replicaId,
      pid,
      replica_died: exit !== undefined,
      replacement: exit?.replacement ?? null,
      recovered_after_ms: exit?.replacementReadyAt != null ? exit.replacementReadyAt - exit.diedAt : null,
      ready_replicas: supervisor.readyCount(),
      desired_replicas: supervisor.desired,
      waited_ms: Date.now() - started,
    };
  };

  return {
    provider: SANDBOX_PROVIDER,
    chaosTypes: KUBERNETES_CHAOS_TYPES,

    async resolve(spec: FaultSpec, signal: AbortSignal): Promise<TargetRef[]> {
      signal.throwIfAborted();
      const { labels = {}, pod_names: podNames } = asWorkload(spec).target;
      // Replicas named (by pod_names, or the `replica` label) are looked up, not scanned for: with 1000 replicas,
      // 1000 such experiments resolving at once would otherwise build a million targets.
      const named = podNames ?? (labels.replica === undefined ? undefined : [labels.replica]);
      const candidates = named === undefined ? sandbox.replicas() : named.map((id) => sandbox.target(id)).filter((t) => t !== undefined);
      return candidates.filter(
        (target) => target.details.ready === true && Object.entries(labels).every(([key, value]) => target.labels[key] === value),
      );
    },

    async prepare(spec: FaultSpec, target: TargetRef, signal: AbortSignal): Promise<RollbackIntent> {
      signal.throwIfAborted();
      const workload = asWorkload(spec);
      const replicaId = sandbox.replicaIdOf(target.id);
      const replica = replicaId === undefined ? undefined : supervisor.replica(replicaId);
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
          replica_mode: supervisor.mode,
          desired_replicas: supervisor.desired,
          ready_replicas: supervisor.readyCount(),
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

    async apply(spec: FaultSpec, intent: RollbackIntent, context: FaultContext): Promise<JsonValue> {
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

function asWorkload(spec: FaultSpec): WorkloadSpec {
  if (!isWorkload(spec)) throw new ProviderUnavailableError(`the sandbox cannot run ${spec.chaos_type}`);
  return spec;
}

function isWorkload(spec: FaultSpec): spec is WorkloadSpec {
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
