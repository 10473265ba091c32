/**
 * The composition root: the only place that picks a backend and wires the
 * store, the logger and the HTTP app together. `daybook serve` (and so
 * `npm start`) calls `runServer`; tests call `startServer`.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from './api/index.ts';
import { type ApiServices, openApiServices } from './api/apiServices.ts';
import { type Config, createLogger, describeStoreUrl, EXIT, type Logger } from './edge/index.ts';
import type { EventStore } from './eventstore/index.ts';
import { openEventStore } from './eventstore/open.ts';

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
  /** Stops listening (in-flight requests finish), then closes the store. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens the store, builds the app and listens.
 *
 * @example
 * const server = await startServer({ ...loadConfig(), port: 0 });
 * await fetch(`${server.url}/healthz`);
 * await server.close();
 */
export async function startServer(config: Config, options: { logger?: Logger } = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const storeDescription = describeStoreUrl(config.storeUrl);
  const store = await openEventStore(config.storeUrl);
  let app: FastifyInstance;
  let services: ApiServices | undefined;
  try {
    services = await openApiServices(store, { dataDir: config.dataDir, pepper: config.apiKeyPepper, seedApiKey: config.apiKey, rateLimit: config.rateLimit });
    app = await buildApp({ store, logger, security: services.security, plugins: services.plugins });
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await services?.close();
    await store.close();
    throw error;
  }
  const opened = services;
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        await app.close();
        await opened.close();
      } finally {
        await store.close();
      }
    })();
    return closing;
  };
  const { created } = opened.bootstrap;
  if (created !== undefined) logger.info({ keyId: created.keyId, role: created.role, mode: created.mode }, 'bootstrap API key registered');
  logger.info({ url: `http://${host}:${port}`, store: storeDescription }, 'listening');
  return {
    app, store, logger, url: `http://${host}:${port}`, storeDescription, bootstrapSecret: opened.bootstrap.secretToPrint, services: opened, close,
  };
}

export interface ServerIo {
  stdout: { write(text: string): unknown };
}

/**
 * Starts the server, prints where it listens, and resolves with the exit code
 * once SIGTERM or SIGINT has shut it down gracefully: the app stops taking
 * requests and finishes those in flight, then the store closes (its last
 * group commit is durable before the process exits). A second signal, or a
 * shutdown longer than SHUTDOWN_TIMEOUT_MS, gives up and exits non-zero.
 */
export async function runServer(config: Config, io: ServerIo = process): Promise<number> {
  const server = await startServer(config);
  if (server.bootstrapSecret !== undefined) {
    // Printed here, once, and never logged: only its hash is stored, so this is the one chance to copy it.
    io.stdout.write(`Admin API key (test mode), shown once, store it now: ${server.bootstrapSecret}\n`);
  }
  io.stdout.write(`Daybook listening on ${server.url} (store: ${server.storeDescription})\n`);
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
