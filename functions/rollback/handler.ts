import { rollbackInputSchema } from '../../shared/lifecycle/contract.js';
import type { LifecycleDeps } from '../../shared/lifecycle/deps.js';
import { taskHandler } from '../../shared/lifecycle/handler.js';
import { rollbackSteps } from './core.js';

export const createHandler = (deps: LifecycleDeps) => taskHandler(rollbackInputSchema, (input, d, signal) => rollbackSteps(input, d, signal), deps);
