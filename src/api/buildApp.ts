import { readFileSync } from 'node:fs';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync, LogController } from 'fastify';
import type { Registry } from 'prom-client';
import { createLogger, type Logger } from '../edge/index.ts';
import type { EventStore } from '../eventstore/index.ts';
import { REQUEST_BODY_BYTES_MAX } from '../kernel/index.ts';
import { clientErrorHandler, frameworkErrorHandler, registerErrorHandling } from './errorHandler.ts';
import { type ProjectionReadiness, registerHealthRoutes } from './health.routes.ts';
import { createAppMetrics } from './metrics.ts';
import { registerIdempotency } from './idempotency.hooks.ts';
import { registerAccessAudit } from './accessAudit.hooks.ts';
import { registerOpenApi, registerOpenApiRoutes } from './openapi.ts';
import { correlationIdOf, registerRequestContext, requestIdOf } from './requestContext.ts';
import { type ApiSecurity, registerSecurity, type RoutePermission } from './security.ts';

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** A route as registered, with the permission it declares: what the RBAC test walks. */
export interface RegisteredRoute {
  method: string;
  url: string;
  permission: RoutePermission | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route of the app, HEAD twins left out. */
    registeredRoutes: RegisteredRoute[];
  }
}

export interface BuildAppOptions {
  store: EventStore;
  /** A pino logger (see `createLogger`); silent when absent. */
  logger?: Logger;
  /** Prometheus registry for `/metrics`; a fresh one per app when absent. */
  registry?: Registry;
  /**
   * Route modules registered after the core (health, metrics, error handling),
   * so they inherit the error handler, ids and request metrics. Later issues
   * add `/v1/…` routes this way.
   */
  plugins?: readonly FastifyPluginAsync[];
  /**
   * API keys, rate limits and idempotency records for the routes that declare
   * a permission. Without it, those routes answer 401.
   */
  security?: ApiSecurity;
  /** The projections `/readyz` reports on (the server's engine); absent: the store alone decides. */
  projections?: ProjectionReadiness;
}

const silentChildren = new WeakMap<FastifyBaseLogger, FastifyBaseLogger>();

/**
 * A request whose logger writes nothing shares one silent child: pino
 * serialises a child's bindings when it is made, a cost per request for
 * lines nobody writes.
 */
function silentChildOf(parent: FastifyBaseLogger): FastifyBaseLogger {
  let child = silentChildren.get(parent);
  if (child === undefined) {
    child = parent.child({}, { level: 'silent' });
    silentChildren.set(parent, child);
  }
  return child;
}

/**
 * The HTTP app, built but not listening: `main.ts` listens, tests call
 * `app.inject()`. Closing the app detaches its metrics from the store; the
 * store itself belongs to the caller.
 *
 * @example
 * const app = await buildApp({ store, logger: createLogger({ level: 'info' }) });
 * const response = await app.inject({ method: 'GET', url: '/healthz' }); // 200 {"status":"ok"}
 */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const logger = options.logger ?? createLogger({ level: 'silent' });
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; naming the base type keeps FastifyInstance's default generics for plugins.
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: REQUEST_BODY_BYTES_MAX,
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    genReqId: requestIdOf,
    childLoggerFactory: (parent, bindings, childOptions, raw) => {
      const level = childOptions.level ?? parent.level;
      if (level === 'silent') return silentChildOf(parent);
      return parent.child({ ...bindings, correlationId: correlationIdOf(raw) }, childOptions);
    },
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
  });

  const metrics = createAppMetrics(options.store, options.registry);
  app.addHook('onClose', async () => metrics.detach());
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched');
    metrics.httpRequestDuration.observe({ route, method: request.method, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });

  const routes: RegisteredRoute[] = [];
  app.decorate('registeredRoutes', routes);
  app.addHook('onRoute', (route) => {
    const permission = route.config?.permission;
    // Every API route says who may call it; a route without a permission is a bug, caught at start.
    if (route.url.startsWith('/v1/') && permission === undefined) throw new Error(`route ${String(route.method)} ${route.url} declares no permission`);
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url, permission });
  });

  acceptEmptyBodies(app);
  registerRequestContext(app);
  registerErrorHandling(app);
  registerSecurity(app, options.security);
  registerIdempotency(app, options.security);
  registerAccessAudit(app, options.security?.accessAudit, 'api');
  await registerOpenApi(app, PACKAGE_VERSION);
  await registerHealthRoutes(app, options.store, metrics.registry, options.projections);
  for (const plugin of options.plugins ?? []) await app.register(plugin);
  await registerOpenApiRoutes(app);
  await app.ready();
  return app;
}

/**
 * A POST without a body is an empty object, as Stripe takes it: `curl -X POST
 * …/close`, with or without `Content-Type: application/json`, is answered
 * like `{}` (then the route's schema names any field it requires), not
 * refused as "expected object, received null" or "Body cannot be empty".
 * Non-empty JSON goes through Fastify's own parser, prototype poisoning
 * refused as before.
 */
function acceptEmptyBodies(app: FastifyInstance): void {
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, {});
    else json(request, body as string, done);
  });
  // No Content-Type and nothing sent: no parser ran. A JSON `null` keeps being refused, and so does a body sent without a Content-Type.
  app.addHook('preValidation', (request, _reply, done) => {
    const { headers } = request;
    const nothingSent = (headers['content-length'] === undefined || headers['content-length'] === '0') && headers['transfer-encoding'] === undefined;
    if (request.method === 'POST' && headers['content-type'] === undefined && nothingSent && (request.body === null || request.body === undefined)) request.body = {};
    done();
  });
}
