import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventStore } from '../eventstore/index.ts';

/** The metrics one app exposes on `/metrics`. Each app has its own registry, so tests and several apps in one process never share counters. */
export interface AppMetrics {
  registry: Registry;
  httpRequestDuration: Histogram<'route' | 'method' | 'status'>;
  /** Stops feeding the event-store metrics (called when the app closes). */
  detach(): void;
}

const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const BATCH_EVENTS_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000, 2000];

/**
 * Process metrics, event-store metrics fed by `store.onAppended` (one call per
 * durable group-commit batch) with the head position read at scrape time, and
 * an HTTP request histogram the app observes per route, method and status.
 */
export function createAppMetrics(store: EventStore, registry: Registry = new Registry()): AppMetrics {
  collectDefaultMetrics({ register: registry });
  const appendedEvents = new Counter({
    name: 'daybook_eventstore_appended_events_total',
    help: 'Events durably appended to the event store.',
    registers: [registry],
  });
  const batchDuration = new Histogram({
    name: 'daybook_eventstore_append_batch_duration_seconds',
    help: 'Time to make one group-commit batch durable, in seconds.',
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  });
  const batchEvents = new Histogram({
    name: 'daybook_eventstore_append_batch_events',
    help: 'Events per durable group-commit batch.',
    buckets: BATCH_EVENTS_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: 'daybook_eventstore_head_position',
    help: 'Global position of the newest durable event (read when scraped).',
    registers: [registry],
    async collect() {
      try {
        this.set(Number(await store.headPosition()));
      } catch {
        // A closed or unreachable store: /readyz reports it; the scrape itself still answers.
      }
    },
  });
  const httpRequestDuration = new Histogram({
    name: 'daybook_http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by route pattern, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  });
  const detach = store.onAppended(({ events, durationMs }) => {
    appendedEvents.inc(events);
    batchEvents.observe(events);
    batchDuration.observe(durationMs / 1000);
  });
  return { registry, httpRequestDuration, detach };
}
