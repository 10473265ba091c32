import { type Command, InvalidArgumentError, Option } from 'commander';
import { StripeEventRenderer } from '../../api/stripe/stripeEvents.ts';
import { EXIT, loadStripeConfig } from '../../edge/index.ts';
import { systemClock } from '../../kernel/index.ts';
import {
  PaymentEventsReadModel, requeueDeliveries, WebhookDispatcher, type WebhookDeliveryRow, WebhookEndpointsService,
} from '../../payments/index.ts';
import type { CliRun } from '../cliIo.ts';
import { CliError } from '../failure.ts';
import { toJson, withProjections } from '../projectionContext.ts';
import { databaseUrlOption } from '../storeUrlOption.ts';

function parseEventId(value: string): string {
  if (!/^evt_[A-Za-z0-9]{1,64}$/.test(value)) throw new InvalidArgumentError('an event id looks like evt_… (see daybook webhooks list-failed or GET /v1/events).');
  return value;
}

function parseLimit(value: string): number {
  const limit = Number(value);
  if (!/^[0-9]+$/.test(value) || limit < 1 || limit > 1000) throw new InvalidArgumentError('use an integer from 1 to 1000.');
  return limit;
}

/**
 * `daybook webhooks list-failed [--limit n] [--json]`: the webhook dead
 * letters (deliveries that used up their retry schedule), oldest first, one
 * line each. `daybook webhooks replay <evt_…> [--all] [--endpoint we_…]`:
 * queues the event's failed (or skipped) deliveries again with a fresh
 * schedule (`--all`: the succeeded ones too), then makes one attempt of each
 * now and prints the outcome; one that fails again stays queued for the
 * server's dispatcher. Runs beside a live server (the event store opened
 * read-only on SQLite).
 */
export function registerWebhooks(program: Command, run: CliRun): void {
  const webhooks = program.command('webhooks').description('the Stripe-compatible webhook deliveries: list the failed ones, replay an event');

  webhooks.command('list-failed')
    .description('list deliveries that used up their retries, oldest first')
    .addOption(new Option('--limit <n>', 'at most this many (1 to 1000)').argParser(parseLimit).default(100))
    .option('--json', 'print the deliveries as JSON lines')
    .addOption(databaseUrlOption())
    .action(async (options: { limit: number; json?: boolean; databaseUrl?: string }) => {
      await withProjections(run, options, async ({ store, readModels }) => {
        const failed = await new PaymentEventsReadModel(store, readModels).failedDeliveries(options.limit);
        for (const delivery of failed) run.io.stdout.write(options.json ? `${toJson(delivery)}\n` : `${describeDelivery(delivery)}\n`);
      }, { readOnly: true });
    });

  webhooks.command('replay')
    .description('deliver an event again to the endpoints whose delivery failed (or to all with --all)')
    .argument('<event>', 'the event id (evt_…)', parseEventId)
    .option('--all', 'also the endpoints that received it')
    .option('--endpoint <id>', 'only this endpoint (we_…)')
    .addOption(databaseUrlOption())
    .action(async (eventId: string, options: { all?: boolean; endpoint?: string; databaseUrl?: string }) => {
      await withProjections(run, options, async ({ store, readModels }) => {
        const queued = await requeueDeliveries(readModels, eventId, { all: options.all, endpointId: options.endpoint, nowMs: systemClock.nowMs() });
        if (queued === 0) throw new CliError(`no ${options.all ? '' : 'failed '}delivery of ${eventId}${options.endpoint ? ` to ${options.endpoint}` : ''} to replay`, EXIT.dataerr);
        const endpoints = new WebhookEndpointsService(store, systemClock);
        // The store opens personal data (personalData below): a customer in the event is sent as the server sends it, never as ciphertext.
        const renderer = new StripeEventRenderer(store);
        const config = loadStripeConfig(run.io.env).webhooks;
        const dispatcher = new WebhookDispatcher({
          readModels, endpoint: (mode, id) => endpoints.endpoint(mode, id), render: (row) => renderer.body(row),
          schedule: config.retryScheduleMs, timeoutMs: config.timeoutMs, privateTargets: config.privateTargets,
        });
        await dispatcher.runOnce();
        const events = new PaymentEventsReadModel(store, readModels);
        for (const delivery of await events.eventDeliveries(eventId)) run.io.stdout.write(`${describeDelivery(delivery)}\n`);
      }, { readOnly: true, personalData: true });
    });
}

function describeDelivery(delivery: WebhookDeliveryRow): string {
  return [
    delivery.eventId, delivery.eventType, delivery.mode, delivery.endpointId, delivery.status, `${delivery.attempts} attempt(s)`,
    delivery.lastAttemptMs === null ? '-' : new Date(delivery.lastAttemptMs).toISOString(), JSON.stringify(delivery.lastError ?? ''),
  ].join('  ');
}
