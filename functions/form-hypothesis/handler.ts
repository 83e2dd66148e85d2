import { phaseInputSchema } from '../../shared/lifecycle/contract.js';
import type { LifecycleDeps } from '../../shared/lifecycle/deps.js';
import { taskHandler } from '../../shared/lifecycle/handler.js';
import { formHypothesis } from './core.js';

export const createHandler = (deps: LifecycleDeps) => taskHandler(phaseInputSchema, (input, d) => formHypothesis(input, d), deps);
