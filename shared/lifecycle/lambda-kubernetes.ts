/**
 * Kubernetes for the Lambda functions that reach a cluster, through EKS (see `faults/kubernetes/eks.ts`), and the
 * fault drivers (AWS and Kubernetes) for those that plan, apply or revert faults:
 *
 *   run-probes, observe   `k8s` probes
 *   inject, rollback      the fault drivers (apply, revert), as observe, which ends faults early
 *   api                   dry runs, GET /api/topology/k8s and /combined
 *
 * Only these handlers import this module, so the other functions' bundles carry neither the Kubernetes client (about
 * 1.7 MB against their 250 KB budget) nor the fault actions. None of the others plans, applies or reverts a fault or
 * runs a probe; if one ever did, it would find no driver and say so by name (`ProviderUnavailableError`), as for any
 * provider a runtime lacks.
 */
import { ValidationError } from '../errors.js';
import { awsClientFactory } from '../faults/aws/clients.js';
import { awsDriver } from '../faults/aws/index.js';
import type { KubeClientResolver } from '../faults/kubernetes/cluster.js';
import { createKubernetesDriver } from '../faults/kubernetes/driver.js';
import { eksClients, type EksClientsOptions } from '../faults/kubernetes/eks.js';
import { kubernetesTopology } from '../faults/kubernetes/topology.js';
import type { JsonObject } from '../journal/activity.js';
import type { LifecycleDeps } from './deps.js';
import type { TaskHandler } from './handler.js';
import { lambdaDeps, lambdaTask, type TaskStep } from './lambda-deps.js';

/**
 * The deps with EKS access added: `kube` for probes and topology, and the `kubernetes` driver beside the others.
 * `target.cluster` (a probe's `properties.cluster`) names the EKS cluster, by name in `AWS_REGION` or by ARN.
 */
export function withKubernetes<D extends LifecycleDeps>(deps: D, options: EksClientsOptions = {}): D & { kube: KubeClientResolver } {
  const kube = eksClients(options);
  return { ...deps, kube, drivers: new Map([...deps.drivers, ['kubernetes', createKubernetesDriver(kube)]]) };
}

/** The deps with every fault driver: AWS, and Kubernetes through EKS (`withKubernetes`). */
export function withFaultDrivers<D extends LifecycleDeps>(deps: D, options: EksClientsOptions = {}): D & { kube: KubeClientResolver } {
  const aws = awsDriver(deps.aws ?? awsClientFactory());
  return withKubernetes({ ...deps, drivers: new Map([...deps.drivers, [aws.provider, aws]]) }, options);
}

/** `lambdaHandler` for the lifecycle tasks that reach a cluster or a fault. */
export function lambdaKubernetesHandler<O>(phase: TaskStep, create: (deps: LifecycleDeps) => TaskHandler<O>): TaskHandler<O> {
  return lambdaTask(phase, () => create(withFaultDrivers(lambdaDeps())));
}

/** The Kubernetes topology source of the REST API in AWS: the cluster must be named, as AWS has no default one. */
export function eksTopology(kube: KubeClientResolver): (cluster: string | undefined) => Promise<JsonObject> {
  return async (cluster) => {
    if (!cluster) {
      throw new ValidationError([{ field: 'cluster', message: 'name the EKS cluster (its name, or its ARN): in AWS there is no default cluster' }], 'query');
    }
    return kubernetesTopology(kube, { cluster });
  };
}
