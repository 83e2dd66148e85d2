import { finishInputSchema } from '../../shared/lifecycle/contract.js';
import type { LifecycleDeps } from '../../shared/lifecycle/deps.js';
import { taskHandler } from '../../shared/lifecycle/handler.js';
import { finish } from './core.js';

export const createHandler = (deps: LifecycleDeps) => taskHandler(finishInputSchema, (input, d) => finish(input, d), deps);
