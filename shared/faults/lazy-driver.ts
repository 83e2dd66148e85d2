/**
 * A driver that is built on first use. The CLI registers its drivers this way: a recovery sweep that finds a fault
 * left behind can still revert it, while a run that never touches the sandbox, a cluster or AWS never starts the
 * sandbox's processes nor loads the Kubernetes client or the AWS SDK.
 */
import type { ChaosType } from '../model/experiment.js';
import type { FaultDriver } from './driver.js';

export function lazyDriver(provider: string, chaosTypes: readonly ChaosType[], create: () => Promise<FaultDriver>): FaultDriver {
  let driver: Promise<FaultDriver> | undefined;
  const get = () => (driver ??= create());
  return {
    provider,
    chaosTypes,
    resolve: async (...args) => (await get()).resolve(...args),
    prepare: async (...args) => (await get()).prepare(...args),
    apply: async (...args) => (await get()).apply(...args),
    revert: async (...args) => (await get()).revert(...args),
    // Optional for a driver: what the built one lacks answers `undefined`, as the driver contract says for "nothing".
    endEarly: async (...args) => (await get()).endEarly?.(...args),
    observe: async (...args) => (await get()).observe?.(...args),
  };
}
