/**
 * Reverting one rollback entry: the driver's idempotent revert, recorded as an activity, then settled with a
 * conditional write so that an entry finished twice (by a rollback run and a recovery sweep, say) is journaled once.
 */
import { ProviderUnavailableError } from '../errors.js';
import { asJson, recordActivity, type ActivityRecord } from '../journal/activity.js';
import type { JournalEvent, RollbackEntry, RollbackState } from '../model/lifecycle.js';
import type { LifecycleDeps } from './deps.js';
import { event } from './events.js';

export interface Reverted {
  state: Exclude<RollbackState, 'pending'>;
  outcome: ActivityRecord;
  /** The journal event, when this runner settled the entry (undefined when another one had already). */
  event?: JournalEvent;
}

export async function revertEntry(experimentId: string, entry: RollbackEntry, deps: LifecycleDeps, signal: AbortSignal): Promise<Reverted> {
  const outcome = await recordActivity(
    {
      type: 'action',
      name: `rollback ${entry.action} ${entry.target.id}`,
      provider: { type: entry.provider, action: entry.action, target: entry.target.id, seq: entry.seq },
    },
    async () => {
      const driver = deps.drivers.get(entry.provider);
      if (!driver) throw new ProviderUnavailableError(`provider "${entry.provider}" is not available in this runtime`);
      return { output: await driver.revert(entry, { experimentId, rollbackSeq: entry.seq, signal }) };
    },
    deps.clock,
  );
  const state = outcome.status === 'succeeded' ? 'done' : 'failed';
  const settled = await deps.store.settleRollback(experimentId, entry.seq, state, outcome);
  const detail = { seq: entry.seq, action: entry.action, target: entry.target.id, state, record: asJson(outcome) };
  return { state, outcome, ...(settled ? { event: event(experimentId, 'rollback.step', 'ROLLBACK', detail, deps.clock()) } : {}) };
}
