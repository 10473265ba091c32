/**
 * A batch's fraud verdicts commit with the batch's own append (real SQLite,
 * through `app.inject()`): an item that goes through has exactly one
 * verdict, one refused has none (its own or a linked chain's refusal), and
 * a repeated batch writes no second verdict.
 */
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/index.ts';
import { type ApiHarness, openApiHarness } from '../apiTestkit.ts';

const DAY_MS = Date.UTC(2026, 0, 5, 12);

async function post(api: ApiHarness, url: string, payload: object) {
  const response = await api.app.inject({ method: 'POST', url, payload, headers: api.as('operator') });
  return { status: response.statusCode, body: response.json() };
}

async function verdicts(api: ApiHarness, id: string): Promise<number> {
  return (await api.store.readStream(`fraudcheck-ledger.test.${id}`)).length;
}

async function posted(api: ApiHarness, id: string): Promise<boolean> {
  return (await api.app.inject({ method: 'GET', url: `/v1/transfers/${id}`, headers: api.as('admin') })).statusCode === 200;
}

describe('fraud verdicts of a transfer batch', () => {
  it('writes a verdict for each item that commits and none for a refused one, atomic or not, and none again on a repeat', async () => {
    const api = await openApiHarness({ clock: fixedClock(DAY_MS) });
    try {
      for (const id of ['from', 'to']) expect((await post(api, '/v1/accounts', { id, currency: 'USD' })).status).toBe(200);
      const item = { debit_account_id: 'from', credit_account_id: 'to', amount: '100' };
      expect((await post(api, '/v1/transfers', { id: 'taken', ...item })).status).toBe(200);
      expect(await verdicts(api, 'taken')).toBe(1);

      // Not atomic: the first goes through, the second (an id taken with another amount) is refused by the ledger.
      const loose = await post(api, '/v1/transfers/batch', { atomic: false, transfers: [{ id: 'loose-ok', ...item }, { id: 'taken', ...item, amount: '200' }] });
      expect(loose.status).toBe(200);
      expect([await posted(api, 'loose-ok'), await verdicts(api, 'loose-ok'), await verdicts(api, 'taken')]).toEqual([true, 1, 1]);

      // Atomic: the refused item takes the whole chain with it, so neither item has a transfer nor a verdict.
      const chain = await post(api, '/v1/transfers/batch', { atomic: true, transfers: [{ id: 'chain-a', ...item }, { id: 'taken', ...item, amount: '300' }] });
      expect(chain.body).toMatchObject({ succeeded: false });
      expect([await posted(api, 'chain-a'), await verdicts(api, 'chain-a'), await verdicts(api, 'taken')]).toEqual([false, 0, 1]);

      // The same batch again (ids repeated): the items are replays, and no second verdict is written.
      const again = await post(api, '/v1/transfers/batch', { atomic: false, transfers: [{ id: 'loose-ok', ...item }, { id: 'new-one', ...item }] });
      expect(again.status).toBe(200);
      expect([await verdicts(api, 'loose-ok'), await verdicts(api, 'new-one')]).toEqual([1, 1]);
    } finally {
      await api.close();
    }
  });
});
