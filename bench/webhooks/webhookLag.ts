/**
 * Webhook delivery lag: from the event's commit (its `recordedAt` in the log)
 * to the endpoint's receipt, p50 / p99 / max, on a real server (SQLite in a
 * temp folder, or PostgreSQL with DAYBOOK_DATABASE_URL) and a real local
 * receiver. Customers are created by `CONCURRENCY` clients at once, each
 * making one `customer.created` webhook. No assertions: it prints figures.
 *
 * Usage: npx tsx bench/webhooks/webhookLag.ts [count=500] [concurrency=8]
 * (DAYBOOK_DATABASE_URL=postgres://… for PostgreSQL: use an empty database)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripeClient, STRIPE_TEST_SECRET } from '../../src/api/stripe/stripeTestkit.ts';
import { startWebhookReceiver } from '../../src/api/stripe/webhookTestReceiver.ts';
import { createLogger, loadConfig } from '../../src/edge/index.ts';
import { startServer } from '../../src/main.ts';

const count = Number(process.argv[2] ?? 500);
const concurrency = Number(process.argv[3] ?? 8);
const dir = mkdtempSync(join(tmpdir(), 'daybook-webhook-lag-'));
const config = loadConfig({
  PORT: '0', DAYBOOK_DATA_DIR: dir, DAYBOOK_API_KEY: STRIPE_TEST_SECRET, DAYBOOK_API_KEY_PEPPER: 'p'.repeat(32), LOG_LEVEL: 'silent', DAYBOOK_RATE_LIMIT_PER_S: '0',
  ...(process.env.DAYBOOK_DATABASE_URL ? { DAYBOOK_DATABASE_URL: process.env.DAYBOOK_DATABASE_URL } : {}),
});
const server = await startServer(config, { logger: createLogger({ level: 'silent' }) });
const receiver = await startWebhookReceiver();
const call = stripeClient(server.stripe.url);
await call('POST', '/v1/webhook_endpoints', { url: receiver.url, enabled_events: ['customer.created'] });
const started = Date.now();
let next = 0;
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (next < count) {
    next += 1;
    const answer = await call('POST', '/v1/customers', { description: `lag ${next}` });
    if (answer.status !== 200) throw new Error(JSON.stringify(answer.body));
  }
}));
await receiver.waitFor((received) => received.length >= count, 60_000);
const elapsedMs = Date.now() - started;
const lags: number[] = [];
for (const webhook of receiver.received) {
  const row = await server.stripe.webhooks.api.events.event('test', webhook.event.id);
  const [recorded] = await server.store.readAll({ after: row!.position - 1n, limit: 1 });
  lags.push(webhook.receivedAtMs - recorded!.recordedAt.getTime());
}
lags.sort((a, b) => a - b);
const at = (q: number) => lags[Math.min(lags.length - 1, Math.ceil(q * lags.length) - 1)];
process.stdout.write(`${server.storeDescription}: ${lags.length} webhooks (${concurrency} clients, ${Math.round((count / elapsedMs) * 1000)} customers/s): lag p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${lags.at(-1)} ms\n`);
await server.close();
await receiver.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
