/**
 * What every lifecycle core receives: its dependencies as arguments, so the same code runs in Lambda (built from the
 * environment) and in the embedded runtime (built by `local/`), and unit tests can hand in their own.
 */
import type { DriverRegistry } from '../faults/driver.js';
import type { JournalEvent, PhaseResult } from '../model/lifecycle.js';
import type { ExperimentStore } from '../store/store.js';
import type { AwsClientFactory } from '../faults/aws/clients.js';
import type { KubeClientResolver } from '../faults/kubernetes/cluster.js';
import type { Analyst } from '../analysis/analyst.js';
import { DEFAULT_PRODUCTION_PATTERN } from './guardrails.js';

export interface EventPublisher {
  /** Delivers progress events to subscribers (EventBridge in AWS, the in-process bus locally). */
  publish(events: readonly JournalEvent[]): Promise<void>;
}

export interface GuardrailConfig {
  /** The longest `safety.timeout_seconds` this control plane accepts. */
  maxTimeoutSeconds: number;
  /** Names that match this (cluster, namespace, labels, ids, the experiment's name) need `safety.require_confirmation: true`. */
  productionPattern: RegExp;
}

export interface LifecycleDeps {
  store: ExperimentStore;
  drivers: DriverRegistry;
  events: EventPublisher;
  guardrails: GuardrailConfig;
  runtime: 'local' | 'lambda';
  /** Identifies the runtime that runs an experiment, so a recovery sweep can tell whose runs are gone. */
  runtimeId: string;
  clock: () => number;
  random: () => number;
  /** AWS clients for probes that read AWS (CloudWatch alarms); built from the SDK's usual configuration if absent. */
  aws?: AwsClientFactory;
  /** Kubernetes clients for `k8s` probes; the default kubeconfig (by context) if absent. */
  kube?: KubeClientResolver;
  /**
   * Claude's prediction for the HYPOTHESIS phase of an `ai_enabled` experiment, where Claude is configured (the local
   * analyst; in AWS, the analysis function asked through Lambda); absent, the rule-based hypothesis stands.
   */
  predict?: Analyst['predict'];
}

export const DEFAULT_GUARDRAILS: GuardrailConfig = {
  maxTimeoutSeconds: 3600,
  productionPattern: DEFAULT_PRODUCTION_PATTERN,
};

/**
 * Records a step's events (and its phase result, when it has one) in the journal in DynamoDB — one batch call — and
 * then publishes the events as progress. `signal` (the task's, fired before its Lambda times out) stops retrying a
 * throttled write, so the task fails by name rather than being cut off; ROLLBACK passes none, as it must write.
 */
export async function emit(
  deps: Pick<LifecycleDeps, 'store' | 'events'>,
  events: readonly JournalEvent[],
  phase?: { experimentId: string; result: PhaseResult },
  signal?: AbortSignal,
): Promise<void> {
  if (events.length === 0 && !phase) return;
  await deps.store.writeRecords({ events, phase }, signal);
  await deps.events.publish(events);
}
