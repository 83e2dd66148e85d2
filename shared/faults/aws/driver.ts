/**
 * The fault driver for provider `aws`: dispatches each chaos type to its fault module, with SDK clients for the
 * target's region and (optional) assumed role.
 */
import type { FaultDriver } from '../driver.js';
import { ProviderUnavailableError } from '../../errors.js';
import { AWS_CHAOS_TYPES, type FaultSpec } from '../../model/experiment.js';
import { awsClientFactory, type AwsClientFactory } from './clients.js';
import type { AwsChaosType, AwsFault, AwsSpec } from './fault.js';
import { namedConfigurationError } from './targets.js';

export type AwsFaults = Partial<Record<AwsChaosType, AwsFault>>;

export function createAwsDriver(faults: AwsFaults, clients: AwsClientFactory = awsClientFactory()): FaultDriver {
  const faultFor = (chaosType: string): AwsFault => {
    const fault = faults[chaosType as AwsChaosType];
    if (!fault) throw new ProviderUnavailableError(`the aws driver cannot apply ${chaosType}`);
    return fault;
  };
  const asAws = (spec: FaultSpec) => spec as AwsSpec;
  // Every call may be the first to need the region or the credentials: a missing one is named, whichever it is.
  const named = <T>(call: Promise<T>): Promise<T> =>
    call.catch((error: unknown) => {
      throw namedConfigurationError(error, 'target.region');
    });
  return {
    provider: 'aws',
    chaosTypes: AWS_CHAOS_TYPES.filter((type) => faults[type]),
    resolve: (spec, signal) => named(faultFor(spec.chaos_type).resolve(asAws(spec), clients, signal)),
    prepare: (spec, target, signal) => named(faultFor(spec.chaos_type).prepare(asAws(spec), target, clients, signal)),
    apply: (spec, intent, context) => named(faultFor(spec.chaos_type).apply(asAws(spec), intent, clients, context)),
    revert: (intent, context) => named(faultFor(String(intent.params.chaos_type)).revert(intent, clients, context)),
    endEarly: async (intent, context) => named(Promise.resolve(faultFor(String(intent.params.chaos_type)).endEarly?.(intent, clients, context))),
  };
}
