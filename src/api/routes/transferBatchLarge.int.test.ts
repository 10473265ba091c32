/**
 * A large atomic batch (real SQLite, through `app.inject()`): its fraud
 * verdicts ride in its own append, so they must not push a chain the API
 * accepts (at most TRANSFERS_PER_BATCH_MAX items) past what one append holds.
 */
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/index.ts';
import { openApiHarness } from '../apiTestkit.ts';

const DAY_MS = Date.UTC(2026, 0, 5, 12);

describe('a large atomic transfer batch', () => {
  it('commits 600 linked transfers with a verdict each', async () => {
    const api = await openApiHarness({ clock: fixedClock(DAY_MS) });
    try {
      const headers = api.as('operator');
      for (const id of ['from', 'to']) expect((await api.app.inject({ method: 'POST', url: '/v1/accounts', payload: { id, currency: 'USD' }, headers })).statusCode).toBe(200);
      const transfers = Array.from({ length: 600 }, (_, i) => ({ id: `big-${i}`, debit_account_id: 'from', credit_account_id: 'to', amount: '1' }));
      const response = await api.app.inject({ method: 'POST', url: '/v1/transfers/batch', payload: { atomic: true, transfers }, headers });
      expect(response.statusCode, response.body.slice(0, 300)).toBe(200);
      expect(response.json()).toMatchObject({ succeeded: true });
      expect(await api.store.readStream('fraudcheck-ledger.test.big-0')).toHaveLength(1);
      expect(await api.store.readStream('fraudcheck-ledger.test.big-599')).toHaveLength(1);
    } finally {
      await api.close();
    }
  });
});
