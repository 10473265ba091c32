import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BANKING_CURRENCIES, type TransactionResult } from '../../banking/index.ts';
import { DaybookError, isDaybookError } from '../../kernel/index.ts';
import { type BankingApi, bankingOf, internalId, movementKey, ofMode, operationContext, runBanking, transactionToWire } from '../bankingApi.ts';
import { useZod } from '../openapi.ts';
import { authOf } from '../security.ts';
import { amountInputWire, amountWire, errorResponses, idempotencyHeaderWire, idWire, parseAmount } from '../wire.ts';
import { bankTransactionWire, existingAccount } from './bankAccounts.routes.ts';
import { bankCustomerSubject, type ComplianceApi, type FraudCheck } from '../complianceApi.ts';
import { uuidv7 } from '../../kernel/index.ts';

const TAGS = ['Money movements'];
const bankIdWire = idWire.max(95);

const movementFields = {
  amount: amountInputWire,
  currency: z.enum(BANKING_CURRENCIES).optional().meta({ description: "Must be the paying account's currency when given." }),
  reference: z.string().max(140).optional(),
  compliance_score: z.number().int().min(0).max(100).optional().meta({ description: "0 (no risk) to 100, from the caller's screening." }),
};

/**
 * Deposits, withdrawals, transfers (one currency, or across currencies at a
 * rate) and payments out. Each answers the transaction: `completed`, or
 * `failed` with the ledger's code (the refusal is recorded, so a retry with
 * the same Idempotency-Key answers the same).
 */
/**
 * Money out of an account passes compliance first: refused while the
 * account's customer has an unresolved screening case, then scored for
 * fraud (the verdict recorded as `fraudcheck-<ref>`, a block refused where
 * DAYBOOK_FRAUD_ENFORCE enforces). The ref is the movement's idempotency
 * key when it has one, so a retry's check lands on the same stream.
 */
async function checkMoneyOut(
  banking: BankingApi, compliance: ComplianceApi, request: FastifyRequest, wireAccountId: string, param: string, amount: Parameters<typeof parseAmount>[0],
): Promise<FraudCheck | null> {
  const account = await existingAccount(banking, request, wireAccountId, param);
  await compliance.assertNotHeld(bankCustomerSubject(account.opened.customerId), `bank account '${wireAccountId}'`);
  const { mode, keyId } = authOf(request);
  const ref = `bank.${mode}.${movementKey(request) ?? uuidv7()}`;
  return compliance.checkFraud({ ref, amountMinor: parseAmount(amount), currency: account.opened.currency, mode, actor: keyId });
}

/** Executes a movement, then records its fraud verdict. */
async function recorded<T>(fraud: FraudCheck | null, run: () => Promise<T>): Promise<T> {
  const result = await run();
  await fraud?.record();
  return result;
}

