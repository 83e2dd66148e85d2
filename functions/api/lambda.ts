/**
 * The Lambda entry point of `api`: its handler, with dependencies built from the environment on the first call, logging
 * each request (`observedRest`).
 */
import { lambdaControl } from '../../shared/lifecycle/aws-control.js';
import { builtOnFirstCall } from '../../shared/lifecycle/lambda-entry.js';
import { eksTopology, withFaultDrivers } from '../../shared/lifecycle/lambda-kubernetes.js';
import { awsClientFactory } from '../../shared/faults/aws/clients.js';
import { awsTopology } from '../../shared/faults/aws/topology.js';
import { observedRest } from '../../shared/observability/lambda.js';
import { createHandler, type ApiHandler } from './handler.js';

export const handler: ApiHandler = observedRest(builtOnFirstCall(() => {
  const clients = awsClientFactory();
  const tagKey = process.env.CHAOS_TAG_KEY;
  // The fault drivers plan dry runs; Kubernetes through EKS also answers the k8s topology of a cluster named by `cluster`.
  const deps = withFaultDrivers(lambdaControl());
  return createHandler({ ...deps, topology: { aws: (region) => awsTopology(clients, { region, tagKey }), k8s: eksTopology(deps.kube) } });
}));
