/**
 * ROLLBACK: pops the experiment's rollback stack newest first. Each entry is reverted by its driver (idempotent),
 * recorded with its outcome, and settled with a conditional write; a failing step is recorded and the next one runs.
 * One invocation works through entries until its time budget is spent, then lets the state machine call it again,
 * so a large stack never outlives a Lambda timeout.
 */
import { ConflictError } from '../../shared/errors.js';
import type { PhaseInput } from '../../shared/lifecycle/contract.js';
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
  { experiment }: PhaseInput,
  deps: LifecycleDeps,
  signal: AbortSignal,
  budgetMs = DEFAULT_BUDGET_MS,
): Promise<RollbackOutput> {
  const { id } = experiment;
  const started = deps.clock();
  const stack = await deps.store.listRollback(id);
  if (!stack.some((entry) => entry.state === 'pending')) return summarize(stack, false);
  // The record shows the phase the run is in (a rollback run's Begin has marked it already); a run that has just
  // ended keeps its final status and phase.
  if (experiment.mode === 'run') {
    await deps.store.updateExperiment(id, { phase: 'ROLLBACK' }).catch((error: unknown) => {
      if (!(error instanceof ConflictError)) throw error;
    });
  }

  const events: JournalEvent[] = [];
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
