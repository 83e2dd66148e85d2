import { injectInputSchema } from '../../shared/lifecycle/contract.js';
import type { LifecycleDeps } from '../../shared/lifecycle/deps.js';
import { taskHandler } from '../../shared/lifecycle/handler.js';
import { inject } from './core.js';

export const createHandler = (deps: LifecycleDeps) => taskHandler(injectInputSchema, inject, deps);
