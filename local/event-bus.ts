/**
 * The in-process event bus: what EventBridge is in AWS. Lifecycle handlers publish progress events; subscribers
 * (the CLI's progress printer, later the WebSocket gateway) receive those matching their rule, in order.
 */
import type { EventPublisher } from '../shared/lifecycle/deps.js';
import type { JournalEvent } from '../shared/model/lifecycle.js';

/** A subset of an EventBridge pattern: each field given must match one of its values. */
export interface EventPattern {
  type?: readonly JournalEvent['type'][];
  experimentId?: readonly string[];
}

type Listener = (event: JournalEvent) => void;

export class LocalEventBus implements EventPublisher {
  private readonly rules = new Set<{ pattern: EventPattern; listener: Listener }>();

  subscribe(pattern: EventPattern, listener: Listener): () => void {
    const rule = { pattern, listener };
    this.rules.add(rule);
    return () => this.rules.delete(rule);
  }

  async publish(events: readonly JournalEvent[]): Promise<void> {
    for (const event of events) {
      for (const { pattern, listener } of this.rules) {
        if (pattern.type && !pattern.type.includes(event.type)) continue;
        if (pattern.experimentId && !pattern.experimentId.includes(event.experimentId)) continue;
        // A failing subscriber must not fail the lifecycle task that published the event.
        try {
          listener(event);
        } catch (error) {
          console.error('event subscriber failed:', error);
        }
      }
    }
  }
}
