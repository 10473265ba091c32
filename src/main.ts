/**
 * The composition root: the only place that picks a backend and wires the
 * store, the logger, the projection engine and the HTTP app together.
 * `daybook serve` (and so `npm start`) calls `runServer`; tests call
 * `startServer`.
 */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { buildApp } from './api/index.ts';
import { type ApiServices, openApiServices } from './api/apiServices.ts';
import { useProjectedReadModel } from './api/bankingApi.ts';
import { registerProjectionMetrics } from './api/projectionMetrics.ts';
import { checkRoleFitsStore, type Config, createLogger, describeStoreUrl, EXIT, type Logger } from './edge/index.ts';
import { SqlBankingReadModel } from './banking/index.ts';
import type { EventStore } from './eventstore/index.ts';
import { openEventStore } from './eventstore/open.ts';
import { builtinProjections } from './projections/builtin/index.ts';
import { type HealthOptions, openReadModelStore, type ProjectionEngine, type ReadModelStore, sharedProjectionHealth } from './projections/index.ts';
import { type StripeListener, startStripeListener } from './api/stripe/stripeListener.ts';
import type { Sealer } from './audit/index.ts';
import { assert, systemClock } from './kernel/index.ts';
import { registerOpsMetrics } from './api/opsMetrics.ts';
import { createServerProjections, listeningUrl, openStore, startSealer, startWorker } from './mainWorker.ts';
import { followErasures, projectedSubjectIndex } from './privacy/index.ts';
import { openReplicaReadModels, type ReplicaMonitor, type ReplicaReadModels } from './projections/index.ts';

/** How long a graceful shutdown may take before the process gives up on it. */
export const SHUTDOWN_TIMEOUT_MS = 10_000;

export interface RunningServer {
  app: FastifyInstance;
  store: EventStore;
  logger: Logger;
  /** Where it listens, with the real port (PORT=0 picks a free one). */
  url: string;
  /** The store url fit to print: no password. */
  storeDescription: string;
  /** The admin key generated on a fresh store, to print once; undefined otherwise. Never logged. */
  bootstrapSecret: string | undefined;
  services: ApiServices;
  /** The Stripe-compatible listener (DAYBOOK_STRIPE_PORT): its app, url and payments service. */
  stripe: StripeListener;
  /**
   * The built-in projections on the same store (on PostgreSQL as a worker
   * group shared with other server processes). In the `api` role it is not
   * started: reads wait on the checkpoints other processes write.
   */
  projections: ProjectionEngine;
  /** Seals the log in the background (DAYBOOK_SEAL_EVERY_EVENTS / DAYBOOK_SEAL_EVERY_MS); null when both are 0, and in the `api` role. */
  sealer: Sealer | null;
  /** DAYBOOK_READ_DATABASE_URL's lag monitor, or null. */
  replica: ReplicaMonitor | null;
  /** Stops listening (in-flight requests finish), stops the projections (batches in flight commit), then closes the store. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens the store and the API's services, builds the app and listens. Role
 * `all` (the default) also starts the built-in projections, webhook delivery
 * and the sealer on the same store: on SQLite this one process runs every
 * projection; on PostgreSQL each projection runs as a worker group, so
 * several server processes share its partitions through leases. Role `api`
 * starts none of those: `projections` processes run them, and `/readyz`
 * reports the projections' state from the database.
 *
 * @example
 * const server = await startServer({ ...loadConfig(), port: 0 });
 * await fetch(`${server.url}/healthz`);
 * await server.close();
 */
export async function startServer(config: Config, options: { logger?: Logger } = {}): Promise<RunningServer> {
  assert(config.role !== 'projections', 'startServer runs the api and all roles; startWorker runs projections');
  checkRoleFitsStore(config.role, config.databaseUrl, 'DAYBOOK_ROLE');
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const runsBackground = config.role === 'all';
  const storeDescription = describeStoreUrl(config.storeUrl);
  const store = await openStore(config);
  let app: FastifyInstance;
  let services: ApiServices | undefined;
  let readModels: ReadModelStore | undefined;
  let replica: ReplicaReadModels | null = null;
  let engine: ProjectionEngine | undefined;
  let stripe: StripeListener | undefined;
  let sealer: Sealer | null = null;
  const detachers: Array<() => unknown> = [];
  try {
    services = await openApiServices(store, { dataDir: config.dataDir, pepper: config.apiKeyPepper, seedApiKey: config.apiKey, rateLimit: config.rateLimit, streamLimits: config.streamLimits, ledgerCache: config.ledgerCache,
      approvals: { makerChecker: config.sox.makerChecker, transferThresholdMinor: config.sox.transferThresholdMinor, expiresAfterMs: config.sox.approvalExpiryMs, approvalsRequired: config.sox.approvalsRequired },
      accessAudit: { requirePurpose: config.sox.requirePurpose, write: config.sox.accessAuditWrite },
      fraudEnforce: config.stripe.fraudEnforce, logger,
    });
    readModels = await openReadModelStore(config.storeUrl);
    if (config.readDatabaseUrl !== undefined) replica = await openReplicaReadModels({ primaryUrl: config.storeUrl, replicaUrl: config.readDatabaseUrl, primary: readModels, logger });
    // Queries may go to the replica; the projections, the dispatcher and every write use the primary.
    const queryModels = replica?.readModels ?? readModels;
    engine = createServerProjections(store, readModels, logger);
    // Other processes' erasures (PostgreSQL): their subjects' kept keys and states are dropped here too.
    if (store.backend === 'postgres') detachers.push(followErasures(store));
    if (runsBackground) await engine.start();
    // Banking queries read the projection from now on, waiting for it to reach the head (read-your-writes).
    useProjectedReadModel(services.banking, new SqlBankingReadModel(queryModels, engine));
    // Subject access exports find a subject's objects through the subject index (and the log after its checkpoint).
    services.privacy.subjectIndex = projectedSubjectIndex(queryModels);
    const maxLagSeconds = config.projectionMaxLagSeconds;
    const registry = new Registry();
    const health = runsBackground ? engine : sharedHealthSource(store, readModels);
    detachers.push(registerProjectionMetrics(health, registry, { maxLagSeconds }));
    app = await buildApp({ store, logger, registry, security: services.security, plugins: services.plugins, projections: { engine: health, maxLagSeconds } });
    await app.listen({ port: config.port, host: config.host });
    stripe = await startStripeListener({ config, store, logger, security: services.security, readModels: queryModels, projections: engine, deliverWebhooks: runsBackground, compliance: services.compliance });
    if (runsBackground) sealer = startSealer(config, store, logger);
    registerOpsMetrics(registry, { store, readModels, sealer, replica: replica?.monitor });
  } catch (error) {
    await sealer?.stop();
    await stripe?.close();
    await engine?.stop();
    await replica?.close();
    await readModels?.close();
    await services?.close();
    await store.close();
    throw error;
  }
  const opened = services;
  const projections = engine;
  const openedReadModels = readModels;
  const openedStripe = stripe;
  const openedSealer = sealer;
  const openedReplica = replica;
  const url = listeningUrl(app, config.host, config.port);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        await app.close();
        await openedStripe.close();
        await openedSealer?.stop();
        // Graceful: each runner lets its batch in flight commit (a group hands its partitions back).
        await projections.stop();
        for (const detach of detachers) detach();
        await opened.close();
        await openedReplica?.close();
        await openedReadModels.close();
      } finally {
        await store.close();
      }
    })();
    return closing;
  };
  const { created } = opened.bootstrap;
  if (created !== undefined) logger.info({ keyId: created.keyId, role: created.role, mode: created.mode }, 'bootstrap API key registered');
  if (runsBackground) logger.info({ projections: projections.registry.names(), shared: store.backend === 'postgres' }, 'projections started');
  logger.info({ url, stripeUrl: openedStripe.url, store: storeDescription, role: config.role, replica: config.readDatabaseUrl === undefined ? undefined : describeStoreUrl(config.readDatabaseUrl) }, 'listening');
  return {
    app, store, logger, url, storeDescription, bootstrapSecret: opened.bootstrap.secretToPrint, services: opened, stripe: openedStripe, projections, sealer: openedSealer,
    replica: openedReplica?.monitor ?? null, close,
  };
}

