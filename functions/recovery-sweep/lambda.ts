/** The Lambda entry point of `recovery-sweep`: its handler, with dependencies built from the environment on the first call. */
import { lambdaControl } from '../../shared/lifecycle/aws-control.js';
import { builtOnFirstCall } from '../../shared/lifecycle/lambda-entry.js';
import { createHandler } from './handler.js';

export const handler = builtOnFirstCall(() => createHandler(lambdaControl()));
