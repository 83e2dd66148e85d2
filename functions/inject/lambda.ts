/** The Lambda entry point of `inject`: its handler, with dependencies built from the environment on the first call. */
import { lambdaKubernetesHandler } from '../../shared/lifecycle/lambda-kubernetes.js';
import { createHandler } from './handler.js';

export const handler = lambdaKubernetesHandler('INJECT', createHandler);
