/**
 * Kubernetes targets, the same for every fault: Running pods in `target.namespace` matching every `target.labels`
 * (and `target.field_selectors`), not already terminating, paged through; `kube-system` is refused outright.
 */
import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import type { TargetRef } from '../driver.js';
import { ValidationError } from '../../errors.js';
import { PROTECTED_NAMESPACES, type FaultSpec, type WorkloadTarget } from '../../model/experiment.js';
import type { KubeClients } from './cluster.js';


export function refuseProtectedNamespace(target: WorkloadTarget): void {
  if (PROTECTED_NAMESPACES.includes(target.namespace)) {
    throw new ValidationError(
      [{ field: 'target.namespace', message: `namespace ${target.namespace} is protected: ChaosDuck never injects faults into it; choose an application namespace` }],
      'target',
    );
  }
}

/** A pod's (or ReplicaSet's) controlling owner. */
export const controllerOf = (meta: V1ObjectMeta | undefined): V1OwnerReference | undefined => meta?.ownerReferences?.find((o) => o.controller);

export function labelSelector(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/** Running pods matching a workload target; every Kubernetes fault selects its targets this way. */
export async function resolvePods(spec: FaultSpec, clients: KubeClients, _signal: AbortSignal): Promise<TargetRef[]> {
  if (!('namespace' in spec.target)) throw new TypeError(`${spec.chaos_type} has no Kubernetes target`);
  const { target } = spec;
  refuseProtectedNamespace(target);
  // One named pod is asked for by name; several are picked out of the namespace's (labelled) pods.
  const byName = target.pod_names?.length === 1 ? `metadata.name=${target.pod_names[0]}` : undefined;
  const fieldSelector = ['status.phase=Running', byName, target.field_selectors].filter(Boolean).join(',');
  const pods = [];
  let _continue: string | undefined;
  do {
    const page = await clients.core.listNamespacedPod({ namespace: target.namespace, labelSelector: labelSelector(target.labels ?? {}) || undefined, fieldSelector, _continue });
    pods.push(...page.items);
    _continue = page.metadata?._continue || undefined;
  } while (_continue);
  return pods
    .filter((pod) => pod.metadata?.name && pod.status?.phase === 'Running' && !pod.metadata.deletionTimestamp)
    .filter((pod) => target.pod_names === undefined || target.pod_names.includes(pod.metadata!.name!))
    .map((pod) => ({
      provider: 'kubernetes',
      id: `${target.namespace}/${pod.metadata!.name!}`,
      labels: { ...(pod.metadata!.labels ?? {}) },
      details: {
        namespace: target.namespace,
        pod: pod.metadata!.name!,
        uid: pod.metadata!.uid ?? null,
        node: pod.spec?.nodeName ?? null,
        cluster: target.cluster ?? null,
        owner: controllerOf(pod.metadata) ? `${controllerOf(pod.metadata)!.kind}/${controllerOf(pod.metadata)!.name}` : null,
      },
    }));
}
