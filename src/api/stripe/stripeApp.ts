/**
 * The Stripe-compatible listener's HTTP app, built but not listening (the
 * composition root listens on DAYBOOK_STRIPE_PORT). It is an app of its own
 * because Stripe's paths (`/v1/customers`, `/v1/balance`, …) mean other
 * things in Daybook's native API; it shares with that API the store, the API
 * keys and their roles (security.ts), the idempotency records
 * (idempotency.hooks.ts) and the error table (Stripe error objects).
 *
 * Wire format: form bodies parsed with `qs` (`metadata[k]=v`, `expand[]=`,
 * `expand[0]=`), JSON bodies too, bodies accepted on GET and DELETE as the
 * official SDK sends them; `Request-Id: req_…` on every answer;
 * `Stripe-Version` echoed; 401 `authentication_error`, 429
 * `rate_limit_error`; a card decline carries `decline_code`, `charge` and
 * `payment_intent`.
 *
 * @example
 * const app = await buildStripeApp({ store, security, payments: { payments, readModel } });
 * await app.listen({ port: 12111 });
 */
import { cannotExpand, checkExpandPaths, expandRootOf } from './stripeExpand.ts';
import { randomBytes } from 'node:crypto';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import qs from 'qs';
import { base62 } from '../../auth/index.ts';
import { createLogger, type Logger } from '../../edge/index.ts';
import type { EventStore } from '../../eventstore/index.ts';
import { DaybookError, isDaybookError, REQUEST_BODY_BYTES_MAX } from '../../kernel/index.ts';
import { answerFor, clientErrorHandler, frameworkErrorHandler } from '../errorHandler.ts';
import { registerIdempotency } from '../idempotency.hooks.ts';
import { registerAccessAudit } from '../accessAudit.hooks.ts';
import { registerRequestContext } from '../requestContext.ts';
import { type ApiSecurity, registerSecurity } from '../security.ts';
import type { PaymentsApi } from './stripeObjects.ts';
import { stripeValidatorCompiler } from './stripeParams.ts';
import { balanceRoutes } from './routes/balance.routes.ts';
import { chargeRoutes } from './routes/charges.routes.ts';
import { customerRoutes } from './routes/customers.routes.ts';
import { paymentIntentRoutes } from './routes/paymentIntents.routes.ts';
import { paymentMethodRoutes } from './routes/paymentMethods.routes.ts';
import { refundRoutes } from './routes/refunds.routes.ts';
import { accountRoutes } from './routes/accounts.routes.ts';
import { disputeRoutes } from './routes/disputes.routes.ts';
import { payoutRoutes } from './routes/payouts.routes.ts';
import { eventRoutes } from './routes/events.routes.ts';
import { webhookEndpointRoutes } from './routes/webhookEndpoints.routes.ts';
import type { WebhooksApi } from './stripeWebhooks.ts';

export interface BuildStripeAppOptions {
  store: EventStore;
  logger?: Logger;
  security: ApiSecurity;
  payments: PaymentsApi;
  /** Events and webhook endpoints (absent: those routes are not served). */
  webhooks?: WebhooksApi;
  version?: string;
}

/** How `qs` reads Stripe's brackets: arrays up to 100 indexes (`expand[99]`), nesting 5 deep. */
const QS_OPTIONS = { depth: 5, arrayLimit: 100, parameterLimit: 1000 } as const;

export const STRIPE_OPENAPI_PATH = '/openapi.json';

export async function buildStripeApp(options: BuildStripeAppOptions): Promise<FastifyInstance> {
  const logger = options.logger ?? createLogger({ level: 'silent' });
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: REQUEST_BODY_BYTES_MAX,
    requestIdHeader: false,
    genReqId: () => `req_${base62(randomBytes(12), 14)}`,
    routerOptions: { querystringParser: (text: string) => qs.parse(text, QS_OPTIONS) },
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
  });
  app.setValidatorCompiler(stripeValidatorCompiler);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/v1/') && route.config?.permission === undefined) throw new Error(`route ${String(route.method)} ${route.url} declares no permission`);
  });
  registerBodyParsers(app);
  registerRequestContext(app);
  registerStripeHeaders(app);
  registerStripeErrors(app);
  registerSecurity(app, options.security);
  registerExpandCheck(app);
  registerIdempotency(app, options.security);
  registerAccessAudit(app, options.security.accessAudit, 'stripe');
  await registerStripeOpenApi(app, options.version ?? '0.0.0');
  registerStripeAccountRefusal(app);
  for (const routes of [customerRoutes, paymentMethodRoutes, paymentIntentRoutes, chargeRoutes, refundRoutes, balanceRoutes, disputeRoutes, payoutRoutes, accountRoutes]) {
    await app.register(routes(options.payments));
  }
  if (options.webhooks) for (const routes of [eventRoutes, webhookEndpointRoutes]) await app.register(routes(options.webhooks));
  app.get(STRIPE_OPENAPI_PATH, { schema: { hide: true }, config: { permission: 'public' } }, async () => app.swagger());
  await app.ready();
  return app;
}

