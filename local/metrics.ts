/**
 * The embedded runtime's metrics in Prometheus' text format (`GET /metrics`), with prom-client: the names and labels
 * of `shared/observability/metrics.ts`, fed by the runtime's event bus, so they count what the lifecycle did.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { METRICS, pointsOf, type MetricKey } from '../shared/observability/metrics.js';
import type { LocalEventBus } from './event-bus.js';

export class LocalMetrics {
  readonly registry = new Registry();
  private readonly metrics: Record<MetricKey, Counter | Histogram>;

  constructor(bus: LocalEventBus) {
    const registers = [this.registry];
    this.metrics = Object.fromEntries(
      Object.entries(METRICS).map(([key, definition]) => {
        const common = { name: definition.name, help: definition.help, labelNames: [...definition.labels], registers };
        return [key, definition.kind === 'counter' ? new Counter(common) : new Histogram({ ...common, buckets: [...(definition.buckets ?? [])] })];
      }),
    ) as Record<MetricKey, Counter | Histogram>;
    // The process's own (memory, CPU, event loop lag): chaosduck_process_…, chaosduck_nodejs_…
    collectDefaultMetrics({ register: this.registry, prefix: 'chaosduck_' });
    bus.subscribe({}, (event) => this.record([event]));
  }

  private record(events: Parameters<typeof pointsOf>[0]): void {
    for (const { metric, labels, value } of pointsOf(events)) {
      const instrument = this.metrics[metric];
      if (instrument instanceof Counter) instrument.inc(labels, value);
      else instrument.observe(labels, value);
    }
  }

  /** The exposition: what `GET /metrics` answers, and its content type. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
