/** The Lambda entry point of `api`: its handler, with dependencies built from the environment on the first call. */
import { lambdaControl } from '../../shared/lifecycle/aws-control.js';
import { builtOnFirstCall } from '../../shared/lifecycle/lambda-entry.js';
import { eksTopology, withKubernetes } from '../../shared/lifecycle/lambda-kubernetes.js';
import { awsClientFactory } from '../../shared/faults/aws/clients.js';
import { awsTopology } from '../../shared/faults/aws/topology.js';
import { createHandler, type ApiHandler } from './handler.js';

export const handler: ApiHandler = builtOnFirstCall(() => {
  const clients = awsClientFactory();
  const tagKey = process.env.CHAOS_TAG_KEY;
  // Kubernetes through EKS: dry runs of kubernetes experiments, and the k8s topology of a cluster named by `cluster`.
  const deps = withKubernetes(lambdaControl());
  return createHandler({ ...deps, topology: { aws: (region) => awsTopology(clients, { region, tagKey }), k8s: eksTopology(deps.kube) } });
});