/** The `api` role's view of the projections: their state in the database, whichever processes run them. */
function sharedHealthSource(store: EventStore, readModels: ReadModelStore) {
  return {
    health: (options?: HealthOptions) => sharedProjectionHealth({ store, readModels, projections: builtinProjections(), clock: systemClock, leased: store.backend === 'postgres' }, options),
    onBatchCommitted: () => () => {},
  };
}

export interface ServerIo {
  /** The listening line; the JSON logs go to stdout too (pino's default). */
  stdout: { write(text: string): unknown };
  /** The bootstrap admin key, and nothing of the logs: log shippers collect stdout. */
  stderr: { write(text: string): unknown };
}

/**
 * Starts the server, prints where it listens, and resolves with the exit code
 * once SIGTERM or SIGINT has shut it down gracefully: the app stops taking
 * requests and finishes those in flight, the projections commit their batch
 * in flight and stop, then the store closes (its last
 * group commit is durable before the process exits). A second signal, or a
 * shutdown longer than SHUTDOWN_TIMEOUT_MS, gives up and exits non-zero.
 */
export async function runServer(config: Config, io: ServerIo = process): Promise<number> {
  const server = config.role === 'projections' ? await startWorker(config) : await startServer(config);
  if ('app' in server) {
    if (server.bootstrapSecret !== undefined) {
      // Printed here, once, and never logged: only its hash is stored, so this is the one chance to copy it.
      // On stderr, the terminal's, never on stdout, where the JSON logs go and log shippers collect them.
      io.stderr.write(`Admin API key (test mode), shown once, store it now: ${server.bootstrapSecret}\n`);
    }
    io.stdout.write(`Daybook listening on ${server.url} (store: ${server.storeDescription}${config.role === 'api' ? ', role: api' : ''})\n`);
    io.stdout.write(`Stripe-compatible API listening on ${server.stripe.url}\n`);
  } else {
    io.stdout.write(`Daybook projections worker running (store: ${server.storeDescription})\n`);
    if (server.healthUrl !== null) io.stdout.write(`Health and metrics on ${server.healthUrl}\n`);
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        server.logger.warn({ signal }, 'second signal during shutdown: exiting now');
        resolve(EXIT.software);
        return;
      }
      stopping = true;
      server.logger.info({ signal }, 'shutting down');
      const timer = setTimeout(() => {
        server.logger.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'shutdown timed out: exiting');
        resolve(EXIT.software);
      }, SHUTDOWN_TIMEOUT_MS);
      server.close().then(
        () => {
          server.logger.info('stopped');
          resolve(EXIT.ok);
        },
        (error: unknown) => {
          server.logger.error({ err: error }, 'shutdown failed');
          resolve(EXIT.software);
        },
      ).finally(() => {
        clearTimeout(timer);
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
