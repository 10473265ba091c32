import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { EventStore } from '../eventstore/index.ts';
import { isDaybookError } from '../kernel/index.ts';

/** How long /readyz waits for the store before calling it unready. */
export const READINESS_TIMEOUT_MS = 2000;

/** Probes answer often; their request logs would drown the rest, so only warnings and worse are logged. */
const QUIET = { logLevel: 'warn' as const, config: { permission: 'public' as const }, schema: { hide: true } };

/**
 * `/healthz`: the process answers (liveness; touches nothing).
 * `/readyz`: the store answers `headPosition()`. Migrations need no separate
 * check: `openEventStore` refuses a store with pending migrations, so an open
 * store has them all.
 * `/metrics`: Prometheus text format.
 */
export async function registerHealthRoutes(app: FastifyInstance, store: EventStore, registry: Registry): Promise<void> {
  app.get('/healthz', QUIET, async () => ({ status: 'ok' }));

  app.get('/readyz', QUIET, async (request, reply) => {
    try {
      const headPosition = await withTimeout(store.headPosition(), READINESS_TIMEOUT_MS);
      return { status: 'ready', store: { backend: store.backend, headPosition: headPosition.toString() } };
    } catch (error) {
      const reason = describeFailure(error);
      request.log.warn({ err: error }, 'not ready: event store does not answer');
      return reply.code(503).send({ status: 'unavailable', store: { backend: store.backend, error: reason } });
    }
  });

  app.get('/metrics', QUIET, async (_request, reply) => {
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });
}

function describeFailure(error: unknown): { code: string; message: string } {
  if (isDaybookError(error)) return { code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'store_unavailable', message: message.slice(0, 200) };
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
