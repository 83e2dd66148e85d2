/**
 * `pod_delete`: delete pods and check that their controller brings them back, as Litmus `pod-delete` does.
 *
 *   resolve  the Running pods of the target (targets.ts), as for every Kubernetes fault.
 *   prepare  snapshot of the pod (name, uid, node, owner chain: ReplicaSet → Deployment, StatefulSet, DaemonSet) and
 *            the owner's ready replicas; the rollback `await_owner_ready`. A pod with no controller is refused unless
 *            `parameters.allow_unmanaged`, and then the rollback is `recreate_pod` (the snapshot holds its spec).
 *            Changes nothing.
 *   apply    DELETE the pod (precondition: the snapshot's uid) with `parameters.grace_period_seconds`.
 *   revert   await_owner_ready: wait (bounded, abortable) until the owner has its snapshot's ready replicas again and
 *            a ready replacement exists; reports `recovered_after_ms`: from the deletion to a ready replacement, to
 *            the millisecond, when this process watched it happen (recovery-watch.ts); otherwise from the
 *            replacement's creation to its Ready condition, in the API's whole seconds (`measured` says which).
 *            recreate_pod: create the pod from the snapshot unless a pod of that name exists, then wait until Running.
 *            Both idempotent, and both succeed when the pod was never deleted.
 *   observe  during OBSERVE, one look at the owner's recovery (`observePodDelete`).
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { FaultContext, RollbackIntent, TargetRef } from '../driver.js';
import type { JsonObject, JsonValue } from '../../journal/activity.js';
import { InjectionFailedError, ValidationError } from '../../errors.js';
import type { FaultSpec } from '../../model/experiment.js';
import { pollUntil } from '../poll.js';
import { kubeStatus, orUndefined } from './api-errors.js';
import type { KubeClients } from './cluster.js';
import { RecoveryWatches, type WatchedRecovery } from './recovery-watch.js';
import { controllerOf, labelSelector, refuseProtectedNamespace } from './targets.js';

export type PodDeleteSpec = Extract<FaultSpec, { chaos_type: 'pod_delete' }>;

export const AWAIT_OWNER_READY = 'await_owner_ready';
export const RECREATE_POD = 'recreate_pod';
export const DEFAULT_WAIT_TIMEOUT_SECONDS = 300;
export const DEFAULT_POLL_INTERVAL_MS = 2_000;

export interface PodDeleteOptions {
  /** How often revert polls the cluster. */
  pollIntervalMs?: number;
  /** How long revert waits for recovery (stored in the intent). */
  waitTimeoutSeconds?: number;
  /**
   * Watch each deleted pod's recovery from the deletion on, for a time to recovery to the millisecond. Only where
   * the process lives on after apply (the embedded runtime); a Lambda function is frozen once it returns.
   */
  recoveryWatches?: RecoveryWatches;
}

interface OwnerSnapshot extends JsonObject {
  kind: string;
  name: string;
  uid: string;
}

function asPodDelete(spec: FaultSpec): PodDeleteSpec {
  if (spec.chaos_type !== 'pod_delete') throw new TypeError(`pod_delete cannot handle ${spec.chaos_type}`);
  return spec;
}

const isReady = (pod: V1Pod) => pod.status?.phase === 'Running' && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
const toTime = (value: Date | string | undefined) => (value === undefined ? undefined : new Date(value).getTime());

/** The ready replicas and desired replicas of a workload controller, or undefined if it is gone. */
async function ownerReadiness(clients: KubeClients, namespace: string, owner: { kind: string; name: string }): Promise<{ ready: number; desired: number; uid: string } | undefined> {
  const { core, apps } = clients;
  const name = owner.name;
  switch (owner.kind) {
    case 'Deployment': {
      const d = await orUndefined(apps.readNamespacedDeployment({ name, namespace }));
      return d && { ready: d.status?.readyReplicas ?? 0, desired: d.spec?.replicas ?? 1, uid: d.metadata?.uid ?? '' };
    }
    case 'ReplicaSet': {
      const rs = await orUndefined(apps.readNamespacedReplicaSet({ name, namespace }));
      return rs && { ready: rs.status?.readyReplicas ?? 0, desired: rs.spec?.replicas ?? 1, uid: rs.metadata?.uid ?? '' };
    }
    case 'StatefulSet': {
      const s = await orUndefined(apps.readNamespacedStatefulSet({ name, namespace }));
      return s && { ready: s.status?.readyReplicas ?? 0, desired: s.spec?.replicas ?? 1, uid: s.metadata?.uid ?? '' };
    }
    case 'DaemonSet': {
      const ds = await orUndefined(apps.readNamespacedDaemonSet({ name, namespace }));
      return ds && { ready: ds.status?.numberReady ?? 0, desired: ds.status?.desiredNumberScheduled ?? 0, uid: ds.metadata?.uid ?? '' };
    }
    case 'ReplicationController': {
      const rc = await orUndefined(core.readNamespacedReplicationController({ name, namespace }));
      return rc && { ready: rc.status?.readyReplicas ?? 0, desired: rc.spec?.replicas ?? 1, uid: rc.metadata?.uid ?? '' };
    }
    default:
      return undefined;
  }
}