/** Form (qs) and JSON bodies; an empty body of either is `{}`, and so is a POST or DELETE sent with none. */
function registerBodyParsers(app: FastifyInstance): void {
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, {});
    else json(request, body as string, done);
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, qs.parse(body as string, QS_OPTIONS));
  });
  app.addHook('preValidation', (request, _reply, done) => {
    if ((request.method === 'POST' || request.method === 'DELETE') && (request.body === null || request.body === undefined)) request.body = {};
    done();
  });
}

/**
 * `expand` is checked against what the route answers before the route runs
 * (and before the Idempotency-Key is claimed): a bad path is a validation
 * error with nothing written, not a 400 after a committed capture.
 */
function registerExpandCheck(app: FastifyInstance): void {
  app.addHook('preHandler', (request, _reply, done) => {
    const expand = expandOfRequest(request.body) ?? expandOfRequest(request.query);
    const root = expand === undefined ? undefined : expandRootOf(request.method, request.routeOptions.url ?? '');
    try {
      if (expand !== undefined && expand.length > 0) {
        if (root === undefined) throw cannotExpand(expand[0]!);
        checkExpandPaths(root, expand);
      }
      done();
    } catch (error) {
      done(error as Error);
    }
  });
}

function expandOfRequest(input: unknown): readonly string[] | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const expand = (input as { expand?: unknown }).expand;
  return Array.isArray(expand) && expand.every((path) => typeof path === 'string') ? expand : undefined;
}

/**
 * Connected-account scoping (`Stripe-Account: acct_…`) is not supported: a
 * request carrying the header is refused (after authentication) rather than
 * run against the platform's own objects.
 */
function registerStripeAccountRefusal(app: FastifyInstance): void {
  app.addHook('preValidation', (request, _reply, done) => {
    const header = request.headers['stripe-account'];
    if (header === undefined || header === '') return done();
    done(new DaybookError('account_invalid', 'The Stripe-Account header (acting as a connected account) is not supported by Daybook; send requests as the platform.', {}, 'Stripe-Account'));
  });
}

function registerStripeHeaders(app: FastifyInstance): void {
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('request-id', request.id);
    const version = request.headers['stripe-version'];
    if (typeof version === 'string' && version.length > 0 && version.length <= 64) reply.header('stripe-version', version);
    done(null, payload);
  });
}

/** Stripe's error classes follow the status: 401 authentication_error, 429 rate_limit_error; a card error carries its details. */
function registerStripeErrors(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => sendStripeError(error, request, reply));
  app.setNotFoundHandler((request, reply) => reply.code(404).send({
    error: { type: 'invalid_request_error', message: `Unrecognized request URL (${request.method}: ${request.url.split('?')[0]}). Daybook's Stripe-compatible API serves the routes of ${STRIPE_OPENAPI_PATH}.` },
  }));
}

function sendStripeError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body } = answerFor(error);
  const wire = body.error as Record<string, unknown>;
  if (status === 401) wire.type = 'authentication_error';
  if (status === 429) wire.type = 'rate_limit_error';
  if (isDaybookError(error)) {
    const extra = error.details.stripe;
    if (extra !== null && typeof extra === 'object') Object.assign(wire, extra);
    const retryAfterSeconds = error.details.retryAfterSeconds;
    if (typeof retryAfterSeconds === 'number') reply.header('retry-after', String(retryAfterSeconds));
  }
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ code: wire.code, status }, String(wire.message));
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

async function registerStripeOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Daybook Stripe-compatible API',
        version,
        description: [
          "A subset of Stripe's API, served on its own listener (DAYBOOK_STRIPE_PORT, default 12111): Stripe's client libraries work against it unchanged.",
          'Form-encoded (or JSON) bodies; amounts are integers of minor units. Authenticate with a Daybook secret key (Bearer, or Basic with the key as user).',
        ].join('\n\n'),
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' }, basicAuth: { type: 'http', scheme: 'basic' } } },
    },
    transform: (document) => {
      const transformed = jsonSchemaTransform(document);
      const permission = document.route.config?.permission;
      if (permission === undefined || permission === 'public') return transformed;
      return { url: transformed.url, schema: { ...transformed.schema, security: [{ bearerAuth: [] }, { basicAuth: [] }], 'x-permission': permission } as typeof transformed.schema };
    },
  });
}
