/**
 * A game day's scheduled run: validate the rule's input and submit its experiment under an idempotency key made of
 * the game day and the scheduled time, so a repeated delivery never starts the game day twice. While the emergency
 * stop is on the run is skipped, not failed: a failure would only be retried (and then dead-lettered) against a stop
 * that a person has to lift, and the next scheduled run is the retry that makes sense.
 */
import { EmergencyStopActiveError, ValidationError, fieldIssues } from '../../shared/errors.js';
import { submitExperiment, type ControlDeps } from '../../shared/lifecycle/control.js';
import { gameDayIdempotencyKey, scheduledExperimentEventSchema } from '../../shared/model/game-day.js';
import { log } from '../../shared/observability/log.js';

export type ScheduledRunResult = { id: string; executionArn: string; replayed: boolean } | { skipped: 'emergency_stop' };

export async function runScheduledExperiment(event: unknown, deps: ControlDeps): Promise<ScheduledRunResult> {
  const parsed = scheduledExperimentEventSchema.safeParse(event);
  if (!parsed.success) throw new ValidationError(fieldIssues(parsed.error.issues), 'scheduled game day');
  const { game_day: gameDay, scheduled_at: scheduledAt, experiment } = parsed.data;
  try {
    // Not planned at submission: nobody waits for this answer, and this function carries no Kubernetes client; the
    // run's INJECT applies every guard.
    const { id, executionArn, replayed } = await submitExperiment(experiment, deps, gameDayIdempotencyKey(parsed.data), { plan: false });
    return { id, executionArn, replayed };
  } catch (error) {
    if (!(error instanceof EmergencyStopActiveError)) throw error;
    log.warn('game day skipped: the emergency stop is on', { reason: 'emergency_stop', game_day: gameDay, scheduled_at: scheduledAt, detail: error.message });
    return { skipped: 'emergency_stop' };
  }
}
