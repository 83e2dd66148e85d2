/**
 * Guardrails run before every injection, and the same checks make a dry run's plan. Each refusal is a named error,
 * thrown before anything is written or injected.
 */
import {
  EmergencyStopActiveError,
  ProductionGuardError,
  ValidationError,
  TimeoutCapExceededError,
} from '../errors.js';
import type { FieldIssue } from '../errors.js';
import type { FaultDriver, RollbackIntent, TargetRef } from '../faults/driver.js';
import { PROTECTED_NAMESPACES, explicitTargetField, type FaultSpec } from '../model/experiment.js';
import { selectTargets } from '../model/selection.js';
import type { JsonObject } from '../journal/activity.js';
import type { GuardrailConfig, LifecycleDeps } from './deps.js';

export async function checkEmergencyStop(deps: Pick<LifecycleDeps, 'store'>): Promise<void> {
  const stop = await deps.store.getEmergencyStop();
  if (stop.active) {
    throw new EmergencyStopActiveError(`emergency stop is active since ${stop.since}${stop.reason ? ` (${stop.reason})` : ''}`);
  }
}

export function checkTimeoutCap(spec: FaultSpec, deps: Pick<LifecycleDeps, 'guardrails'>): void {
  const cap = deps.guardrails.maxTimeoutSeconds;
  if (spec.safety.timeout_seconds > cap) {
    throw new TimeoutCapExceededError(`safety.timeout_seconds ${spec.safety.timeout_seconds} is above this control plane's cap of ${cap}s`);
  }
}

/**
 * The production rule: a name looks like production when the pattern finds a word in it. The default covers
 * `production` anywhere, and `prod`, `prd` and `live` as whole words and at either end of a run of letters, so words
 * run together are caught (`prodeu`, `euprod`, `preprod`, `preproduction`, `prodapi-7f9c`, `shopProd`, `golive`),
 * but not the same letters inside ordinary words (`product`, `produce`, `prodigy`, `delivery`, `liveness`, `alive`,
 * `keepalive`), nor names that say they are not production (`nonprod`, `non-prod`). `PRODUCTION_PATTERN` replaces
 * it (a regular expression, case-insensitive), in the local runtime and in Lambda alike.
 */
export const DEFAULT_PRODUCTION_PATTERN = new RegExp(
  [
    '(?<!non-?)production',
    '(?<![a-z])(?<!non-)prod(?!uc|igy)',
    '(?<!non-?)prod(?![a-z])',
    '(?<![a-z])prd',
    'prd(?![a-z])',
    '(?<![a-z])live(?!ness)',
    '(?<!a)live(?![a-z])',
  ].join('|'),
  'i',
);

/** The word that makes `value` look like production, or undefined. camelCase humps count as word boundaries. */
export function productionWord(value: string, pattern: RegExp): string | undefined {
  const separated = value.replace(/([a-z0-9])([A-Z])/g, '$1-$2');
  return (new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')).exec(separated) ?? undefined)?.[0];
}

/** Every string of the target as written (map keys too), by field path; `provider` and `selection` name no target. */
function targetStrings(target: Record<string, unknown>): [string, string][] {
  const found: [string, string][] = [];
  const walk = (value: unknown, path: string) => {
    if (typeof value === 'string') found.push([path, value]);
    else if (Array.isArray(value)) value.forEach((item, index) => walk(item, `${path}[${index}]`));
    else if (value && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        found.push([`${path}.${key}`, key]);
        walk(item, `${path}.${key}`);
      }
    }
  };
  for (const [key, value] of Object.entries(target)) if (key !== 'provider' && key !== 'selection' && key !== 'region') walk(value, `target.${key}`);
  return found;
}

/** The experiment's name and target fields, as written, that look like production. */
function productionNames(spec: FaultSpec, pattern: RegExp): { field: string; value: string; word: string }[] {
  return [['name', spec.name] as [string, string], ...targetStrings(spec.target as Record<string, unknown>)].flatMap(([field, value]) => {
    const word = productionWord(value, pattern);
    return word ? [{ field, value, word }] : [];
  });
}

/**
 * The guards that need no target system, checked when an experiment is validated (the CLI's `validate`, dry runs,
 * submissions): the timeout cap, a protected namespace, and production-looking names in the experiment's name or
 * target without `safety.require_confirmation`. Each issue names the field (and the word that matched).
 */
