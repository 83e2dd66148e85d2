/**
 * Delivers progress events to the connections subscribed to their experiment (or to all), one event after another so
 * a connection receives them in the order given. Each event goes to its subscribers independently: one connection
 * failing does not keep the event from the others, and a connection found gone is deleted. Per-connection failures are
 * logged and counted, not thrown — a retried invocation would send the event again to everyone who already has it.
 */
import { errorMessage } from '../../shared/errors.js';
import type { ProgressEvent } from '../../shared/websocket/events.js';
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
          console.error(`progress event ${event.type} of ${event.experimentId} not delivered to connection ${connectionId}: ${errorMessage(error)}`);
          return 'failed' as const;
        }
      }),
    );
    for (const outcome of outcomes) result[outcome]++;
  }
  return result;
}
