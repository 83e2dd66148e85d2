/**
 * The task handlers, by the name their Lambda function and ASL substitution use (`${BeginFunctionArn}` → `begin`).
 * The local runtime binds each ASL Task to the handler its Resource names; CDK builds one function per entry.
 */
import type { LifecycleDeps } from '../shared/lifecycle/deps.js';
import type { TaskHandler } from '../shared/lifecycle/handler.js';
import * as begin from './begin/handler.js';
import * as finish from './finish/handler.js';
import * as formHypothesis from './form-hypothesis/handler.js';
import * as inject from './inject/handler.js';
import * as observe from './observe/handler.js';
import * as rollback from './rollback/handler.js';
import * as runProbes from './run-probes/handler.js';

const FACTORIES = {
  begin: begin.createHandler,
  'run-probes': runProbes.createHandler,
  'form-hypothesis': formHypothesis.createHandler,
  inject: inject.createHandler,
  observe: observe.createHandler,
  rollback: rollback.createHandler,
  finish: finish.createHandler,
} satisfies Record<string, (deps: LifecycleDeps) => TaskHandler<unknown>>;

export type FunctionName = keyof typeof FACTORIES;
export const FUNCTION_NAMES = Object.keys(FACTORIES) as FunctionName[];

export function createHandlers(deps: LifecycleDeps): Record<FunctionName, TaskHandler<unknown>> {
  return Object.fromEntries(FUNCTION_NAMES.map((name) => [name, FACTORIES[name](deps)])) as Record<FunctionName, TaskHandler<unknown>>;
}
