/** The Lambda entry point of `begin`: its handler, with dependencies built from the environment on the first call. */
import { lambdaHandler } from '../../shared/lifecycle/lambda-deps.js';
import { createHandler } from './handler.js';

export const handler = lambdaHandler('BEGIN', createHandler);
