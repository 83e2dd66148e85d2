/**
 * The fault driver for provider `kubernetes`, against the cluster that `target.cluster` names (the resolver's default
 * when it names none): `pod_delete` deletes pods (pod-delete.ts); the network and stress faults run a chaos agent in
 * an ephemeral container of each pod (agent-faults.ts). Every fault selects Running pods by namespace and labels.
 */
import type { FaultDriver, RollbackIntent } from '../driver.js';
import { ProviderUnavailableError } from '../../errors.js';
import type { ChaosType, FaultSpec } from '../../model/experiment.js';
import type { KubeClientResolver, KubeClients } from './cluster.js';
import { AGENT_CHAOS_TYPES, applyAgentFault, isAgentFault, prepareAgentFault, revertAgentFault, STOP_AGENT, type AgentFaultOptions } from './agent-faults.js';
import { applyPodDelete, observePodDelete, preparePodDelete, revertPodDelete, type PodDeleteOptions } from './pod-delete.js';
import { resolvePods } from './targets.js';

export type KubernetesDriverOptions = PodDeleteOptions & AgentFaultOptions;

const CHAOS_TYPES = ['pod_delete', ...AGENT_CHAOS_TYPES] as const satisfies readonly ChaosType[];

export function createKubernetesDriver(clients: KubeClients | KubeClientResolver, options: KubernetesDriverOptions = {}): FaultDriver {
  const clientsFor: KubeClientResolver = typeof clients === 'function' ? clients : async () => clients;
  const check = (chaosType: string) => {
    if (!(CHAOS_TYPES as readonly string[]).includes(chaosType)) throw new ProviderUnavailableError(`the kubernetes driver cannot apply ${chaosType}`);
  };
  const clusterOf = (spec: FaultSpec) => ('cluster' in spec.target ? spec.target.cluster : undefined);
  const clusterOfIntent = (intent: RollbackIntent) => (typeof intent.params.cluster === 'string' ? intent.params.cluster : undefined);
  return {
    provider: 'kubernetes',
    chaosTypes: CHAOS_TYPES,
    resolve: async (spec, signal) => {
      check(spec.chaos_type);
      return resolvePods(spec, await clientsFor(clusterOf(spec)), signal);
    },
    prepare: async (spec, target, _signal) => {
      check(spec.chaos_type);
      const kube = await clientsFor(clusterOf(spec));
      return isAgentFault(spec) ? prepareAgentFault(spec, target, kube, options) : preparePodDelete(spec, target, kube, options);
    },
    apply: async (spec, intent, context) => {
      check(spec.chaos_type);
      const kube = await clientsFor(clusterOf(spec));
      return isAgentFault(spec) ? applyAgentFault(spec, intent, kube, context, options) : applyPodDelete(spec, intent, kube, context, options);
    },
    revert: async (intent, context) => {
      check(String(intent.params.chaos_type));
      const kube = await clientsFor(clusterOfIntent(intent));
      return intent.action === STOP_AGENT ? revertAgentFault(intent, kube, context, options) : revertPodDelete(intent, kube, context, options);
    },
    observe: async (intent, context) => (intent.action === STOP_AGENT ? undefined : observePodDelete(intent, await clientsFor(clusterOfIntent(intent)), context, options)),
  };
}
