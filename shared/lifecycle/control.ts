/**
 * What the API, the CLI and the emergency-stop fan-out do to experiments: submit one, ask for its rollback, raise or
 * lift the emergency stop. The same code in Lambda and in the embedded runtime; executions are started and stopped
 * through the `ExecutionRunner` port, and the emergency stop fans out through the `ControlBus` port.
 */
import { createHash, randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { isChaosToolkitSpec, type ChaosToolkitSpec, type ExperimentSpec, type FaultSpec } from '../model/experiment.js';
import { resolveConfiguration, resolveSecrets, substitutionValues } from '../ctk/configuration.js';
import { methodOf } from '../ctk/method.js';
import { inFileTerms, nativeFaults } from '../ctk/native.js';
import { chaosToolkitSpec, isChaosToolkitInput } from '../ctk/spec.js';
import { isFinal, type ExperimentRecord } from '../model/lifecycle.js';
import { parseExperiment } from '../model/parse.js';
import { log } from '../observability/log.js';
import { assertProbesAllowed } from '../probes/cmd.js';
import type { EmergencyStop } from '../store/store.js';
import type { LifecycleDeps } from './deps.js';
import type { ExecutionRunner } from './runner.js';
import { checkEmergencyStop, describePlan, planInjection, staticGuardIssues } from './guardrails.js';
import { listActive } from './recovery.js';
import type { JsonObject } from '../journal/activity.js';

/** How long planning an experiment (resolving and preparing its targets) may take: inside API Gateway's 29 s. */
const PLAN_TIMEOUT_MS = 20_000;

export interface ControlBus {
  /** Announces a raised emergency stop; its subscriber (the fan-out) stops and rolls back every running experiment. */
  emergencyStopRaised(stop: EmergencyStop): Promise<void>;
}

/** The lifecycle's deps (submissions are planned with its drivers and guardrails) and the execution runner. */
export type ControlDeps = LifecycleDeps & { runner: ExecutionRunner };

export interface Submitted {
  id: string;
  executionArn: string;
  /** True when an `Idempotency-Key` replay returned the experiment an earlier request created. */
  replayed: boolean;
}

/**
 * The experiment as the model and the guards that need no target system see it: every bad field, a probe this
 * runtime cannot run, the timeout cap, a protected namespace, production-looking names without confirmation.
 */
export function validateExperiment(input: unknown, deps: Pick<LifecycleDeps, 'runtime' | 'guardrails'>): ExperimentSpec {
  if (isChaosToolkitInput(input)) return validateChaosToolkitExperiment(input, deps);
  const spec = parseExperiment(input);
  assertProbesAllowed(spec.probes, deps.runtime);
  const issues = staticGuardIssues(spec, deps.guardrails);
  if (issues.length > 0) throw new ValidationError(issues);
  return spec;
}

/** A Chaos Toolkit experiment, checked by the file's rules and then as ChaosDuck checks its own (see `chaosToolkitSpec`). */
function validateChaosToolkitExperiment(input: unknown, deps: Pick<LifecycleDeps, 'runtime' | 'guardrails'>): ChaosToolkitSpec {
  return chaosToolkitSpec(input, {
    runtime: deps.runtime,
    env: process.env,
    maxTimeoutSeconds: deps.guardrails.maxTimeoutSeconds,
    // The timeout is the experiment's, named once at its own field.
    checkFault: (fault) => staticGuardIssues(fault, deps.guardrails).filter((issue) => issue.field !== 'safety.timeout_seconds'),
  });
}

/** The native actions of a Chaos Toolkit experiment as their faults, `${name}` resolved from this process's environment. */
function chaosToolkitFaults(spec: ChaosToolkitSpec): { where: string; fault: FaultSpec }[] {
  const configuration = resolveConfiguration(spec.experiment.configuration, process.env, spec.settings.configuration as JsonObject).values;
  const secrets = resolveSecrets(spec.experiment.secrets, process.env, spec.settings.secrets as Record<string, JsonObject>).values;
  return nativeFaults(spec, substitutionValues(configuration, secrets));
}

/** Plans one fault of an experiment; a refusal of a Chaos Toolkit native action names the activity, in the file's terms. */
function planFault(where: string, fault: FaultSpec, spec: ExperimentSpec, deps: LifecycleDeps, signal: AbortSignal) {
  if (!isChaosToolkitSpec(spec)) return planInjection(fault, deps, signal);
  return planInjection(fault, deps, signal).catch((error: unknown) => {
    throw inFileTerms(error, where, fault.name);
  });
}

/** What an experiment injects: a ChaosDuck request's one fault, a Chaos Toolkit method's native actions. */
export function faultsOf(spec: ExperimentSpec): { where: string; fault: FaultSpec }[] {
  return isChaosToolkitSpec(spec) ? chaosToolkitFaults(spec) : [{ where: '', fault: spec }];
}

export interface SubmitOptions {
  /**
   * Plan the injection before accepting (the default): what the run would refuse — no target, a blast radius that
   * allows none, targets held by other experiments, a production-looking target, a provider that cannot be reached —
   * is refused now, with nothing stored. Off only where nobody waits for the answer and the function cannot reach
   * every provider (scheduled game days); the run's INJECT applies the same guards either way.
   */
  plan?: boolean;
}

/**
 * Validates, stores and starts an experiment. Refused while the emergency stop is on. With an idempotency key, a
 * repeated request returns the experiment the first one created, and a different request under the same key is a
 * conflict.
 */
export async function submitExperiment(input: unknown, deps: ControlDeps, idempotencyKey?: string, { plan = true }: SubmitOptions = {}): Promise<Submitted> {
  const spec = validateExperiment(input, deps);
  const hash = requestHash(spec);
  // A replay tells what the first request did, emergency stop or not.
  const replay = idempotencyKey ? await replayOf(idempotencyKey, hash, deps) : undefined;
  if (replay?.submitted) return replay.submitted;
  // Planned before the key is bound: a refused request leaves the key free for the corrected one. The plan reads the
  // emergency stop first thing; without a plan, it is read here.
  if (plan) {
    const signal = AbortSignal.timeout(PLAN_TIMEOUT_MS);
    for (const { where, fault } of faultsOf(spec)) await planFault(where, fault, spec, deps, signal);
  }
  else await checkEmergencyStop(deps);
  let id = replay?.takeOver ?? `exp-${randomUUID()}`;
  if (idempotencyKey && !replay?.takeOver) {
    const binding = await deps.store.bindIdempotencyKey(idempotencyKey, id, hash);
    if (!binding.fresh) {
      // Another request with this key bound it between our look and our bind.
      const raced = await replayOf(idempotencyKey, hash, deps);
      if (raced?.submitted) return raced.submitted;
      id = binding.experimentId;
    }
  }
  const now = new Date(deps.clock()).toISOString();
  try {
    await deps.store.createExperiment({ id, spec, status: 'pending', createdAt: now, updatedAt: now });
  } catch (error) {
    // The same key's other request stored this very experiment first: it starts it; this one is its replay.
    if (!(idempotencyKey && error instanceof ConflictError)) throw error;
    const earlier = await deps.store.getExperiment(id);
    return { id, executionArn: earlier.executionArn ?? '', replayed: true };
  }
  const { executionArn } = await deps.runner.start(id, 'run', '');
  return { id, executionArn, replayed: false };
}

/**
 * What an `Idempotency-Key` already stands for: the experiment its first request created (a replay), the id a first
 * request bound but never stored (refused, or failed: this request takes it over), or nothing. The key bound to a
 * different request is a conflict.
 */
async function replayOf(key: string, hash: string, deps: ControlDeps): Promise<{ submitted?: Submitted; takeOver?: string } | undefined> {
  const binding = await deps.store.getIdempotencyBinding(key);
  if (!binding) return undefined;
  if (binding.requestHash !== hash) throw new ConflictError(`Idempotency-Key "${key}" was already used for a different experiment request`);
  const earlier = await deps.store.getExperiment(binding.experimentId).catch((error: unknown) => {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  });
  return earlier ? { submitted: { id: earlier.id, executionArn: earlier.executionArn ?? '', replayed: true } } : { takeOver: binding.experimentId };
}

/**
 * Stops an experiment's run and starts its rollback run. The rollback run claims the experiment first thing, which
 * also keeps a run that had not begun yet from beginning.
 */
export async function requestRollback(
  id: string,
  reason: string,
  deps: ControlDeps,
  known?: ExperimentRecord,
): Promise<{ executionArn: string }> {
  // A caller that has just read the record (the fan-out's listing) saves the read; a stale one is harmless, since the
  // rollback run's claim refuses an experiment that has ended.
  const record = known ?? (await deps.store.getExperiment(id));
  if (isFinal(record.status)) throw new ConflictError(`experiment ${id} has already ended as ${record.status}`);
  if (record.executionArn) await deps.runner.stop(record.executionArn, reason);
  return deps.runner.start(id, 'rollback', reason);
}

/**
 * Raises the emergency stop. Raised again while it is on, it keeps its first `since` and `reason`, and still fans
 * out: an experiment that slipped past the first fan-out (submitted as the stop was raised) is caught now.
 */
export async function raiseEmergencyStop(reason: string, deps: ControlDeps & { control: ControlBus }): Promise<EmergencyStop> {
  const stop = await deps.store.setEmergencyStop(true, reason);
  await deps.control.emergencyStopRaised(stop);
  return stop;
}

export async function liftEmergencyStop(deps: Pick<ControlDeps, 'store'>): Promise<EmergencyStop> {
  return deps.store.setEmergencyStop(false);
}

/**
 * The fan-out: every pending or running experiment is stopped and rolled back, a bounded number at a time. What it
 * does to each experiment is a log line carrying its `experiment_id` (and `execution`, the rollback run's), so the
 * lines of one experiment, queried by its id, tell that the emergency stop took it over.
 */
export async function fanOutEmergencyStop(deps: ControlDeps, concurrency = 64): Promise<{ rolledBack: string[]; unreadable: string[] }> {
  const { records: active, corrupt } = await listActive(deps.store);
  for (const error of corrupt) log.error(`emergency stop: ${error.message}`, { key: error.key });
  const rolledBack: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < active.length) {
      const record = active[next++] as ExperimentRecord;
      const keys = { experiment_id: record.id };
      // Already in a rollback run that is still going (an earlier fan-out's, or a manual one): stopping it to start
      // another would only cut a revert short. A rollback run that is gone is replaced like any run.
      if (record.phase === 'ROLLBACK' && record.executionArn && (await deps.runner.isRunning(record.executionArn))) {
        log.info(`emergency stop: ${record.id} is already rolling back (${record.executionArn})`, { ...keys, execution: record.executionArn });
        continue;
      }
      try {
        const { executionArn } = await requestRollback(record.id, 'emergency_stop', deps, record);
        rolledBack.push(record.id);
        log.info(`emergency stop: rolling back ${record.id} (${executionArn})`, { ...keys, execution: executionArn, stopped_execution: record.executionArn });
      } catch (error) {
        // One that ended or was handed to a rollback meanwhile needs nothing more.
        if (error instanceof ConflictError) {
          log.info(`emergency stop: ${record.id} needs no rollback: ${error.message}`, keys);
          continue;
        }
        log.error(`emergency stop: could not roll back ${record.id}`, { ...keys, error });
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, active.length) }, worker));
  return { rolledBack, unreadable: corrupt.map((error) => error.key) };
}