export function staticGuardIssues(spec: FaultSpec, guardrails: GuardrailConfig): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (spec.safety.timeout_seconds > guardrails.maxTimeoutSeconds) {
    issues.push({ field: 'safety.timeout_seconds', message: `${spec.safety.timeout_seconds} is above this control plane's cap of ${guardrails.maxTimeoutSeconds}s (MAX_TIMEOUT_SECONDS)` });
  }
  const namespace = (spec.target as { namespace?: unknown }).namespace;
  if (typeof namespace === 'string' && PROTECTED_NAMESPACES.includes(namespace)) {
    issues.push({ field: 'target.namespace', message: `namespace ${namespace} is protected: ChaosDuck never injects faults into it; choose an application namespace` });
  }
  if (spec.safety.require_confirmation) return issues;
  for (const { field, value, word } of productionNames(spec, guardrails.productionPattern)) {
    issues.push({
      field,
      // The word and the setting, not the pattern's source: the default is a long expression nobody needs to read here.
      message: `"${value}" looks like production ("${word}" matches the production rule of PRODUCTION_PATTERN); set safety.require_confirmation: true to run against it`,
    });
  }
  return issues;
}

/** Where a resolved target looks like production, or undefined: its id, or one of its labels (tags). */
function productionMarker(target: TargetRef, pattern: RegExp): string | undefined {
  const inId = productionWord(target.id, pattern);
  if (inId) return `target ${target.id} ("${inId}")`;
  for (const [key, value] of Object.entries(target.labels)) {
    const word = productionWord(key, pattern) ?? productionWord(value, pattern);
    if (word) return `label ${key}=${value} of ${target.id} ("${word}")`;
  }
  return undefined;
}

/**
 * The same rule on what the selector resolved to: targets whose ids or labels look like production (and, again, the
 * names as written, in case the rule changed since the experiment was validated).
 */
export function checkProductionGuard(spec: FaultSpec, targets: readonly TargetRef[], deps: Pick<LifecycleDeps, 'guardrails'>): void {
  if (spec.safety.require_confirmation) return;
  const written = productionNames(spec, deps.guardrails.productionPattern).map(({ field, value, word }) => `${field} ${value} ("${word}")`);
  const markers = [...written, ...targets.map((t) => productionMarker(t, deps.guardrails.productionPattern)).filter((m) => m !== undefined)];
  if (markers.length > 0) {
    throw new ProductionGuardError(`targets look like production (${[...new Set(markers)].join(', ')}); set safety.require_confirmation: true to confirm`);
  }
}

export function driverFor(spec: FaultSpec, deps: Pick<LifecycleDeps, 'drivers'>): FaultDriver {
  const driver = deps.drivers.get(spec.target.provider);
  if (!driver) {
    const known = [...deps.drivers.keys()].join(', ') || 'none';
    throw new ValidationError([{ field: 'target.provider', message: `"${spec.target.provider}" is not available in this runtime (available: ${known})` }]);
  }
  if (!driver.chaosTypes.includes(spec.chaos_type)) {
    throw new ValidationError([{ field: 'chaos_type', message: `target.provider "${driver.provider}" cannot apply ${spec.chaos_type} (it applies ${driver.chaosTypes.join(', ')})` }]);
  }
  return driver;
}

export interface InjectionPlan {
  driver: FaultDriver;
  fault: { chaos_type: FaultSpec['chaos_type']; parameters: JsonObject };
  matching: number;
  requested: number;
  allowed: number;
  capped: boolean;
  /** Matching targets passed over because other experiments hold them, with their holders. */
  held: { target: string; holder: string }[];
  /** One prepared rollback per selected target, in the order the faults will be applied. */
  steps: RollbackIntent[];
}

/** The lease key of a target: one experiment at a time may hold it. */
export const leaseKey = (target: Pick<TargetRef, 'provider' | 'id'>): string => `${target.provider}:${target.id}`;

/**
 * Everything up to the point of no return: guardrails, target resolution and selection (among targets no other
 * experiment holds than `holder`), and each target's prepared rollback. Changes nothing, so a dry run and the check
 * at submission are exactly this plan.
 */
export async function planInjection(spec: FaultSpec, deps: LifecycleDeps, signal: AbortSignal, holder?: string): Promise<InjectionPlan> {
  await checkEmergencyStop(deps);
  checkTimeoutCap(spec, deps);
  const driver = driverFor(spec, deps);
  const candidates = await driver.resolve(spec, signal);
  const leases = await deps.store.liveLeases(candidates.map(leaseKey));
  const holderOf = (target: TargetRef) => {
    const lease = leases.get(leaseKey(target));
    return lease && lease.holder !== holder ? lease.holder : undefined;
  };
  const selection = selectTargets(candidates, spec.target.selection, spec.safety.max_blast_radius, deps.random, {
    explicitField: explicitTargetField(spec),
    holderOf,
    describe: (target) => target.id,
    selector: `target ${JSON.stringify(Object.fromEntries(Object.entries(spec.target).filter(([key]) => key !== 'selection')))}`,
  });
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
    held: selection.held.map((target) => ({ target: target.id, holder: holderOf(target) ?? '' })),
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
    held_by_others: plan.held,
    rollback: plan.steps.map((step) => ({ action: step.action, target: step.target.id, params: step.params })),
  };
}
