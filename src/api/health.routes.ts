import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { EventStore } from '../eventstore/index.ts';
import { isDaybookError } from '../kernel/index.ts';
import type { HealthOptions, HealthReport, ProjectionHealth } from '../projections/index.ts';

/** The projections `/readyz` reports on: the engine's readiness, and the lag it tolerates. */
export interface ProjectionReadiness {
  engine: { health(options?: HealthOptions): Promise<HealthReport> };
  /** DAYBOOK_PROJECTION_MAX_LAG_SECONDS. */
  maxLagSeconds: number;
}

/** How long /readyz waits for the store before calling it unready. */
export const READINESS_TIMEOUT_MS = 2000;

/** Probes answer often; their request logs would drown the rest, so only warnings and worse are logged. */
const QUIET = { logLevel: 'warn' as const, config: { permission: 'public' as const }, schema: { hide: true } };

/**
 * `/healthz`: the process answers (liveness; touches nothing).
 * `/readyz`: the store answers `headPosition()`, and (when the app runs
 * projections) every projection here runs within the allowed lag: one stopped
 * on a poison event, failed, not running or further behind than
 * `maxLagSeconds` makes it 503, with per-projection details either way.
 * Migrations need no separate check: `openEventStore` refuses a store with
 * pending migrations, so an open store has them all.
 * `/metrics`: Prometheus text format.
 */
export async function registerHealthRoutes(app: FastifyInstance, store: EventStore, registry: Registry, projections?: ProjectionReadiness): Promise<void> {
  app.get('/healthz', QUIET, async () => ({ status: 'ok' }));

  app.get('/readyz', QUIET, async (request, reply) => {
    let storeReport: { backend: string; headPosition: string };
    try {
      const headPosition = await withTimeout(store.headPosition(), READINESS_TIMEOUT_MS);
      storeReport = { backend: store.backend, headPosition: headPosition.toString() };
    } catch (error) {
      const reason = describeFailure(error, 'the store does not answer');
      request.log.warn({ err: error }, 'not ready: event store does not answer');
      return reply.code(503).send({ status: 'unavailable', store: { backend: store.backend, error: reason } });
    }
    if (projections === undefined) return { status: 'ready', store: storeReport };
    let health: HealthReport;
    try {
      health = await withTimeout(projections.engine.health({ maxLagSeconds: projections.maxLagSeconds }), READINESS_TIMEOUT_MS);
    } catch (error) {
      request.log.warn({ err: error }, 'not ready: the projections\' state cannot be read');
      return reply.code(503).send({ status: 'unavailable', store: storeReport, projectionsError: describeFailure(error, "the projections' state cannot be read") });
    }
    const details = health.projections.map(projectionToWire);
    if (health.ready) return { status: 'ready', store: storeReport, projections: details };
    request.log.warn({ projections: details.filter((projection) => !projection.ready) }, 'not ready: a projection is stopped or lagging');
    return reply.code(503).send({ status: 'unavailable', store: storeReport, projections: details });
  });

  app.get('/metrics', QUIET, async (_request, reply) => {
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });
}

function projectionToWire(projection: ProjectionHealth) {
  return {
    name: projection.name, partition: projection.partition, ready: projection.ready, reasons: projection.reasons, state: projection.state,
    checkpoint: projection.checkpoint.toString(), positionsBehind: projection.positionsBehind.toString(), secondsBehind: projection.secondsBehind,
    deadLetters: { parked: projection.parked, blocking: projection.blocking },
  };
}

/**
 * What a probe's caller learns of a failure: a code and a fixed reason. The
 * database's own text names hosts, ports, databases and users, and probes
 * answer anyone; the raw error is logged instead (see the warnings above).
 */
function describeFailure(error: unknown, reason: string): { code: string; message: string } {
  const code = isDaybookError(error) && (error.code === 'store_closed' || error.code === 'migration_failed') ? error.code : 'store_unavailable';
  return { code, message: reason };
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