/**
 * The plan (targets, fault, rollback) after every guardrail, with nothing stored, leased or injected: the plan a run
 * would make now (its targets picked among those no other experiment holds).
 */
export async function dryRun(input: unknown, deps: LifecycleDeps): Promise<JsonObject> {
  const spec = validateExperiment(input, deps);
  const signal = AbortSignal.timeout(PLAN_TIMEOUT_MS);
  if (!isChaosToolkitSpec(spec)) return { dry_run: true, experiment: spec.name, ...describePlan(await planInjection(spec, deps, signal)) };
  // A method: its activities in order, and the plan of each fault it applies, checked now as the run will check it.
  const plans: JsonObject = {};
  for (const { where, fault } of faultsOf(spec)) plans[where] = describePlan(await planFault(where, fault, spec, deps, signal));
  const { method, rollbacks } = methodOf(spec.experiment);
  return {
    dry_run: true,
    experiment: spec.name,
    format: 'chaostoolkit',
    method: method.map((activity, index) => ({ index, type: activity.type, name: activity.name, provider: String(activity.provider.type), plan: plans[`method[${index}]`] ?? null })),
    rollbacks: rollbacks.map((activity) => activity.name),
    safety: spec.safety,
  };
}

/** Same experiment request ⇒ same hash, whatever the key order or the defaults left out. */
function requestHash(spec: ExperimentSpec): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, canonical(v)]))
        : value;
  return createHash('sha256').update(JSON.stringify(canonical(spec))).digest('hex');
}
