/**
 * A PaymentIntent created and confirmed in one request is one durable write
 * (its PaymentMethod, intent, charge, ledger movements and Idempotency-Key
 * record: PaymentsService.createAndConfirmPaymentIntent). The real server
 * process (`bin/daybook.js serve`, SQLite) is SIGKILLed while many such
 * requests are in flight; after a restart on the same data folder every
 * acknowledged request replays its first answer, every request is either
 * wholly there or wholly absent (no intent without its charge, no charge
 * without its ledger movements: balance = sum of balance transactions' net),
 * and a retry with the same key answers each exactly once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, STRIPE_TEST_SECRET, stripeClient } from './stripeTestkit.ts';

const BIN = fileURLToPath(new URL('../../../bin/daybook.js', import.meta.url));
const REQUESTS = 48;
const AMOUNT = 1000;

function serve(dataDir: string): { child: ChildProcess; stripeUrl: Promise<string> } {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env, PORT: '0', DAYBOOK_STRIPE_PORT: '0', DAYBOOK_HOST: '127.0.0.1', DAYBOOK_DATA_DIR: dataDir, DAYBOOK_DATABASE_URL: '', LOG_LEVEL: 'warn',
      DAYBOOK_API_KEY: STRIPE_TEST_SECRET, DAYBOOK_API_KEY_PEPPER: 'p'.repeat(32), DAYBOOK_RATE_LIMIT_PER_S: '0',
    },
  });
  let output = '';
  const stripeUrl = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no Stripe listener line within 30 s:\n${output}`)), 30_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /^Stripe-compatible API listening on (http:\/\/\S+)$/m.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  return { child, stripeUrl };
}

async function killed(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

const createConfirm = (call: ReturnType<typeof stripeClient>, index: number): Promise<Answer> =>
  call('POST', '/v1/payment_intents', { amount: AMOUNT + index, currency: 'usd', payment_method: 'pm_card_visa', confirm: 'true' }, { 'idempotency-key': `crash-${index}` });

async function allPages(call: ReturnType<typeof stripeClient>, path: string): Promise<Array<Record<string, any>>> {
  const items: Array<Record<string, any>> = [];
  for (let page = await call('GET', path, { limit: 100 }); ; page = await call('GET', path, { limit: 100, starting_after: items.at(-1)!.id })) {
    items.push(...page.body.data);
    if (!page.body.has_more) return items;
  }
}

describe('a server killed while PaymentIntents are created and confirmed', () => {
  let dataDir: string;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'daybook-payments-crash-'));
  });
  afterAll(async () => {
    for (const child of children) await killed(child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps each request whole: acknowledged ones replay, the others are all there or absent, retries answer once', async () => {
    const first = serve(dataDir);
    children.push(first.child);
    const call = stripeClient(await first.stripeUrl);
    expect((await createConfirm(call, -1)).status).toBe(200);
    const acknowledged = new Map<number, Answer>();
    let settle!: () => void;
    const someAnswered = new Promise<void>((resolve) => { settle = resolve; });
    const inFlight = Array.from({ length: REQUESTS }, (_, index) => createConfirm(call, index).then((answer) => {
      acknowledged.set(index, answer);
      if (acknowledged.size >= 4) settle();
    }, () => undefined));
    await someAnswered;
    await killed(first.child);
    await Promise.all(inFlight);
    expect(acknowledged.size).toBeLessThan(REQUESTS);

    const second = serve(dataDir);
    children.push(second.child);
    const again = stripeClient(await second.stripeUrl);
    // Before any retry: every intent in the log is whole (succeeded, with its charge), none is half written.
    const before = await allPages(again, '/v1/payment_intents');
    for (const intent of before) expect(intent, intent.id).toMatchObject({ status: 'succeeded', amount_received: intent.amount });
    expect(before.length).toBeGreaterThanOrEqual(1 + [...acknowledged.values()].filter((answer) => answer.status === 200).length);

    for (let index = 0; index < REQUESTS; index += 1) {
      const retry = await createConfirm(again, index);
      expect(retry.status, JSON.stringify(retry.body)).toBe(200);
      expect(retry.body).toMatchObject({ status: 'succeeded', amount: AMOUNT + index });
      const answered = acknowledged.get(index);
      if (answered?.status === 200) {
        expect(retry.headers.get('idempotent-replayed')).toBe('true');
        expect(retry.body).toEqual(answered.body);
      }
      const twice = await createConfirm(again, index);
      expect(twice.headers.get('idempotent-replayed')).toBe('true');
      expect(twice.body).toEqual(retry.body);
    }

    const intents = await allPages(again, '/v1/payment_intents');
    const charges = await allPages(again, '/v1/charges');
    const transactions = await allPages(again, '/v1/balance_transactions');
    expect(intents).toHaveLength(REQUESTS + 1);
    expect(charges).toHaveLength(REQUESTS + 1);
    expect(transactions).toHaveLength(REQUESTS + 1);
    const balance = await again('GET', '/v1/balance');
    const usd = (side: 'available' | 'pending') => balance.body[side].find((item: { currency: string }) => item.currency === 'usd').amount as number;
    expect(usd('available') + usd('pending')).toBe(transactions.reduce((sum, txn) => sum + (txn.net as number), 0));
    expect(transactions.reduce((sum, txn) => sum + (txn.amount as number), 0)).toBe(intents.reduce((sum, intent) => sum + (intent.amount as number), 0));
  }, 120_000);
});
