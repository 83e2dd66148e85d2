/**
 * What a client sends on its connection and what it gets back besides progress events. Progress events are
 * JournalEvents, whose `type` is dotted (`phase.started`); the gateway's own replies use plain types
 * (`subscribed`, `unsubscribed`, `error`), so a client tells them apart by `type`.
 */
import * as z from 'zod';
import { ChaosDuckError, ValidationError, type FieldIssue } from '../errors.js';
import { ALL_EXPERIMENTS } from './connections.js';

/** The message routes (API Gateway selects them with `$request.body.action`); anything else goes to `$default`. */
export const MESSAGE_ACTIONS = ['subscribe', 'unsubscribe'] as const;

/** An experiment id — it becomes part of a key, so its characters are restricted — or `*` for every experiment. */
export const topicSchema = z
  .string()
  .regex(/^(\*|[\w.:-]{1,128})$/, `must be an experiment id (up to 128 letters, digits, _ . : -) or ${ALL_EXPERIMENTS} for all`);

export const clientMessageSchema = z.strictObject({
  action: z.enum(MESSAGE_ACTIONS),
  experimentId: topicSchema,
});
export type ClientMessage = z.infer<typeof clientMessageSchema>;

/** The $connect query: `experimentId` subscribes the new connection; other parameters (a token, say) are not ours. */
export const connectQuerySchema = z.object({ experimentId: topicSchema.optional() });

export type ServerMessage =
  | { type: 'subscribed' | 'unsubscribed'; experimentId: string; subscriptions: string[] }
  | { type: 'error'; error: string; message: string; issues?: FieldIssue[] };

/** An error as the client sees it: named and explained when it is the client's to fix, generic otherwise. */
export function errorMessageFor(error: unknown): ServerMessage {
  if (!(error instanceof ChaosDuckError) || error.status >= 500) return { type: 'error', error: 'InternalError', message: 'Internal server error' };
  return {
    type: 'error',
    error: error.name,
    message: error.message,
    ...(error instanceof ValidationError ? { issues: error.issues } : {}),
  };
}
