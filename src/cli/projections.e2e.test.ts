/**
 * The projection commands of the real `bin/daybook.js` (`dlq`, `rebuild`,
 * `state-at`, `replay`), run as child processes against a temp SQLite store:
 * help, usage errors as one line with exit 64, an unknown projection named
 * clearly, state-at printing a stream's events as JSON, dlq list on a
 * store without dead letters printing nothing, and the built-in projections
 * over a store a banking service wrote: `rebuild` builds the banking read
 * model (then its next generation, blue-green) and `replay --to` builds it as
 * of a past position into a scratch file, both read back through the read
 * model's own queries.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bankingProjection, BankingService, SqlBankingReadModel } from '../banking/index.ts';
import { counterIds } from '../banking/banking.testkit.ts';
import { openEventStore } from '../eventstore/open.ts';
import { LEDGER_BALANCES_TABLE, ledgerBalancesProjection } from '../projections/builtin/index.ts';
import { dumpReadModel, openReadModelStore, queryProjection } from '../projections/index.ts';

const BIN = fileURLToPath(new URL('../../bin/daybook.js', import.meta.url));
let dir: string;
let url: string;

function daybook(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
    // The default store (sqlite:$DAYBOOK_DATA_DIR/daybook.db) is the test's: DAYBOOK_DATABASE_URL takes PostgreSQL only.
    env: { ...process.env, DAYBOOK_DATABASE_URL: '', DAYBOOK_DATA_DIR: dir },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const oneLine = (text: string): string[] => text.trim().split('\n');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'daybook-cli-projections-'));
  url = `sqlite:${join(dir, 'daybook.db')}`;
  const store = await openEventStore(url);
  try {
    await store.append({ streamId: 'acct-1', events: [{ type: 'Opened', data: { owner: 'ada' } }, { type: 'Deposited', data: { amount: 500 } }] });
    await store.append({ streamId: 'acct-2', events: [{ type: 'Opened', data: { owner: 'bob' } }] });
    await store.append({ streamId: 'acct-1', events: [{ type: 'Withdrawn', data: { amount: 200 } }] });
  } finally {
    await store.close();
  }
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('help', () => {
  it('lists the projection commands', () => {
    const result = daybook(['--help']);
    expect(result.status).toBe(0);
    for (const command of ['dlq', 'rebuild', 'state-at', 'replay']) expect(result.stdout).toContain(command);
  });

  it.each([['dlq'], ['dlq', 'list'], ['dlq', 'retry'], ['dlq', 'skip'], ['rebuild'], ['state-at'], ['replay']])('has --help on %s', (...command) => {
    const result = daybook([...command, '--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`Usage: daybook ${command.join(' ')}`);
  });
});

describe('unknown projection', () => {
  it('rebuild names it in one line and exits 64', () => {
    const result = daybook(['rebuild', 'no_such_projection']);
    expect(result.status).toBe(64);
    expect(oneLine(result.stderr)).toEqual([expect.stringMatching(/no projection named "no_such_projection".*projection_not_found/)]);
  });

  it('replay names it in one line and exits 64', () => {
    const result = daybook(['replay', '--projection', 'no_such_projection', '--to', '2']);
    expect(result.status).toBe(64);
    expect(oneLine(result.stderr)).toEqual([expect.stringContaining('no projection named "no_such_projection"')]);
  });
});

describe('state-at', () => {
  it('prints the stream up to a position as JSON', () => {
    const result = daybook(['state-at', 'acct-1', '--position', '3']);
    expect(result.status).toBe(0);
    const state = JSON.parse(result.stdout) as { streamId: string; version: string; position: string; state: Array<{ type: string; data: unknown; position: string }> };
    expect(state).toMatchObject({ streamId: 'acct-1', version: '2', position: '2' });
    expect(state.state.map((event) => [event.type, event.data])).toEqual([['Opened', { owner: 'ada' }], ['Deposited', { amount: 500 }]]);
  });

  it('prints the whole stream as of now, and nothing before the first event', () => {
    const now = daybook(['state-at', 'acct-1', '--time', new Date(Date.now() + 60_000).toISOString()]);
    expect(now.status).toBe(0);
    expect((JSON.parse(now.stdout) as { state: Array<{ type: string }> }).state.map((event) => event.type)).toEqual(['Opened', 'Deposited', 'Withdrawn']);
    const before = daybook(['state-at', 'acct-1', '--time', '2000-01-01T00:00:00Z']);
    expect(before.status).toBe(0);
    expect(JSON.parse(before.stdout)).toEqual({ streamId: 'acct-1', version: '0', position: '0', state: [] });
  });

  it.each([
    [['state-at', 'acct-1'], 'exactly one of --position'],
    [['state-at', 'acct-1', '--position', '1', '--time', '2025-01-01T00:00:00Z'], 'exactly one of --position'],
    [['state-at', 'acct-1', '--position', '-4'], 'non-negative integer'],
    [['state-at', 'acct-1', '--time', 'yesterday'], 'ISO 8601'],
  ])('refuses %j with one line and exit 64', (args, message) => {
    const result = daybook(args);
    expect(result.status).toBe(64);
    expect(oneLine(result.stderr)).toEqual([expect.stringContaining(message)]);
  });

  it('refuses a store that does not exist (exit 69)', () => {
    const result = daybook(['state-at', 'acct-1', '--position', '1', '--database-url', `sqlite:${join(dir, 'missing.db')}`]);
    expect(result.status).toBe(69);
    expect(oneLine(result.stderr)).toEqual([expect.stringContaining('no store at')]);
  });
});

describe('dlq', () => {
  it('list prints nothing and exits 0 when there are no dead letters', () => {
    const result = daybook(['dlq', 'list']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('');
  });

  it('retry and skip of an unknown id say so in one line (exit 65)', () => {
    for (const action of ['retry', 'skip']) {
      const result = daybook(['dlq', action, '42']);
      expect(result.status).toBe(65);
      expect(oneLine(result.stderr)).toEqual([expect.stringContaining('no dead letter 42')]);
    }
  });

  it('refuses a malformed id as a usage error (exit 64)', () => {
    const result = daybook(['dlq', 'skip', 'abc']);
    expect(result.status).toBe(64);
    expect(oneLine(result.stderr)).toEqual([expect.stringContaining('positive integer')]);
  });

  it('refuses an unknown status (exit 64)', () => {
    const result = daybook(['dlq', 'list', '--status', 'lost']);
    expect(result.status).toBe(64);
    expect(oneLine(result.stderr)).toHaveLength(1);
  });
});

describe('built-in projections', () => {
  let bankUrl: string;
  /** Head after the account was opened with 50.00, before the deposit of 7.00. */
  let afterOpening: bigint;

  beforeAll(async () => {
    bankUrl = `sqlite:${join(dir, 'bank.db')}`;
    const store = await openEventStore(bankUrl);
    const bank = await BankingService.open(store, { ids: counterIds() });
    try {
      await bank.registerCustomer({ customerId: 'cus-1', pii: { fullName: 'Ada Lovelace', email: 'ada@example.com' } });
      await bank.openAccount({ accountId: 'a', customerId: 'cus-1', accountType: 'checking', currency: 'USD', regulatoryTier: 'retail', initialBalanceMinor: 5_000n });
      afterOpening = await store.headPosition();
      await bank.deposit({ accountId: 'a', amountMinor: 700n, reference: 'later' });
    } finally {
      await bank.ledger.close();
      await store.close();
    }
  });

  async function withReadModels<T>(url: string, read: (readModels: Awaited<ReturnType<typeof openReadModelStore>>) => Promise<T>): Promise<T> {
    const readModels = await openReadModelStore(url);
    try {
      return await read(readModels);
    } finally {
      await readModels.close();
    }
  }

  it('rebuild builds the banking read model, then its next generation, and the answers stay the same', async () => {
    const first = daybook(['rebuild', 'banking_read_model', '--json', '--database-url', bankUrl]);
    expect(first.stderr).not.toContain('Error');
    expect(first.status).toBe(0);
    const built = JSON.parse(first.stdout) as { projection: string; version: number; eventsProcessed: number; position: string };
    expect(built).toMatchObject({ projection: 'banking_read_model' });
    expect(built.eventsProcessed).toBeGreaterThan(0);
    await withReadModels(bankUrl, async (readModels) => {
      const model = new SqlBankingReadModel(readModels);
      expect(await model.balance('a')).toMatchObject({ postedMinor: 5_700n, availableMinor: 5_700n, status: 'open' });
      expect((await model.history('a')).items.map((item) => item.reference)).toContain('later');
      const before = await dumpReadModel(readModels, bankingProjection);

      const second = daybook(['rebuild', 'banking_read_model', '--database-url', bankUrl]);
      expect(second.status).toBe(0);
      expect(second.stdout).toMatch(new RegExp(`^rebuilt banking_read_model: v${built.version} → v${built.version + 1} at position \\d+, \\d+ events in `));
      expect(await dumpReadModel(readModels, bankingProjection)).toBe(before);
      expect(await model.balance('a')).toMatchObject({ postedMinor: 5_700n });
    });
  });

  it('replay --to builds the banking read model as of a past position into a scratch file', async () => {
    const into = join(dir, 'bank-at-opening.db');
    const result = daybook(['replay', '--projection', 'banking_read_model', '--to', afterOpening.toString(), '--into', into, '--json', '--database-url', bankUrl]);
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ projection: 'banking_read_model', path: into, position: afterOpening.toString() });
    await withReadModels(`sqlite:${into}`, async (scratch) => {
      const model = new SqlBankingReadModel(scratch);
      expect(await model.balance('a')).toMatchObject({ postedMinor: 5_000n });
      expect((await model.history('a')).items.map((item) => item.reference)).not.toContain('later');
    });
    // The live read model was not touched.
    await withReadModels(bankUrl, async (readModels) => {
      expect(await new SqlBankingReadModel(readModels).balance('a')).toMatchObject({ postedMinor: 5_700n });
    });
  });

  it('rebuild and replay know ledger_balances too', async () => {
    expect(daybook(['rebuild', 'ledger_balances', '--database-url', bankUrl]).status).toBe(0);
    const into = join(dir, 'ledger-at-opening.db');
    expect(daybook(['replay', '--projection', 'ledger_balances', '--to', afterOpening.toString(), '--into', into, '--database-url', bankUrl]).status).toBe(0);
    const credits = (url: string) => withReadModels(url, (readModels) => queryProjection(readModels, ledgerBalancesProjection.name, (q) =>
      q.query<{ credits_posted: bigint }>(`SELECT credits_posted FROM ${q.table(LEDGER_BALANCES_TABLE)} WHERE account_id = $1`, ['acct:a'])));
    expect((await credits(bankUrl)).map((row) => row.credits_posted)).toEqual([5_700n]);
    expect((await credits(`sqlite:${into}`)).map((row) => row.credits_posted)).toEqual([5_000n]);
  });
});
