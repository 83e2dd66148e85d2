/**
 * Probes measure the system under test. Each probe type is a function from its validated properties to an outcome;
 * the runner records it as a Chaos Toolkit activity (see `recordActivity`).
 */
import type { AwsClientFactory } from '../faults/aws/clients.js';
import type { KubeClientResolver } from '../faults/kubernetes/cluster.js';
import type { JsonValue } from '../journal/activity.js';

export interface ProbeOutcome {
  /** Did the measurement stay within the probe's tolerances? */
  ok: boolean;
  /** What was measured (status, latency, body excerpt, exit code…) and, when not ok, why. */
  output: JsonValue;
}

export interface ProbeEnvironment {
  /** `cmd` probes run shell commands and exist only on the local runtime; in Lambda they are a validation error. */
  runtime: 'local' | 'lambda';
  signal: AbortSignal;
  /**
   * AWS clients for the probes that read AWS (`cloudwatch_alarm`). Optional: without it a process-wide
   * `awsClientFactory()` is built on first use, which follows the SDK's own configuration (`AWS_REGION`,
   * `AWS_ENDPOINT_URL`, credentials chain). Tests and runtimes that hold their own factory pass it here.
   */
  aws?: AwsClientFactory;
  /**
   * Kubernetes clients for the `k8s` probe, by `properties.cluster`. Optional: without it a process-wide
   * `kubeClientsByContext()` (the default kubeconfig) is built on first use.
   */
  kube?: KubeClientResolver;
}
