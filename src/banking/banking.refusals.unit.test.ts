/** Ledger refusals told in the bank's words: the bank account's id, not its ledger account's, and no ledger field names. */
import { describe, expect, it } from 'vitest';
import { inBankingTerms } from './banking.freezing.ts';

describe('inBankingTerms', () => {
  it('says insufficient funds for a debit past the balance of a customer account', () => {
    expect(inBankingTerms({ code: 'exceeds_credits', message: 'account acct:chk: debits would exceed its credits', details: { accountId: 'acct:chk' }, param: 'debitAccountId' }))
      .toEqual({ code: 'exceeds_credits', message: 'account chk has insufficient funds', details: { accountId: 'acct:chk' }, param: 'debitAccountId' });
  });

  it('answers a racing second open with other details without the ledger field names', () => {
    const told = inBankingTerms({ code: 'account_exists_with_different_fields', message: 'account acct:bz exists with different code', details: { accountId: 'acct:bz', fields: ['code'] }, param: 'code' });
    expect(told).toMatchObject({ code: 'account_exists_with_different_fields', message: 'account bz exists already, opened with other details', param: undefined });
  });

  it('leaves other refusals as they are, less the ledger prefix of account ids', () => {
    expect(inBankingTerms({ code: 'account_closed', message: 'account acct:x is closed', details: { accountId: 'acct:x' } }).message).toBe('account x is closed');
    expect(inBankingTerms({ code: 'exceeds_credits', message: 'account clearing:USD: debits would exceed its credits', details: { accountId: 'clearing:USD' } }).message)
      .toBe('account clearing:USD: debits would exceed its credits');
  });
});
