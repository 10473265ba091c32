/** The error table: a row for every code (the compiler checks it too), and Stripe-shaped bodies that reveal nothing of bugs. */
import { describe, expect, it } from 'vitest';
import { DaybookError, ERROR_CODES } from '../kernel/index.ts';
import { ERROR_TABLE, exitCodeOf, GENERIC_ERROR_MESSAGE, httpStatusOf, toStripeError } from './errorTable.ts';

describe('ERROR_TABLE', () => {
  it('has exactly one row per error code', () => {
    expect(Object.keys(ERROR_TABLE).sort()).toEqual([...ERROR_CODES].sort());
  });

  it('uses only 4xx/5xx statuses and sysexits codes', () => {
    for (const row of Object.values(ERROR_TABLE)) {
      expect(row.http).toBeGreaterThanOrEqual(400);
      expect(row.http).toBeLessThan(600);
      expect([64, 65, 69, 70, 73, 74, 75, 78]).toContain(row.exit);
    }
  });

  it('keeps as the answer of an Idempotency-Key only what a retry cannot change', () => {
    const kept = (code: keyof typeof ERROR_TABLE) => ERROR_TABLE[code].recordable;
    // A 5xx, or a refusal before the domain decided (who, how often), may go the other way on a retry.
    for (const row of Object.values(ERROR_TABLE)) if (row.http >= 500 || [401, 403, 429].includes(row.http)) expect(row.recordable).toBe(false);
    for (const code of ['validation_failed', 'limit_exceeded', 'stream_version_conflict', 'store_unavailable', 'projection_rebuild_in_progress'] as const) expect(kept(code)).toBe(false);
    for (const code of ['exceeds_credits', 'account_closed', 'account_not_found', 'customer_not_found', 'event_id_conflict', 'transfer_exists_with_different_amount'] as const) expect(kept(code)).toBe(true);
  });
});

describe('toStripeError', () => {
  it('keeps the code, message and param of a DaybookError', () => {
    const error = new DaybookError('validation_failed', 'amount must be an integer', {}, 'amount');
    expect(toStripeError(error)).toEqual({ error: { type: 'invalid_request_error', code: 'validation_failed', message: 'amount must be an integer', param: 'amount' } });
    expect(httpStatusOf(error)).toBe(400);
    expect(exitCodeOf(error)).toBe(65);
  });

  it('leaves param out when there is none', () => {
    expect(toStripeError(new DaybookError('not_found', 'no such stream')).error).not.toHaveProperty('param');
  });

  it('answers anything else with a generic api_error, status 500 and exit 70', () => {
    const bug = new TypeError('cannot read properties of undefined (reading "balance")');
    expect(toStripeError(bug)).toEqual({ error: { type: 'api_error', message: GENERIC_ERROR_MESSAGE } });
    expect(httpStatusOf(bug)).toBe(500);
    expect(exitCodeOf(bug)).toBe(70);
  });
});
