import { beginInputSchema } from '../../shared/lifecycle/contract.js';
import type { LifecycleDeps } from '../../shared/lifecycle/deps.js';
import { taskHandler } from '../../shared/lifecycle/handler.js';
import { begin } from './core.js';

export const createHandler = (deps: LifecycleDeps) => taskHandler(beginInputSchema, (input, d) => begin(input, d), deps);
