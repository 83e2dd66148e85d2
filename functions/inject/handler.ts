import { injectInputSchema } from '../../shared/lifecycle/contract.js';
import type { LifecycleDeps } from '../../shared/lifecycle/deps.js';
import { taskHandler } from '../../shared/lifecycle/handler.js';
import { lambdaKubernetesHandler } from '../../shared/lifecycle/lambda-kubernetes.js';
import { inject } from './core.js';

export const createHandler = (deps: LifecycleDeps) => taskHandler(injectInputSchema, inject, deps);
export const handler = lambdaKubernetesHandler(createHandler);
