import { phaseInputSchema } from '../../shared/lifecycle/contract.js';
import type { LifecycleDeps } from '../../shared/lifecycle/deps.js';
import { taskHandler } from '../../shared/lifecycle/handler.js';
import { runSteadyState } from './core.js';

export const createHandler = (deps: LifecycleDeps) => taskHandler(phaseInputSchema, runSteadyState, deps);
