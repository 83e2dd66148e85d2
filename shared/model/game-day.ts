/**
 * Game days: experiments run from a schedule. The deployer lists them in a file (`chaosduck:gameDaysFile`); each
 * becomes an EventBridge schedule whose target input is a `ScheduledExperimentEvent` for the `scheduled-experiment`
 * function. The name is part of the idempotency key and of the rule's construct id, hence its narrow alphabet.
 */
import * as z from 'zod';

export const GAME_DAY_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const gameDayName = z.string().regex(GAME_DAY_NAME, 'letters, digits, "-" and "_" only, at most 64, starting with a letter or digit');

/** `rate(5 minutes)` (singular unit for 1) or `cron(...)` with EventBridge's six fields. */
const RATE = /^rate\((?:1 (?:minute|hour|day)|(?:[2-9]|[1-9]\d+) (?:minutes|hours|days))\)$/;
const CRON = /^cron\(\S+(?: \S+){5}\)$/;
export const scheduleExpression = z
  .string()
  .refine((value) => RATE.test(value) || CRON.test(value), 'must be "rate(<n> <unit>)" or "cron(<six fields>)", as EventBridge takes them');

/** One entry of the game days file. The experiment is checked as a whole by `parseExperiment` at synth. */
export const gameDaySchema = z.strictObject({
  name: gameDayName,
  schedule: scheduleExpression,
  experiment: z.record(z.string(), z.unknown()),
});
export type GameDay = z.infer<typeof gameDaySchema>;
export const gameDaysSchema = z.array(gameDaySchema);

/** What a game day's rule sends the function: `scheduled_at` is the event's own time (`aws.events.event.time`). */
export const scheduledExperimentEventSchema = z.strictObject({
  game_day: gameDayName,
  experiment: z.record(z.string(), z.unknown()),
  scheduled_at: z.iso.datetime({ offset: true }),
});
export type ScheduledExperimentEvent = z.infer<typeof scheduledExperimentEventSchema>;

/**
 * One run of one game day: EventBridge delivers at least once, and every delivery of the same scheduled event
 * carries the same time, so a repeat finds the experiment the first delivery started.
 */
export const gameDayIdempotencyKey = (event: Pick<ScheduledExperimentEvent, 'game_day' | 'scheduled_at'>): string =>
  `game-day:${event.game_day}:${event.scheduled_at}`;