export async function preparePodDelete(spec: FaultSpec, target: TargetRef, clients: KubeClients, options: PodDeleteOptions): Promise<RollbackIntent> {
  const { target: selector, parameters } = asPodDelete(spec);
  refuseProtectedNamespace(selector);
  const namespace = String(target.details.namespace ?? selector.namespace);
  const name = String(target.details.pod);
  const pod = await orUndefined(clients.core.readNamespacedPod({ name, namespace }));
  if (!pod || (target.details.uid && pod.metadata?.uid !== target.details.uid)) {
    throw new InjectionFailedError(`pod ${namespace}/${name} is gone (or was replaced) since it was selected; nothing was deleted`);
  }
  if (pod.status?.phase !== 'Running' || pod.metadata?.deletionTimestamp) {
    throw new InjectionFailedError(`pod ${namespace}/${name} is ${pod.metadata?.deletionTimestamp ? 'terminating' : pod.status?.phase}, not running, since it was selected; nothing was deleted`);
  }
  const meta = pod.metadata ?? {};
  const uid = meta.uid ?? '';
  const common = {
    chaos_type: 'pod_delete',
    namespace,
    pod: name,
    uid,
    cluster: selector.cluster ?? null,
    grace_period_seconds: parameters.grace_period_seconds ?? null,
    wait_timeout_seconds: options.waitTimeoutSeconds ?? DEFAULT_WAIT_TIMEOUT_SECONDS,
  };
  const podFacts = { name, namespace, uid, node: pod.spec?.nodeName ?? null, phase: pod.status?.phase ?? null, labels: { ...(meta.labels ?? {}) } };
  const controller = controllerOf(meta);

  if (!controller) {
    if (!parameters.allow_unmanaged) {
      throw new ValidationError(
        [
          {
            field: 'parameters.allow_unmanaged',
            message: `pod ${namespace}/${name} has no controller (no ReplicaSet, StatefulSet, …) to bring it back; set parameters.allow_unmanaged: true to delete it and recreate it from its snapshot on rollback`,
          },
        ],
        'experiment',
      );
    }
    // What recreating needs: the spec without what the API server or scheduler filled in for the old pod.
    const { nodeName: _node, ...podSpec } = pod.spec ?? { containers: [] };
    const manifest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels: meta.labels ?? {}, annotations: meta.annotations ?? {} },
      spec: podSpec,
    };
    return {
      provider: target.provider,
      action: RECREATE_POD,
      target,
      params: { ...common },
      snapshot: { pod: podFacts, owners: [], manifest: JSON.parse(JSON.stringify(manifest)) as JsonObject },
    };
  }

  // The owner chain, pod first: ReplicaSet → Deployment, or StatefulSet, DaemonSet, ReplicationController.
  const owners: OwnerSnapshot[] = [{ kind: controller.kind, name: controller.name, uid: controller.uid }];
  if (controller.kind === 'ReplicaSet') {
    const rs = await orUndefined(clients.apps.readNamespacedReplicaSet({ name: controller.name, namespace }));
    const top = controllerOf(rs?.metadata);
    if (top) owners.push({ kind: top.kind, name: top.name, uid: top.uid });
  }
  const owner = owners[owners.length - 1]!;
  const readiness = await ownerReadiness(clients, namespace, owner);
  if (!readiness) {
    throw new ValidationError(
      [{ field: 'target.labels', message: `pod ${namespace}/${name} is owned by ${owner.kind}/${owner.name}, which ChaosDuck cannot watch for recovery (or which is gone)` }],
      'target',
    );
  }
  return {
    provider: target.provider,
    action: AWAIT_OWNER_READY,
    target,
    params: {
      ...common,
      owner: { kind: owner.kind, name: owner.name },
      // The pod's direct controller: its pods are the replacements.
      controller: { kind: controller.kind, name: controller.name, uid: controller.uid },
      expected_ready: readiness.ready,
    },
    snapshot: { pod: podFacts, owners, owner_ready_replicas: readiness.ready, owner_desired_replicas: readiness.desired },
  };
}

