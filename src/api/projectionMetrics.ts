import { Gauge, Histogram, type Registry } from 'prom-client';
import type { BatchCommitted, HealthOptions, HealthReport } from '../projections/index.ts';

/** What the projection metrics read from the engine (`ProjectionEngine` has both). */
export interface ProjectionMetricsSource {
  health(options?: HealthOptions): Promise<HealthReport>;
  onBatchCommitted(listener: (batch: BatchCommitted) => void): () => void;
}

/** End-to-end lag buckets, in seconds: 1 ms to a minute (the target is p99 ≤ 50 ms). */
export const PROJECTION_LAG_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const LABELS = ['projection', 'partition'] as const;

/**
 * Per projection (and partition run in this process), on `/metrics`:
 * checkpoint position, positions and seconds behind the head, whether it is
 * running, stopped on a poison event or failed (read from the engine when
 * scraped, once per scrape for all of them); dead letters by status (all
 * processes); and a histogram of the end-to-end lag (event recorded-at →
 * read model committed), fed by every committed batch. Returns the function
 * that stops feeding the histogram.
 *
 * @example
 * const registry = new Registry();
 * const detach = registerProjectionMetrics(engine, registry, { maxLagSeconds: 30 });
 * const app = await buildApp({ store, registry });
 */
export function registerProjectionMetrics(source: ProjectionMetricsSource, registry: Registry, options: HealthOptions = {}): () => void {
  // The gauges are collected concurrently within one scrape: they share one health report.
  let inFlight: Promise<HealthReport | null> | null = null;
  const report = (): Promise<HealthReport | null> => {
    inFlight ??= source.health(options).catch(() => null).finally(() => { setImmediate(() => { inFlight = null; }); });
    return inFlight;
  };
  const perPartition = (name: string, help: string, value: (projection: HealthReport['projections'][number]) => number) => new Gauge({
    name, help, labelNames: LABELS, registers: [registry],
    async collect() {
      const health = await report();
      // A store that does not answer: /readyz says so; the scrape still answers, without these series.
      this.reset();
      for (const projection of health?.projections ?? []) this.set({ projection: projection.name, partition: String(projection.partition) }, value(projection));
    },
  });
  perPartition('daybook_projection_checkpoint_position', 'Global position up to which the projection\'s read model is committed.', (p) => Number(p.checkpoint));
  perPartition('daybook_projection_positions_behind', 'Positions between the event store\'s head and the projection\'s checkpoint.', (p) => Number(p.positionsBehind));
  perPartition('daybook_projection_seconds_behind', 'Age in seconds of the oldest event not yet in the read model (0 when caught up).', (p) => p.secondsBehind);
  perPartition('daybook_projection_ready', '1 when the projection is running within the allowed lag, 0 when stopped on a poison event, failed, not running or lagging.', (p) => (p.ready ? 1 : 0));
  new Gauge({
    name: 'daybook_projection_dead_letters',
    help: 'Unresolved dead letters (poison events) per projection, all processes: parked (skipped over) or blocking (the projection is stopped on it).',
    labelNames: ['projection', 'status'] as const,
    registers: [registry],
    async collect() {
      const health = await report();
      this.reset();
      const seen = new Set<string>();
      for (const projection of health?.projections ?? []) {
        if (seen.has(projection.name)) continue;
        seen.add(projection.name);
        this.set({ projection: projection.name, status: 'parked' }, projection.parked);
        this.set({ projection: projection.name, status: 'blocking' }, projection.blocking);
      }
    },
  });
  const lag = new Histogram({
    name: 'daybook_projection_lag_seconds',
    help: 'End-to-end lag per event: from recorded in the event store to committed in the read model, in seconds.',
    labelNames: ['projection'] as const,
    buckets: PROJECTION_LAG_BUCKETS_S,
    registers: [registry],
  });
  return source.onBatchCommitted((batch) => {
    if (batch.lagsMs.length === 0) return;
    const observer = lag.labels({ projection: batch.projection });
    for (const lagMs of batch.lagsMs) observer.observe(Math.max(0, lagMs) / 1000);
  });
}
