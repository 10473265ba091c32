/**
 * The Stripe-compatible listener as the composition root starts it: the
 * payments service (its ledger engines, one per mode), the read model on
 * the server's projection engine, the app, listening on
 * DAYBOOK_STRIPE_PORT with the same host as the native API, and a timer
 * that settles due balance transactions (reads of the balance settle too).
 */
import { createFraudChecker, createPaymentsFraudScorer, demoFraudModel } from '../../compliance/index.ts';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Config, Logger } from '../../edge/index.ts';
import type { EventStore } from '../../eventstore/index.ts';
import { PAYMENT_MODES, PaymentsReadModel, PaymentsService } from '../../payments/index.ts';
import type { ReadModelStore } from '../../projections/index.ts';
import type { ApiSecurity } from '../security.ts';
import { buildStripeApp } from './stripeApp.ts';
import type { StripeCompliance } from './stripeObjects.ts';
import { type StartedWebhooks, startWebhooks } from './stripeWebhooks.ts';

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** How often the listener settles balance transactions whose `available_on` has come. */
export const SETTLEMENT_SWEEP_INTERVAL_MS = 10_000;

export interface StripeListener {
  app: FastifyInstance;
  /** Where it listens, with the real port. */
  url: string;
  payments: PaymentsService;
  readModel: PaymentsReadModel;
  /** Events, webhook endpoints and the delivery dispatcher. */
  webhooks: StartedWebhooks;
  /** Stops the sweeps and the listener (in-flight requests finish), then drains the payments ledgers. Idempotent. */
  close(): Promise<void>;
}

export interface StripeListenerOptions {
  config: Pick<Config, 'host' | 'stripe'>;
  store: EventStore;
  logger: Logger;
  security: ApiSecurity;
  readModels: ReadModelStore;
  projections: {
    waitForPosition(name: string, position: bigint, timeoutMs: number): Promise<void>;
    /** Wakes the webhook dispatcher when the events projection committed a batch. */
    onBatchCommitted?(listener: (batch: { projection: string; events: number }) => void): () => void;
  };
  /** Sanctions screening and holds of the native API (its ComplianceApi); none when absent. */
  compliance?: StripeCompliance;
  /** Deliver webhooks from this process (default true; false in the `api` role, where `projections` processes deliver). */
  deliverWebhooks?: boolean;
}

export async function startStripeListener(options: StripeListenerOptions): Promise<StripeListener> {
  const { config, store, logger } = options;
  const { fraudEnforce } = config.stripe;
  // Every attempt is scored by the compliance model (its verdict recorded with the charge); blocks decline where DAYBOOK_FRAUD_ENFORCE says.
  const scorer = createPaymentsFraudScorer({
    checker: createFraudChecker({ model: demoFraudModel() }),
    enforces: (input) => fraudEnforce === 'all' || (fraudEnforce === 'live' && input.mode === 'live'),
  });
  const payments = await PaymentsService.open(store, {
    fees: config.stripe.fees, settlementDelayMs: config.stripe.settlementDelayMs, disputeFeeMinor: config.stripe.disputeFeeMinor, scorer,
  });
  const readModel = new PaymentsReadModel(store, options.readModels, options.projections);
  let app: FastifyInstance;
  const webhooks = startWebhooks({ store, readModels: options.readModels, payments: { payments, readModel }, config: config.stripe.webhooks, logger, projections: options.projections, deliver: options.deliverWebhooks });
  try {
    app = await buildStripeApp({ store, logger, security: options.security, payments: { payments, readModel, compliance: options.compliance }, webhooks: webhooks.api, version: PACKAGE_VERSION });
    await app.listen({ port: config.stripe.port, host: config.host });
  } catch (error) {
    await webhooks.close();
    await payments.close();
    throw error;
  }
  const timer = setInterval(() => {
    for (const mode of PAYMENT_MODES) payments.settleDue(mode, readModel).catch((error: unknown) => logger.warn({ err: error, mode }, 'settlement sweep failed'));
  }, SETTLEMENT_SWEEP_INTERVAL_MS);
  timer.unref();
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.stripe.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;
  return {
    app, url: `http://${host}:${port}`, payments, readModel, webhooks,
    close: () => {
      closing ??= (async () => {
        clearInterval(timer);
        await app.close();
        await webhooks.close();
        await payments.close();
      })();
      return closing;
    },
  };
}
