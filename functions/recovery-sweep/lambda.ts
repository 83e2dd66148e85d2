/** The Lambda entry point of `recovery-sweep`: its handler, with dependencies built from the environment on the first call. */
import { lambdaControl } from '../../shared/lifecycle/aws-control.js';
import { builtOnFirstCall } from '../../shared/lifecycle/lambda-entry.js';
import { observed, stringAt } from '../../shared/observability/lambda.js';
import { createHandler } from './handler.js';

/** Its log lines carry the id of the scheduled EventBridge event that started the sweep. */
export const handler = observed(
  builtOnFirstCall(() => createHandler(lambdaControl())),
  (event: unknown) => ({ event_id: stringAt(event, 'id') }),
);