export async function applyPodDelete(spec: FaultSpec, intent: RollbackIntent, clients: KubeClients, context: FaultContext, options: PodDeleteOptions = {}): Promise<JsonValue> {
  const { parameters } = asPodDelete(spec);
  const { namespace, pod: name, uid } = intent.params as { namespace: string; pod: string; uid: string };
  const gracePeriodSeconds = parameters.grace_period_seconds;
  context.signal.throwIfAborted();
  try {
    await clients.core.deleteNamespacedPod({
      name,
      namespace,
      gracePeriodSeconds,
      // The uid precondition: delete the pod that was snapshotted, never a namesake that replaced it.
      body: { gracePeriodSeconds, preconditions: { uid } },
    });
  } catch (error) {
    const code = kubeStatus(error);
    if (code === 404 || code === 409) throw new InjectionFailedError(`pod ${namespace}/${name} (uid ${uid}) no longer exists; nothing was deleted`);
    throw error;
  }
  const deletedAt = Date.now();
  const controller = intent.params.controller as { uid?: string } | undefined;
  if (options.recoveryWatches && controller?.uid) {
    await options.recoveryWatches.start(RecoveryWatches.key(context.experimentId, context.rollbackSeq), clients, {
      namespace,
      labels: (intent.snapshot.pod as { labels: Record<string, string> }).labels ?? {},
      controllerUid: controller.uid,
      deletedUid: uid,
      deletedAt,
      timeoutMs: Number(intent.params.wait_timeout_seconds) * 1000,
    });
  }
  return { deleted: [`${namespace}/${name}`], uid, grace_period_seconds: gracePeriodSeconds ?? null, deleted_at: new Date(deletedAt).toISOString() };
}

/**
 * One look at the owner: recovered (its snapshot's ready replicas, and a ready replacement unless the pod was never
 * deleted) with the time to recovery, or `undefined` and what is still missing in `progress`.
 */
async function ownerRecovery(intent: RollbackIntent, clients: KubeClients, started: number, watched?: WatchedRecovery): Promise<{ recovered?: JsonObject; progress: string }> {
  const { namespace, pod: name, uid, expected_ready: expected } = intent.params as { namespace: string; pod: string; uid: string; expected_ready: number };
  const owner = intent.params.owner as { kind: string; name: string };
  const controller = intent.params.controller as { kind: string; name: string; uid: string };
  const readiness = await ownerReadiness(clients, namespace, owner);
  if (!readiness) throw new Error(`${owner.kind}/${owner.name} is gone; its pods cannot recover`);
  const original = await orUndefined(clients.core.readNamespacedPod({ name, namespace }));
  const untouched = original?.metadata?.uid === uid && !original.metadata?.deletionTimestamp;
  let replacement: V1Pod | undefined;
  if (!untouched) {
    const { items } = await clients.core.listNamespacedPod({ namespace, labelSelector: labelSelector((intent.snapshot.pod as { labels: Record<string, string> }).labels ?? {}) });
    replacement = items
      .filter((p) => p.metadata?.uid !== uid && controllerOf(p.metadata)?.uid === controller.uid && isReady(p) && !p.metadata?.deletionTimestamp)
      .sort((a, b) => (toTime(b.metadata?.creationTimestamp) ?? 0) - (toTime(a.metadata?.creationTimestamp) ?? 0))[0];
  }
  const progress = `${owner.kind}/${owner.name} has ${readiness.ready}/${expected} ready; ${untouched ? 'the pod was never deleted' : replacement ? `replacement ${replacement.metadata?.name} is ready` : 'no ready replacement yet'}`;
  if (readiness.ready < expected || (!untouched && !replacement)) return { progress };
  const common = { recovered: true, owner: `${owner.kind}/${owner.name}`, ready_replicas: readiness.ready };
  if (untouched) return { progress, recovered: { ...common, replaced: false, recovered_after_ms: 0, waited_ms: Date.now() - started } };
  if (watched?.readyAt !== undefined) {
    return {
      progress,
      recovered: {
        ...common,
        replaced: true,
        replacement: watched.replacement ?? replacement!.metadata?.name ?? null,
        recovered_after_ms: watched.readyAt - watched.deletedAt,
        measured: 'watch: deletion accepted → ready replacement seen',
        waited_ms: Date.now() - started,
      },
    };
  }
  const created = toTime(replacement!.metadata?.creationTimestamp);
  const readyAt = toTime((replacement!.status?.conditions ?? []).find((c) => c.type === 'Ready')?.lastTransitionTime);
  return {
    progress,
    recovered: {
      ...common,
      replaced: true,
      replacement: replacement!.metadata?.name ?? null,
      // Server time from the replacement's creation (the controller reacts to the deletion at once) to Ready.
      recovered_after_ms: created !== undefined && readyAt !== undefined ? Math.max(0, readyAt - created) : null,
      measured: 'api timestamps: replacement created → Ready, whole seconds',
      waited_ms: Date.now() - started,
    },
  };
}

