/**
 * What the control plane may target in a Kubernetes cluster: its namespaces, and the deployments, statefulsets, pods
 * and services in them, for dry runs and for people choosing targets. Five cluster-wide list calls (paged). What sits
 * in a protected namespace (the cluster's own) is listed, marked `protected: true`: no experiment may target it.
 * Pods list the chaos-agent ephemeral containers earlier faults left in them (they stay until the pod is replaced).
 */
import type { V1ListMeta } from '@kubernetes/client-node';
import type { JsonObject } from '../../journal/activity.js';
import type { KubeClientResolver } from './cluster.js';
import { PROTECTED_NAMESPACES } from '../../model/experiment.js';
import { AGENT_NAME_PREFIX } from './agent-faults.js';

const PAGE = 500;

async function all<T>(list: (_continue: string | undefined) => Promise<{ items: T[]; metadata?: V1ListMeta }>): Promise<T[]> {
  const out: T[] = [];
  let next: string | undefined;
  do {
    const page = await list(next);
    out.push(...page.items);
    next = page.metadata?._continue || undefined;
  } while (next);
  return out;
}

const byNamespaceAndName = (a: JsonObject, b: JsonObject) =>
  String(a.namespace).localeCompare(String(b.namespace)) || String(a.name).localeCompare(String(b.name));

export async function kubernetesTopology(resolve: KubeClientResolver, { cluster }: { cluster?: string } = {}): Promise<JsonObject> {
  const { core, apps } = await resolve(cluster);
  const [namespaces, deployments, statefulSets, pods, services] = await Promise.all([
    all((_continue) => core.listNamespace({ limit: PAGE, _continue })),
    all((_continue) => apps.listDeploymentForAllNamespaces({ limit: PAGE, _continue })),
    all((_continue) => apps.listStatefulSetForAllNamespaces({ limit: PAGE, _continue })),
    all((_continue) => core.listPodForAllNamespaces({ limit: PAGE, _continue })),
    all((_continue) => core.listServiceForAllNamespaces({ limit: PAGE, _continue })),
  ]);
  const isProtected = (namespace: string | undefined) => PROTECTED_NAMESPACES.includes(namespace ?? '');
  const workload = (kind: string) => (w: (typeof deployments)[number] | (typeof statefulSets)[number]): JsonObject => ({
    kind,
    namespace: w.metadata?.namespace ?? '',
    protected: isProtected(w.metadata?.namespace),
    name: w.metadata?.name ?? '',
    labels: { ...w.metadata?.labels },
    selector: { ...w.spec?.selector?.matchLabels },
    replicas: w.spec?.replicas ?? 1,
    ready_replicas: w.status?.readyReplicas ?? 0,
    available_replicas: w.status?.availableReplicas ?? 0,
  });
  return {
    cluster: cluster ?? null,
    namespaces: namespaces
      .map((n) => ({ name: n.metadata?.name ?? '', phase: n.status?.phase ?? null, protected: isProtected(n.metadata?.name) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    deployments: deployments.map(workload('Deployment')).sort(byNamespaceAndName),
    statefulsets: statefulSets.map(workload('StatefulSet')).sort(byNamespaceAndName),
    pods: pods
      .map((p): JsonObject => {
        const owner = p.metadata?.ownerReferences?.find((o) => o.controller);
        return {
          namespace: p.metadata?.namespace ?? '',
          protected: isProtected(p.metadata?.namespace),
          name: p.metadata?.name ?? '',
          labels: { ...p.metadata?.labels },
          phase: p.status?.phase ?? null,
          ready: p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
          node: p.spec?.nodeName ?? null,
          owner: owner ? `${owner.kind}/${owner.name}` : null,
          chaos_agents: (p.spec?.ephemeralContainers ?? []).map((c) => c.name).filter((name) => name.startsWith(AGENT_NAME_PREFIX)),
        };
      })
      .sort(byNamespaceAndName),
    services: services
      .map((s): JsonObject => ({
        namespace: s.metadata?.namespace ?? '',
        name: s.metadata?.name ?? '',
        type: s.spec?.type ?? 'ClusterIP',
        cluster_ip: s.spec?.clusterIP ?? null,
        selector: { ...s.spec?.selector },
        ports: (s.spec?.ports ?? []).map((port) => ({
          name: port.name ?? null,
          protocol: port.protocol ?? 'TCP',
          port: port.port,
          target_port: port.targetPort === undefined ? null : (port.targetPort as number | string),
        })),
      }))
      .sort(byNamespaceAndName),
  };
}
