/**
 * The `k8s` probe: reads a workload's health from the Kubernetes API.
 *
 *   deployment / statefulset  ready replicas (`status.readyReplicas`) against `min_ready_replicas`, by default the
 *                             resource's desired replicas (`spec.replicas`, 1 when unset, as the API defaults it)
 *   pods                      the pods matching `labels`, counted in `expected_phase` (default Running) and, for
 *                             Running, Ready; enough of them (`min_pods`, default 1) is ok
 *
 * Like the other probes it never throws for what it measures: a resource that does not exist, a cluster that cannot
 * be reached or a refused call is a failed outcome that says why. Only cancelling the run (`env.signal`) throws.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { kubeClientsByContext, type KubeClientResolver, type KubeClients } from '../faults/kubernetes/cluster.js';
import { kubeErrorMessage, kubeStatus } from '../faults/kubernetes/api-errors.js';
import { labelSelector } from '../faults/kubernetes/targets.js';
import type { JsonObject } from '../journal/activity.js';
import type { K8sProbe } from '../model/experiment.js';
import type { ProbeEnvironment, ProbeOutcome } from './probe.js';

let sharedResolver: KubeClientResolver | undefined;

/** Built on first use, not at import: the kubeconfig is read when a probe first needs it. */
export function defaultResolver(): KubeClientResolver {
  sharedResolver ??= kubeClientsByContext();
  return sharedResolver;
}

type Props = K8sProbe['properties'];

export async function runK8sProbe(probe: K8sProbe, env: ProbeEnvironment): Promise<ProbeOutcome> {
  env.signal.throwIfAborted();
  const props = probe.properties;
  const base: JsonObject = { kind: props.kind, namespace: props.namespace, ...(props.cluster ? { cluster: props.cluster } : {}) };
  try {
    const clients = await (env.kube ?? defaultResolver())(props.cluster);
    const outcome = props.kind === 'pods' ? await measurePods(clients, props, base) : await measureWorkload(clients, props, base);
    env.signal.throwIfAborted();
    return outcome;
  } catch (error) {
    env.signal.throwIfAborted();
    const what = props.kind === 'pods' ? `pods (${labelSelector(props.labels ?? {})})` : `${props.kind} "${props.name}"`;
    if (kubeStatus(error) === 404) return { ok: false, output: { ...base, failures: [`no ${what} in namespace "${props.namespace}"`] } };
    return { ok: false, output: { ...base, failures: [`reading ${what} in namespace "${props.namespace}" failed: ${describe(error)}`] } };
  }
}

async function measureWorkload(clients: KubeClients, props: Props, base: JsonObject): Promise<ProbeOutcome> {
  const name = props.name!;
  const { spec, status } =
    props.kind === 'deployment'
      ? await clients.apps.readNamespacedDeployment({ name, namespace: props.namespace })
      : await clients.apps.readNamespacedStatefulSet({ name, namespace: props.namespace });
  // The API omits zero counts; an unset spec.replicas is defaulted to 1 by the API server.
  const desired = spec?.replicas ?? 1;
  const ready = status?.readyReplicas ?? 0;
  const available = status?.availableReplicas ?? 0;
  const min = props.min_ready_replicas ?? desired;
  const ok = ready >= min;
  return {
    ok,
    output: {
      ...base,
      name,
      desired,
      ready,
      available,
      min_ready_replicas: min,
      failures: ok ? [] : [`${props.kind} "${name}" has ${ready} ready replica${ready === 1 ? '' : 's'}, needs at least ${min}`],
    },
  };
}

async function measurePods(clients: KubeClients, props: Props, base: JsonObject): Promise<ProbeOutcome> {
  const selector = labelSelector(props.labels ?? {});
  const phase = props.expected_phase ?? 'Running';
  const pods: V1Pod[] = [];
  let _continue: string | undefined;
  do {
    const page = await clients.core.listNamespacedPod({ namespace: props.namespace, labelSelector: selector, limit: 500, _continue });
    pods.push(...page.items);
    _continue = page.metadata?._continue || undefined;
  } while (_continue);
  // A pod being deleted still reports its old phase; it does not count towards health.
  const inPhase = pods.filter((p) => p.status?.phase === phase && !p.metadata?.deletionTimestamp);
  const ready = inPhase.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  // Only a running pod can be Ready; for other phases being in the phase is what is asked.
  const counted = phase === 'Running' ? ready.length : inPhase.length;
  const min = props.min_pods ?? 1;
  const ok = counted >= min;
  return {
    ok,
    output: {
      ...base,
      label_selector: selector,
      expected_phase: phase,
      total: pods.length,
      in_phase: inPhase.length,
      ready: ready.length,
      min_pods: min,
      failures: ok
        ? []
        : [`${counted} pod${counted === 1 ? '' : 's'} matching ${selector} ${phase === 'Running' ? 'Running and Ready' : `in phase ${phase}`}, needs at least ${min}`],
    },
  };
}

function describe(error: unknown): string {
  const code = kubeStatus(error);
  if (code !== undefined) return `HTTP ${code}: ${kubeErrorMessage(error)}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
