/**
 * The composition root's background half: what `daybook serve --role
 * projections` runs (and what `--role all` runs beside the API). The
 * built-in projections as worker groups sharing partitions with other
 * processes through leases, webhook delivery, the sealer, and, when
 * DAYBOOK_HEALTH_PORT is set, a listener with `/healthz`, `/readyz` and
 * `/metrics` only. No API listener.
 */
import { followErasures, openShreddingStore, type ShreddingEventStore } from './privacy/index.ts';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { buildApp } from './api/index.ts';
import { registerOpsMetrics } from './api/opsMetrics.ts';
import { registerProjectionMetrics } from './api/projectionMetrics.ts';
import { startWebhookDelivery } from './api/stripe/stripeWebhooks.ts';
import { openLocalKeyProvider, Sealer } from './audit/index.ts';
import { checkRoleFitsStore, type Config, createLogger, describeStoreUrl, type Logger } from './edge/index.ts';
import type { EventStore } from './eventstore/index.ts';
import { openEventStore } from './eventstore/open.ts';
import { systemClock } from './kernel/index.ts';
import { builtinProjections } from './projections/builtin/index.ts';
import { createProjectionEngine, openReadModelStore, type ProjectionEngine, type ReadModelStore } from './projections/index.ts';

export interface RunningWorker {
  store: EventStore;
  logger: Logger;
  storeDescription: string;
  projections: ProjectionEngine;
  sealer: Sealer | null;
  /** The health and metrics listener's url (DAYBOOK_HEALTH_PORT), or null. */
  healthUrl: string | null;
  /** Stops the health listener, webhook delivery, the sealer and the projections (batches in flight commit, partitions handed back), then closes the store. Idempotent. */
  close(): Promise<void>;
}

/** The built-in projections on `store`, as worker groups on PostgreSQL (several processes share them) or all of them here on SQLite, logging poison events. */
export function createServerProjections(store: EventStore, readModels: ReadModelStore, logger: Logger): ProjectionEngine {
  // The AML monitor reads earlier events of the streams it watches, so it is made on this store.
  const engine = createProjectionEngine({ store, readModels, projections: builtinProjections(store), group: store.backend === 'postgres' ? {} : undefined });
  engine.onPoison((info) => {
    logger.error({ projection: info.projection, position: info.event.position.toString(), eventId: info.event.eventId, type: info.event.type, attempts: info.attempts, error: info.error },
      info.policy === 'park' ? 'projection parked a poison event' : 'projection stopped on a poison event');
  });
  return engine;
}

/**
 * Starts the `projections` role: opens the store, starts the projection
 * worker groups, webhook delivery and the sealer, and the health listener
 * when `config.healthPort` is set.
 *
 * @example
 * const worker = await startWorker({ ...loadConfig(), role: 'projections', healthPort: 0 });
 * await fetch(`${worker.healthUrl}/readyz`);
 * await worker.close();
 */
export async function startWorker(config: Config, options: { logger?: Logger } = {}): Promise<RunningWorker> {
  checkRoleFitsStore('projections', config.databaseUrl, 'DAYBOOK_ROLE');
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const store = await openStore(config);
  let readModels: ReadModelStore | undefined;
  let engine: ProjectionEngine | undefined;
  let delivery: { close(): Promise<void> } | undefined;
  let sealer: Sealer | null = null;
  let app: FastifyInstance | undefined;
  let healthUrl: string | null = null;
  let stopFollowing: (() => void) | undefined;
  try {
    readModels = await openReadModelStore(config.storeUrl);
    engine = createServerProjections(store, readModels, logger);
    // Other processes' erasures: their subjects' kept keys and states are dropped here too.
    if (store.backend === 'postgres') stopFollowing = followErasures(store);
    await engine.start();
    delivery = startWebhookDelivery({ store, readModels, config: config.stripe.webhooks, logger, clock: systemClock, projections: engine });
    sealer = startSealer(config, store, logger);
    if (config.healthPort !== undefined) {
      const registry = new Registry();
      registerProjectionMetrics(engine, registry, { maxLagSeconds: config.projectionMaxLagSeconds });
      registerOpsMetrics(registry, { store, readModels, sealer });
      app = await buildApp({ store, logger, registry, projections: { engine, maxLagSeconds: config.projectionMaxLagSeconds } });
      await app.listen({ port: config.healthPort, host: config.host });
      healthUrl = listeningUrl(app, config.host, config.healthPort);
    }
  } catch (error) {
    await app?.close();
    await sealer?.stop();
    await delivery?.close();
    await engine?.stop();
    await readModels?.close();
    await store.close();
    throw error;
  }
  const opened = { readModels, engine, delivery, sealer, app };
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        stopFollowing?.();
        await opened.app?.close();
        await opened.delivery.close();
        await opened.sealer?.stop();
        await opened.engine.stop();
        await opened.readModels.close();
      } finally {
        await store.close();
      }
    })();
    return closing;
  };
  logger.info({ projections: engine.registry.names(), healthUrl, store: describeStoreUrl(config.storeUrl) }, 'projections worker started');
  return { store, logger, storeDescription: describeStoreUrl(config.storeUrl), projections: engine, sealer, healthUrl, close };
}

/** `http://host:port` of a listening app, with the real port (0 picks a free one). */
export function listeningUrl(app: FastifyInstance, host: string, configuredPort: number): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : configuredPort;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * The background sealer: on PostgreSQL every process that runs one competes,
 * and the seal stream's expected version lets one of them win each round.
 * The signing key comes from DAYBOOK_AUDIT_KEYS_DIR (made on first start):
 * processes sharing one database must share that folder's keys.
 */
export function startSealer(config: Config, store: EventStore, logger: Logger): Sealer | null {
  const { keysDir, sealEveryEvents, sealEveryMs } = config.audit;
  if (sealEveryEvents === 0 && sealEveryMs === 0) return null;
  const sealer = new Sealer({
    store, keys: openLocalKeyProvider({ dir: keysDir }), clock: systemClock, everyEvents: sealEveryEvents, everyMs: sealEveryMs,
    onError: (error) => logger.error({ err: error }, 'sealing the log failed'),
    onSealed: (seal, position) => logger.info({ sequence: seal.sequence, fromPosition: seal.fromPosition.toString(), toPosition: seal.toPosition.toString(), position: position.toString(), keyId: seal.keyId }, 'log sealed'),
  });
  sealer.start();
  return sealer;
}

/**
 * The event store with crypto-shredding around it: personal data sealed per
 * subject, the keys in the key store beside it (see src/privacy), wrapped by
 * the master key of DAYBOOK_AUDIT_KEYS_DIR. Every role opens it so: the
 * projections role renders webhook bodies with customers' data too.
 */
export async function openStore(config: Config): Promise<ShreddingEventStore> {
  const raw = await openEventStore(config.storeUrl);
  try {
    return await openShreddingStore(raw, { storeUrl: config.storeUrl, keysDir: config.audit.keysDir });
  } catch (error) {
    await raw.close();
    throw error;
  }
}
