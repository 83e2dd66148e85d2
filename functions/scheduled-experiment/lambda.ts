/** The Lambda entry point of `scheduled-experiment`: its handler, with dependencies built from the environment on the first call. */
import { builtOnFirstCall } from '../../shared/lifecycle/lambda-entry.js';
import { lambdaControl } from '../../shared/lifecycle/aws-control.js';
import { observed, stringAt } from '../../shared/observability/lambda.js';
import { createHandler } from './handler.js';

/** Its log lines carry the game day and the scheduled time of the run (the schedule's input). */
export const handler = observed(
  builtOnFirstCall(() => createHandler(lambdaControl())),
  (event: unknown) => ({ game_day: stringAt(event, 'game_day'), scheduled_at: stringAt(event, 'scheduled_at') }),
);
