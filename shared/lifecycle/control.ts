/**
 * What the API, the CLI and the emergency-stop fan-out do to experiments: submit one, ask for its rollback, raise or
 * lift the emergency stop. The same code in Lambda and in the embedded runtime; executions are started and stopped
 * through the `ExecutionRunner` port, and the emergency stop fans out through the `ControlBus` port.
 */
import { createHash, randomUUID } from 'node:crypto';
import { ConflictError, EmergencyStopActiveError, NotFoundError } from '../errors.js';
import type { ExperimentSpec } from '../model/experiment.js';
import { isFinal, type ExperimentRecord } from '../model/lifecycle.js';
import { parseExperiment } from '../model/parse.js';
import { assertProbesAllowed } from '../probes/cmd.js';
import type { EmergencyStop } from '../store/store.js';
import type { LifecycleDeps } from './deps.js';
import type { ExecutionRunner } from './runner.js';
import { describePlan, planInjection } from './guardrails.js';
import type { JsonObject } from '../journal/activity.js';

export interface ControlBus {
  /** Announces a raised emergency stop; its subscriber (the fan-out) stops and rolls back every running experiment. */
  emergencyStopRaised(stop: EmergencyStop): Promise<void>;
}

export type ControlDeps = Pick<LifecycleDeps, 'store' | 'runtime' | 'clock'> & { runner: ExecutionRunner };

export interface Submitted {
  id: string;
  executionArn: string;
  /** True when an `Idempotency-Key` replay returned the experiment an earlier request created. */
  replayed: boolean;
}

export function validateExperiment(input: unknown, runtime: LifecycleDeps['runtime']): ExperimentSpec {
  const spec = parseExperiment(input);
  assertProbesAllowed(spec.probes, runtime);
  return spec;
}

/**
 * Validates, stores and starts an experiment. Refused while the emergency stop is on. With an idempotency key, a
 * repeated request returns the experiment the first one created, and a different request under the same key is a
 * conflict.
 */
export async function submitExperiment(input: unknown, deps: ControlDeps, idempotencyKey?: string): Promise<Submitted> {
  const spec = validateExperiment(input, deps.runtime);
  const stop = await deps.store.getEmergencyStop();
  if (stop.active) throw new EmergencyStopActiveError(`emergency stop is active since ${stop.since}; no experiment can start`);
  let id = `exp-${randomUUID()}`;
  if (idempotencyKey) {
    const binding = await deps.store.bindIdempotencyKey(idempotencyKey, id, requestHash(spec));
    if (!binding.fresh) {
      if (binding.requestHash !== requestHash(spec)) {
        throw new ConflictError(`Idempotency-Key "${idempotencyKey}" was already used for a different experiment request`);
      }
      const earlier = await deps.store.getExperiment(binding.experimentId).catch((error: unknown) => {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      });
      if (earlier) return { id: earlier.id, executionArn: earlier.executionArn ?? '', replayed: true };
      // The earlier request bound the key and then failed before storing its experiment: finish its work.
      id = binding.experimentId;
    }
  }
  const now = new Date(deps.clock()).toISOString();
  await deps.store.createExperiment({ id, spec, status: 'pending', createdAt: now, updatedAt: now });
  const { executionArn } = await deps.runner.start(id, 'run', '');
  return { id, executionArn, replayed: false };
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

export async function raiseEmergencyStop(reason: string, deps: ControlDeps & { control: ControlBus }): Promise<EmergencyStop> {
  const stop = await deps.store.setEmergencyStop(true, reason);
  await deps.control.emergencyStopRaised(stop);
  return stop;
}

export async function liftEmergencyStop(deps: Pick<ControlDeps, 'store'>): Promise<EmergencyStop> {
  return deps.store.setEmergencyStop(false);
}

/** The fan-out: every pending or running experiment is stopped and rolled back, a bounded number at a time. */
export async function fanOutEmergencyStop(deps: ControlDeps, concurrency = 64): Promise<{ rolledBack: string[] }> {
  const active: ExperimentRecord[] = [];
  for (const status of ['running', 'pending'] as const) {
    let cursor: string | undefined;
    do {
      const page = await deps.store.listByStatus(status, 100, cursor);
      active.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
  }
  const rolledBack: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < active.length) {
      const record = active[next++] as ExperimentRecord;
      try {
        await requestRollback(record.id, 'emergency_stop', deps, record);
        rolledBack.push(record.id);
      } catch (error) {
        // One that ended or was handed to a rollback meanwhile needs nothing more.
        if (!(error instanceof ConflictError)) throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, active.length) }, worker));
  return { rolledBack };
}

/** The plan (targets, fault, rollback) after every guardrail, with nothing stored, leased or injected. */
export async function dryRun(input: unknown, deps: LifecycleDeps): Promise<JsonObject> {
  const spec = validateExperiment(input, deps.runtime);
  const plan = await planInjection(spec, deps, AbortSignal.timeout(30_000));
  const held = [];
  for (const step of plan.steps) {
    const lease = await deps.store.getLease(`${step.target.provider}:${step.target.id}`);
    if (lease && lease.expiresAt > deps.clock()) held.push({ target: step.target.id, holder: lease.holder });
  }
  return { dry_run: true, experiment: spec.name, ...describePlan(plan), leased_by_others: held };
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
