/**
 * A driver that is built on first use. The CLI registers the sandbox this way, so a recovery sweep that finds a
 * sandbox fault left behind can revert it, while runs that never touch the sandbox never start its processes.
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
  };
}
