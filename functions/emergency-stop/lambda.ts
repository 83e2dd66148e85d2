/** The Lambda entry point of `emergency-stop`: its handler, with dependencies built from the environment on the first call. */
import { builtOnFirstCall } from '../../shared/lifecycle/lambda-entry.js';
import { lambdaControl } from '../../shared/lifecycle/aws-control.js';
import { createHandler } from './handler.js';

export const handler = builtOnFirstCall(() => createHandler(lambdaControl()));
