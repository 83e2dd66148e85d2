/**
 * Every task handler is the same thin middy chain around a core: parse the input with zod (Powertools parser),
 * turn a parse failure into our named ValidationError, and hand the core its dependencies and middy's abort signal
 * (fired shortly before the Lambda timeout).
 */
import middy from '@middy/core';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { ValidationError, fieldIssues } from '../errors.js';
import type { LifecycleDeps } from './deps.js';

export type TaskCore<I, O> = (input: I, deps: LifecycleDeps, signal: AbortSignal) => Promise<O>;
export type TaskHandler<O> = (event: unknown, context: Context) => Promise<O>;

const namedParseErrors: middy.MiddlewareObj = {
  onError: async (request) => {
    if (request.error?.name !== 'ParseError') return;
    // Powertools puts the zod issues themselves in `cause` (a ZodError in some versions).
    const cause = request.error.cause;
    const issues = cause instanceof z.ZodError ? cause.issues : Array.isArray(cause) ? (cause as z.core.$ZodIssue[]) : undefined;
    if (issues) request.error = new ValidationError(fieldIssues(issues), 'task input');
  },
};

export function taskHandler<S extends z.ZodType, O>(schema: S, core: TaskCore<z.infer<S>, O>, deps: LifecycleDeps): TaskHandler<O> {
  return middy<z.infer<S>, O>({ timeoutEarlyInMillis: 2000 })
    .use(namedParseErrors)
    .use(parser({ schema }))
    .handler((event, _context, { signal }) => core(event, deps, signal)) as unknown as TaskHandler<O>;
}