async function awaitOwnerReady(intent: RollbackIntent, clients: KubeClients, context: FaultContext, options: PodDeleteOptions): Promise<JsonValue> {
  const timeout = Number(intent.params.wait_timeout_seconds);
  const owner = intent.params.owner as { kind: string; name: string };
  const started = Date.now();
  const key = RecoveryWatches.key(context.experimentId, context.rollbackSeq);
  let last = 'not checked yet';
  try {
    return await pollUntil<JsonObject>(
      async () => {
        const { recovered, progress } = await ownerRecovery(intent, clients, started, options.recoveryWatches?.seen(key));
        last = progress;
        return recovered;
      },
      { signal: context.signal, timeoutMs: timeout * 1000, intervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, what: `${owner.kind}/${owner.name} to be ready again` },
      () => last,
    );
  } finally {
    options.recoveryWatches?.stop(key);
  }
}

/** During OBSERVE: how far the owner has come back, with the time to recovery once it has. */
export async function observePodDelete(intent: RollbackIntent, clients: KubeClients, context: FaultContext, options: PodDeleteOptions = {}): Promise<JsonValue | undefined> {
  if (intent.action !== AWAIT_OWNER_READY) return undefined;
  const watched = options.recoveryWatches?.seen(RecoveryWatches.key(context.experimentId, context.rollbackSeq));
  const { recovered, progress } = await ownerRecovery(intent, clients, Date.now(), watched);
  if (recovered) {
    const { waited_ms: _waited, ...facts } = recovered;
    return facts;
  }
  return { recovered: false, owner: `${(intent.params.owner as { kind: string }).kind}/${(intent.params.owner as { name: string }).name}`, progress };
}

async function recreatePod(intent: RollbackIntent, clients: KubeClients, context: FaultContext, options: PodDeleteOptions): Promise<JsonValue> {
  const { namespace, pod: name, uid, wait_timeout_seconds: timeout } = intent.params as { namespace: string; pod: string; uid: string; wait_timeout_seconds: number };
  const intervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const started = Date.now();
  // A terminating pod (grace period still running) holds the name: wait until it is gone.
  const existing = await pollUntil(
    async () => {
      const pod = await orUndefined(clients.core.readNamespacedPod({ name, namespace }));
      return pod?.metadata?.deletionTimestamp ? undefined : { pod };
    },
    { signal: context.signal, timeoutMs: timeout * 1000, intervalMs: intervalMs, what: `pod ${namespace}/${name} to finish terminating` },
  );
  let created = false;
  if (!existing.pod) {
    try {
      await clients.core.createNamespacedPod({ namespace, body: intent.snapshot.manifest as unknown as V1Pod });
      created = true;
    } catch (error) {
      if (kubeStatus(error) !== 409) throw error; // created meanwhile (an earlier revert): nothing to do
    }
  }
  const running = await pollUntil(
    async () => {
      const pod = await orUndefined(clients.core.readNamespacedPod({ name, namespace }));
      return pod && isReady(pod) ? pod : undefined;
    },
    { signal: context.signal, timeoutMs: timeout * 1000, intervalMs: intervalMs, what: `pod ${namespace}/${name} to be running again` },
  );
  return {
    recreated: created,
    pod: `${namespace}/${name}`,
    uid: running.metadata?.uid ?? null,
    original_uid: uid,
    untouched: running.metadata?.uid === uid,
    recovered_after_ms: Date.now() - started,
  };
}

export async function revertPodDelete(intent: RollbackIntent, clients: KubeClients, context: FaultContext, options: PodDeleteOptions): Promise<JsonValue> {
  if (intent.action === AWAIT_OWNER_READY) return awaitOwnerReady(intent, clients, context, options);
  if (intent.action === RECREATE_POD) return recreatePod(intent, clients, context, options);
  throw new Error(`pod_delete cannot revert action ${intent.action}`);
}
