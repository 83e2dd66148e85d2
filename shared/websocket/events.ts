/**
 * What the WebSocket functions are invoked with: API Gateway WebSocket route events ($connect, $disconnect and the
 * message routes), and progress events for the broadcast — one EventBridge event, or a batch of them from an SQS
 * FIFO queue (EventBridge invokes Lambda asynchronously, with no order; a FIFO queue grouped by experiment id keeps
 * each experiment's events in order). Only the fields the functions read are checked.
 */
import * as z from 'zod';
import { ValidationError, fieldIssues } from '../errors.js';

/** The `source` of the lifecycle's progress events on the bus. */
export const PROGRESS_SOURCE = 'chaosduck.lifecycle';

export const routeEventSchema = z.object({
  requestContext: z.object({
    connectionId: z.string().min(1),
    routeKey: z.string().min(1),
  }),
  queryStringParameters: z.record(z.string(), z.string()).nullish(),
  body: z.string().nullish(),
  isBase64Encoded: z.boolean().optional(),
});
export type RouteEvent = z.infer<typeof routeEventSchema>;

/** What a route's integration answers; a non-2xx answer to $connect refuses the connection. */
export interface RouteResponse {
  statusCode: number;
  body?: string;
}

/**
 * A JournalEvent as the broadcast sees it: routed by its experiment and forwarded whole, so fields it does not read
 * (`detail`, `phase`, any added later) pass through unchecked and unchanged.
 */
export interface ProgressEvent {
  experimentId: string;
  type: string;
  at: string;
}

const progressEventSchema = z.looseObject({
  experimentId: z.string().min(1),
  type: z.string().min(1),
  at: z.string().min(1),
});

const eventBridgeEventSchema = z.object({
  source: z.string(),
  'detail-type': z.string(),
  detail: progressEventSchema,
});

const jsonText = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not valid JSON' });
    return z.NEVER;
  }
});

const sqsBatchSchema = z.object({
  Records: z.array(z.object({ messageId: z.string().min(1), body: jsonText.pipe(eventBridgeEventSchema) })),
});

/** One progress event of an SQS batch, with the id of the message it came in (what a partial batch failure names). */
export interface QueuedProgressEvent {
  messageId: string;
  event: ProgressEvent;
}

/**
 * What a broadcast invocation carries, in the order the events were published: one EventBridge event, or an SQS FIFO
 * batch whose records keep their message ids so the handler can report the ones it did not deliver.
 */
export type BroadcastInput = { kind: 'event'; event: ProgressEvent } | { kind: 'batch'; records: QueuedProgressEvent[] };

export function parseBroadcastInput(input: unknown): BroadcastInput {
  if (typeof input === 'object' && input !== null && 'Records' in input) {
    const result = sqsBatchSchema.safeParse(input);
    if (!result.success) throw new ValidationError(fieldIssues(result.error.issues), 'broadcast input');
    return { kind: 'batch', records: result.data.Records.map(({ messageId, body }) => ({ messageId, event: body.detail })) };
  }
  const result = eventBridgeEventSchema.safeParse(input);
  if (!result.success) throw new ValidationError(fieldIssues(result.error.issues), 'broadcast input');
  return { kind: 'event', event: result.data.detail };
}
