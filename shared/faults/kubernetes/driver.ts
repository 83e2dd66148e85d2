/**
 * The fault driver for provider `kubernetes`: pod_delete for now (see pod-delete.ts), against the cluster that
 * `target.cluster` names (the resolver's default when it names none).
 */
import type { FaultDriver } from '../driver.js';
import { ProviderUnavailableError } from '../../errors.js';
import type { ChaosType, ExperimentSpec } from '../../model/experiment.js';
import type { KubeClientResolver, KubeClients } from './cluster.js';
import { applyPodDelete, preparePodDelete, resolvePods, revertPodDelete, type PodDeleteOptions } from './pod-delete.js';

export type KubernetesDriverOptions = PodDeleteOptions;

const CHAOS_TYPES = ['pod_delete'] as const satisfies readonly ChaosType[];

export function createKubernetesDriver(clients: KubeClients | KubeClientResolver, options: KubernetesDriverOptions = {}): FaultDriver {
  const clientsFor: KubeClientResolver = typeof clients === 'function' ? clients : async () => clients;
  const check = (chaosType: string) => {
    if (!(CHAOS_TYPES as readonly string[]).includes(chaosType)) throw new ProviderUnavailableError(`the kubernetes driver cannot apply ${chaosType}`);
  };
  const clusterOf = (spec: ExperimentSpec) => ('cluster' in spec.target ? spec.target.cluster : undefined);
  return {
    provider: 'kubernetes',
    chaosTypes: CHAOS_TYPES,
    resolve: async (spec, signal) => {
      check(spec.chaos_type);
      return resolvePods(spec, await clientsFor(clusterOf(spec)), signal);
    },
    prepare: async (spec, target, _signal) => {
      check(spec.chaos_type);
      return preparePodDelete(spec, target, await clientsFor(clusterOf(spec)), options);
    },
    apply: async (spec, intent, context) => {
      check(spec.chaos_type);
      return applyPodDelete(spec, intent, await clientsFor(clusterOf(spec)), context);
    },
    revert: async (intent, context) => {
      check(String(intent.params.chaos_type));
      const cluster = intent.params.cluster;
      return revertPodDelete(intent, await clientsFor(typeof cluster === 'string' ? cluster : undefined), context, options);
    },
  };
}
