/**
 * Delivers progress events to the connections subscribed to their experiment (or to all), one event after another so
 * a connection receives them in the order given. Each event goes to its subscribers independently: one connection
 * failing does not keep the event from the others, and a connection found gone is deleted. Per-connection failures are
 * logged and counted, not thrown — a retried invocation would send the event again to everyone who already has it.
 *
 * From the SQS FIFO queue, records come in publication order per experiment (message group). If an event cannot be
 * broadcast at all (its subscribers cannot be read), that record and every one after it are reported as batch item
 * failures and the rest of the batch is left alone: the records before it are not sent again, and nothing of a group
 * is delivered past an event that was not.
 */
import type { SQSBatchResponse } from 'aws-lambda';
import { errorMessage } from '../../shared/errors.js';
import { log } from '../../shared/observability/log.js';
import type { BroadcastInput, ProgressEvent, QueuedProgressEvent } from '../../shared/websocket/events.js';
import type { WebSocketDeps } from '../../shared/websocket/handler.js';

export interface BroadcastResult {
  sent: number;
  gone: number;
  failed: number;
}

export async function broadcast(events: readonly ProgressEvent[], deps: WebSocketDeps): Promise<BroadcastResult> {
  const result: BroadcastResult = { sent: 0, gone: 0, failed: 0 };
  for (const event of events) {
    const data = JSON.stringify(event);
    const subscribers = await deps.connections.subscribers(event.experimentId);
    const outcomes = await Promise.all(
      subscribers.map(async ({ connectionId, topics }) => {
        try {
          const outcome = await deps.sender.post(connectionId, data);
          if (outcome === 'gone') await deps.connections.delete(connectionId, topics);
          return outcome;
        } catch (error) {
          log.error(`progress event ${event.type} of ${event.experimentId} not delivered to connection ${connectionId}: ${errorMessage(error)}`, {
            experiment_id: event.experimentId,
            connection_id: connectionId,
          });
          return 'failed' as const;
        }
      }),
    );
    for (const outcome of outcomes) result[outcome]++;
  }
  return result;
}

/** An SQS FIFO batch, in record order; answers with the records to retry (the SQS partial batch response). */
export async function broadcastBatch(records: readonly QueuedProgressEvent[], deps: WebSocketDeps): Promise<SQSBatchResponse> {
  for (const [index, { messageId, event }] of records.entries()) {
    try {
      await broadcast([event], deps);
    } catch (error) {
      log.error(`progress event ${event.type} of ${event.experimentId} (message ${messageId}) not broadcast, retrying it and the ${records.length - index - 1} after it: ${errorMessage(error)}`, {
        experiment_id: event.experimentId,
        message_id: messageId,
      });
      return { batchItemFailures: records.slice(index).map((record) => ({ itemIdentifier: record.messageId })) };
    }
  }
  return { batchItemFailures: [] };
}

/** The handler's core: one EventBridge event (a failure throws), or an SQS batch (failures are reported per record). */
export function broadcastInput(input: BroadcastInput, deps: WebSocketDeps): Promise<BroadcastResult | SQSBatchResponse> {
  return input.kind === 'batch' ? broadcastBatch(input.records, deps) : broadcast([input.event], deps);
}