export function bankMovementRoutes(banking: BankingApi, compliance: ComplianceApi): FastifyPluginAsync {
  return async (plain) => {
    useZod(plain);
    const app = plain.withTypeProvider<ZodTypeProvider>();
    const answer = (request: FastifyRequest, result: TransactionResult) => transactionToWire(result, authOf(request).mode);
    const common = (request: FastifyRequest, body: { currency?: (typeof BANKING_CURRENCIES)[number]; reference?: string; compliance_score?: number }) => ({
      idempotencyKey: movementKey(request), currency: body.currency, reference: body.reference, complianceScore: body.compliance_score,
    });
    const response = { 200: bankTransactionWire, ...errorResponses };

    app.post('/v1/deposits', {
      config: { permission: 'banking:write' },
      schema: { tags: TAGS, summary: 'Pay money into an account', headers: idempotencyHeaderWire, body: z.strictObject({ account_id: bankIdWire, ...movementFields }), response },
    }, async (request) => {
      const body = request.body;
      await existingAccount(banking, request, body.account_id, 'account_id');
      return answer(request, await runBanking(() => bankingOf(banking, request).deposit({
        ...common(request, body), accountId: internalId(request, body.account_id), amountMinor: parseAmount(body.amount),
      }, operationContext(request))));
    });

    app.post('/v1/withdrawals', {
      config: { permission: 'banking:write' },
      schema: { tags: TAGS, summary: 'Pay money out of an account', headers: idempotencyHeaderWire, body: z.strictObject({ account_id: bankIdWire, fee: amountInputWire.optional(), ...movementFields }), response },
    }, async (request) => {
      const body = request.body;
      const fraud = await checkMoneyOut(banking, compliance, request, body.account_id, 'account_id', body.amount);
      return answer(request, await recorded(fraud, () => runBanking(() => bankingOf(banking, request).withdraw({
        ...common(request, body), accountId: internalId(request, body.account_id), amountMinor: parseAmount(body.amount),
        feeMinor: body.fee === undefined ? undefined : parseAmount(body.fee),
      }, operationContext(request)))));
    });

    app.post('/v1/bank_transfers', {
      config: { permission: 'banking:write' },
      schema: {
        tags: TAGS, summary: 'Move money between two bank accounts (across currencies with exchange_rate)', headers: idempotencyHeaderWire,
        body: z.strictObject({
          from_account_id: bankIdWire, to_account_id: bankIdWire, fee: amountInputWire.optional(),
          exchange_rate: z.string().regex(/^(0|[1-9][0-9]*)(\.[0-9]{1,6})?$/, 'must be a decimal string with at most six decimals').optional()
            .meta({ description: 'Receiving-currency units per paying-currency unit; for accounts of different currencies.' }),
          ...movementFields,
        }),
        response,
      },
    }, async (request) => {
      const body = request.body;
      await existingAccount(banking, request, body.to_account_id, 'to_account_id');
      const fraud = await checkMoneyOut(banking, compliance, request, body.from_account_id, 'from_account_id', body.amount);
      const input = {
        ...common(request, body), fromAccountId: internalId(request, body.from_account_id), toAccountId: internalId(request, body.to_account_id),
        amountMinor: parseAmount(body.amount), feeMinor: body.fee === undefined ? undefined : parseAmount(body.fee),
      };
      const bank = bankingOf(banking, request);
      const exchangeRate = body.exchange_rate;
      return answer(request, await recorded(fraud, () => runBanking(() => (exchangeRate === undefined
        ? bank.transfer(input, operationContext(request))
        : bank.transferCrossCurrency({ ...input, exchangeRate }, operationContext(request))))));
    });

    app.post('/v1/bank_payments', {
      config: { permission: 'banking:write' },
      schema: {
        tags: TAGS, summary: 'Pay an external account (beneficiary) through clearing', headers: idempotencyHeaderWire,
        body: z.strictObject({ from_account_id: bankIdWire, beneficiary: z.string().min(1).max(100), fee: amountInputWire.optional(), ...movementFields }), response,
      },
    }, async (request) => {
      const body = request.body;
      const fraud = await checkMoneyOut(banking, compliance, request, body.from_account_id, 'from_account_id', body.amount);
      return answer(request, await recorded(fraud, () => runBanking(() => bankingOf(banking, request).pay({
        ...common(request, body), fromAccountId: internalId(request, body.from_account_id), beneficiary: body.beneficiary,
        amountMinor: parseAmount(body.amount), feeMinor: body.fee === undefined ? undefined : parseAmount(body.fee),
      }, operationContext(request)))));
    });

    app.get('/v1/bank_transactions/:id', {
      config: { permission: 'banking:read' },
      schema: { tags: TAGS, summary: 'Retrieve a bank transaction', params: z.strictObject({ id: bankIdWire }), response },
    }, async (request) => {
      const bank = bankingOf(banking, request);
      for (const candidate of [internalId(request, request.params.id), request.params.id]) {
        let result: TransactionResult;
        try {
          result = await bank.transaction(candidate);
        } catch (error) {
          if (isDaybookError(error, 'transaction_not_found') || isDaybookError(error, 'validation_failed')) continue;
          throw error;
        }
        // Ids derived from idempotency keys carry no mode: the accounts say whose it is.
        if (ofMode(request, result.initiated.fromAccountId) || ofMode(request, result.initiated.toAccountId)) return answer(request, result);
      }
      throw new DaybookError('transaction_not_found', `No such bank transaction: '${request.params.id}'`, {}, 'id');
    });
  };
}
