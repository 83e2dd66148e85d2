import { beginInputSchema } from '../../shared/lifecycle/contract.js';
import type { LifecycleDeps } from '../../shared/lifecycle/deps.js';
import { taskHandler } from '../../shared/lifecycle/handler.js';
import { lambdaHandler } from '../../shared/lifecycle/lambda-deps.js';
import { begin } from './core.js';

export const createHandler = (deps: LifecycleDeps) => taskHandler(beginInputSchema, (input, d) => begin(input, d), deps);
export const handler = lambdaHandler(createHandler);
