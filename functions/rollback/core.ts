/**
 * ROLLBACK: pops the experiment's rollback stack newest first. Each entry is reverted by its driver (idempotent),
 * recorded with its outcome, and settled with a conditional write; a failing step is recorded and the next one runs.
 * One invocation works through entries until its time budget is spent, then lets the state machine call it again,
 * so a large stack never outlives a Lambda timeout.
 */
import { ConflictError } from '../../shared/errors.js';
import type { RollbackInput, RunOutcome } from '../../shared/lifecycle/contract.js';
import { event } from '../../shared/lifecycle/events.js';
import { explicitRollbackStrategy } from '../../shared/ctk/method.js';
import { activityEnvironment, declaredRollbackDriver } from '../../shared/ctk/run.js';
import { declaredRollbackIntents, declaredRollbacksPlay, DECLARED_ROLLBACK } from '../../shared/ctk/outcome.js';
import type { FaultDriver } from '../../shared/faults/driver.js';
import { isChaosToolkitSpec, type ChaosToolkitSpec } from '../../shared/model/experiment.js';
import { emit, type LifecycleDeps } from '../../shared/lifecycle/deps.js';
import { revertEntry } from '../../shared/lifecycle/revert.js';
import type { JournalEvent, RollbackEntry } from '../../shared/model/lifecycle.js';

const DEFAULT_BUDGET_MS = 60_000;

export interface RollbackOutput {
  remaining: boolean;
  done: number[];
  failed: number[];
}

export async function rollbackSteps(
  { experiment, outcome }: RollbackInput,
  deps: LifecycleDeps,
  signal: AbortSignal,
  budgetMs = DEFAULT_BUDGET_MS,
): Promise<RollbackOutput> {
  const { id, spec } = experiment;
  const started = deps.clock();
  let stack = await deps.store.listRollback(id);
  const events: JournalEvent[] = [];
  if (isChaosToolkitSpec(spec)) {
    const env = activityEnvironment(spec, deps, signal, started + experiment.rollbackTimeoutSeconds * 1000);
    deps = { ...deps, drivers: new Map([...deps.drivers, [DECLARED_ROLLBACK, declaredRollbackDriver(spec, env) as FaultDriver]]) };
    stack = await applyRollbackStrategy(id, spec, outcome ?? { mode: experiment.mode, reason: '' }, stack, deps, events);
  }
  if (!stack.some((entry) => entry.state === 'pending')) return finish(deps, events, stack, false);
  // The record shows the phase the run is in (a rollback run's Begin has marked it already); a run that has just
  // ended keeps its final status and phase.
  if (experiment.mode === 'run') {
    await deps.store.updateExperiment(id, { phase: 'ROLLBACK' }).catch((error: unknown) => {
      if (!(error instanceof ConflictError)) throw error;
    });
  }

  for (const entry of stack) {
    if (entry.state !== 'pending') continue;
    if (deps.clock() - started > budgetMs || signal.aborted) return finish(deps, events, stack, true);
    const reverted = await revertEntry(id, entry, deps, signal);
    if (reverted.event) {
      entry.state = reverted.state;
      entry.outcome = reverted.outcome;
      events.push(reverted.event);
    }
  }
  return finish(deps, events, stack, false);
}

/**
 * Declared Chaos Toolkit rollbacks: those the strategy does not play are settled as skipped; those it plays although
 * the method never wrote them (a missed baseline under an explicit strategy, a crash between two writes) are pushed
 * now. Idempotent, as this step may run several times.
 */
async function applyRollbackStrategy(
  id: string,
  spec: ChaosToolkitSpec,
  outcome: RunOutcome,
  stack: RollbackEntry[],
  deps: LifecycleDeps,
  events: JournalEvent[],
): Promise<RollbackEntry[]> {
  const declared = stack.filter((entry) => entry.provider === DECLARED_ROLLBACK);
  const play = declaredRollbacksPlay(spec, outcome, declared.length > 0);
  if (play) {
    // All of them, or the ones a crash kept INJECT from writing (they were written one by one).
    const present = new Set(declared.map((entry) => Number(entry.params.index)));
    const missing = declaredRollbackIntents(spec).filter((intent) => !present.has(Number(intent.params.index)));
    if (missing.length === 0) return stack;
    const first = await deps.store.reserveRollbackSeqs(id, missing.length);
    for (const [i, intent] of missing.entries()) await deps.store.pushRollback(id, first + i, intent);
    return deps.store.listRollback(id);
  }
  if (!play) {
    for (const entry of declared) {
      if (entry.state !== 'pending') continue;
      if (await deps.store.settleRollback(id, entry.seq, 'skipped')) {
        entry.state = 'skipped';
        const strategy = explicitRollbackStrategy(spec) ?? 'ChaosDuck default';
        events.push(event(id, 'rollback.step', 'ROLLBACK', { seq: entry.seq, action: entry.action, target: entry.target.id, state: 'skipped', strategy }, deps.clock()));
      }
    }
  }
  return stack;
}

async function finish(deps: LifecycleDeps, events: JournalEvent[], stack: RollbackEntry[], remaining: boolean): Promise<RollbackOutput> {
  await emit(deps, events);
  return summarize(stack, remaining);
}

function summarize(stack: RollbackEntry[], remaining: boolean): RollbackOutput {
  return {
    remaining,
    done: stack.filter((e) => e.state === 'done').map((e) => e.seq),
    failed: stack.filter((e) => e.state === 'failed').map((e) => e.seq),
  };
}
