/**
 * The WebSocket functions' handlers: the same thin middy chain as the lifecycle's task handlers — parse the event with
 * zod, failing with a named ValidationError — around a core that takes its dependencies as arguments.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from 'zod';
import { ValidationError, fieldIssues } from '../errors.js';
import type { ConnectionStore } from './connections.js';
import type { ConnectionSender } from './sender.js';

export interface WebSocketDeps {
  connections: ConnectionStore;
  sender: ConnectionSender;
}

export type LambdaHandler<O> = (event: unknown, context: Context) => Promise<O>;

export function parseWith<S extends z.ZodType>(schema: S, what: string): (input: unknown) => z.output<S> {
  return (input) => {
    const result = schema.safeParse(input);
    if (!result.success) throw new ValidationError(fieldIssues(result.error.issues), what);
    return result.data;
  };
}

export function webSocketHandler<I, O, D>(parse: (event: unknown) => I, core: (input: I, deps: D) => Promise<O>, deps: D): LambdaHandler<O> {
  const parseEvent: middy.MiddlewareObj<I, O> = {
    before: (request) => {
      request.event = parse(request.event);
    },
  };
  return middy<I, O>()
    .use(parseEvent)
    .handler((event) => core(event, deps)) as unknown as LambdaHandler<O>;
}
