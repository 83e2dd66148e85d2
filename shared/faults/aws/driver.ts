/**
 * The fault driver for provider `aws`: dispatches each chaos type to its fault module, with SDK clients for the
 * target's region and (optional) assumed role.
 */
import type { FaultDriver } from '../driver.js';
import { ProviderUnavailableError, ValidationError } from '../../errors.js';
import { AWS_CHAOS_TYPES, type ExperimentSpec } from '../../model/experiment.js';
import { awsClientFactory, type AwsClientFactory } from './clients.js';
import type { AwsChaosType, AwsFault, AwsSpec } from './fault.js';

export type AwsFaults = Partial<Record<AwsChaosType, AwsFault>>;

export function createAwsDriver(faults: AwsFaults, clients: AwsClientFactory = awsClientFactory()): FaultDriver {
  const faultFor = (chaosType: string): AwsFault => {
    const fault = faults[chaosType as AwsChaosType];
    if (!fault) throw new ProviderUnavailableError(`the aws driver cannot apply ${chaosType}`);
    return fault;
  };
  const asAws = (spec: ExperimentSpec) => spec as AwsSpec;
  return {
    provider: 'aws',
    chaosTypes: AWS_CHAOS_TYPES.filter((type) => faults[type]),
    resolve: (spec, signal) =>
      faultFor(spec.chaos_type)
        .resolve(asAws(spec), clients, signal)
        .catch((error: unknown) => {
          // The SDK found no region in the target, the environment or a profile: that is the experiment's to give.
          if (error instanceof Error && /region is missing/i.test(error.message)) {
            throw new ValidationError([{ field: 'target.region', message: 'no AWS region: set target.region, or AWS_REGION for the control plane' }]);
          }
          throw error;
        }),
    prepare: (spec, target, signal) => faultFor(spec.chaos_type).prepare(asAws(spec), target, clients, signal),
    apply: (spec, intent, context) => faultFor(spec.chaos_type).apply(asAws(spec), intent, clients, context),
    revert: (intent, context) => faultFor(String(intent.params.chaos_type)).revert(intent, clients, context),
    endEarly: async (intent, context) => faultFor(String(intent.params.chaos_type)).endEarly?.(intent, clients, context),
  };
}
