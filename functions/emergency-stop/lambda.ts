/** The Lambda entry point of `emergency-stop`: its handler, with dependencies built from the environment on the first call. */
import { builtOnFirstCall } from '../../shared/lifecycle/lambda-entry.js';
import { lambdaControl } from '../../shared/lifecycle/aws-control.js';
import { observed, stringAt } from '../../shared/observability/lambda.js';
import { createHandler } from './handler.js';

/** Its log lines carry the id of the EventBridge event that raised the stop. */
export const handler = observed(
  builtOnFirstCall(() => createHandler(lambdaControl())),
  (event: unknown) => ({ event_id: stringAt(event, 'id') }),
);
