/**
 * Guardrails run before every injection, and the same checks make a dry run's plan. Each refusal is a named error,
 * thrown before anything is written or injected.
 */
import {
  EmergencyStopActiveError,
  ProductionGuardError,
  ProviderUnavailableError,
  TimeoutCapExceededError,
} from '../errors.js';
import type { FaultDriver, RollbackIntent, TargetRef } from '../faults/driver.js';
import type { ExperimentSpec } from '../model/experiment.js';
import { selectTargets } from '../model/selection.js';
import type { JsonObject } from '../journal/activity.js';
import type { LifecycleDeps } from './deps.js';

export async function checkEmergencyStop(deps: Pick<LifecycleDeps, 'store'>): Promise<void> {
  const stop = await deps.store.getEmergencyStop();
  if (stop.active) {
    throw new EmergencyStopActiveError(`emergency stop is active since ${stop.since}${stop.reason ? ` (${stop.reason})` : ''}`);
  }
}

export function checkTimeoutCap(spec: ExperimentSpec, deps: Pick<LifecycleDeps, 'guardrails'>): void {
  const cap = deps.guardrails.maxTimeoutSeconds;
  if (spec.safety.timeout_seconds > cap) {
    throw new TimeoutCapExceededError(`safety.timeout_seconds ${spec.safety.timeout_seconds} is above this control plane's cap of ${cap}s`);
  }
}

/** Where a production-looking name was found, or undefined. */
function productionMarker(spec: ExperimentSpec, target: TargetRef, pattern: RegExp): string | undefined {
  const namespace = 'namespace' in spec.target ? spec.target.namespace : undefined;
  if (namespace && pattern.test(namespace)) return `namespace ${namespace}`;
  if (pattern.test(target.id)) return `target ${target.id}`;
  for (const [key, value] of Object.entries(target.labels)) {
    if (pattern.test(key) || pattern.test(value)) return `label ${key}=${value} of ${target.id}`;
  }
  return undefined;
}

export function checkProductionGuard(spec: ExperimentSpec, targets: readonly TargetRef[], deps: Pick<LifecycleDeps, 'guardrails'>): void {
  if (spec.safety.require_confirmation) return;
  const markers = targets.map((t) => productionMarker(spec, t, deps.guardrails.productionPattern)).filter((m) => m !== undefined);
  if (markers.length > 0) {
    throw new ProductionGuardError(
      `targets look like production (${[...new Set(markers)].join(', ')}); set safety.require_confirmation: true to confirm`,
    );
  }
}

export function driverFor(spec: ExperimentSpec, deps: Pick<LifecycleDeps, 'drivers'>): FaultDriver {
  const driver = deps.drivers.get(spec.target.provider);
  if (!driver) {
    const known = [...deps.drivers.keys()].join(', ') || 'none';
    throw new ProviderUnavailableError(`target.provider "${spec.target.provider}" is not available in this runtime (available: ${known})`);
  }
  if (!driver.chaosTypes.includes(spec.chaos_type)) {
    throw new ProviderUnavailableError(`target.provider "${driver.provider}" cannot apply chaos_type ${spec.chaos_type}`);
  }
  return driver;
}

export interface InjectionPlan {
  driver: FaultDriver;
  fault: { chaos_type: ExperimentSpec['chaos_type']; parameters: JsonObject };
  matching: number;
  requested: number;
  allowed: number;
  capped: boolean;
  /** One prepared rollback per selected target, in the order the faults will be applied. */
  steps: RollbackIntent[];
}

/**
 * Everything up to the point of no return: guardrails, target resolution and selection, and each target's prepared
 * rollback. Changes nothing, so a dry run is exactly this plan.
 */
export async function planInjection(spec: ExperimentSpec, deps: LifecycleDeps, signal: AbortSignal): Promise<InjectionPlan> {
  await checkEmergencyStop(deps);
  checkTimeoutCap(spec, deps);
  const driver = driverFor(spec, deps);
  const candidates = await driver.resolve(spec, signal);
  const selection = selectTargets(candidates, spec.target.selection, spec.safety.max_blast_radius, deps.random);
  checkProductionGuard(spec, selection.selected, deps);
  const steps: RollbackIntent[] = [];
  for (const target of selection.selected) steps.push(await driver.prepare(spec, target, signal));
  return {
    driver,
    fault: { chaos_type: spec.chaos_type, parameters: spec.parameters as JsonObject },
    matching: selection.matching,
    requested: selection.requested,
    allowed: selection.allowed,
    capped: selection.capped,
    steps,
  };
}

/** The plan as a user reads it (dry run output, journal): which targets, which fault, which rollback. */
export function describePlan(plan: InjectionPlan): JsonObject {
  return {
    fault: plan.fault,
    provider: plan.driver.provider,
    targets: plan.steps.map((step) => ({ id: step.target.id, labels: step.target.labels })),
    selection: { matching: plan.matching, requested: plan.requested, allowed: plan.allowed, capped: plan.capped },
    rollback: plan.steps.map((step) => ({ action: step.action, target: step.target.id, params: step.params })),
  };
}
