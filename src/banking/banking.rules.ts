import { DaybookError } from '../kernel/errors.ts';
import { parseRate } from '../kernel/decimal.ts';
import { EXCHANGE_RATE_DECIMALS, REPORTABLE_COMPLIANCE_SCORE, REPORTING_THRESHOLD_MINOR } from './banking.limits.ts';
import type { ComplianceFlags } from './banking.types.ts';

/**
 * Business rules shared by the deciders and the service: pure functions.
 */

/**
 * An exchange rate as recorded: a positive decimal string with exactly
 * `EXCHANGE_RATE_DECIMALS` decimals. More decimals than that are refused
 * (`validation_failed`) rather than rounded, so the recorded rate is the rate
 * the conversion used, exactly.
 *
 * @example
 * formatExchangeRate('0.92');        // '0.920000'
 * formatExchangeRate('1.1234567');   // throws validation_failed
 */
export function formatExchangeRate(rate: string, param = 'exchangeRate'): string {
  const parsed = parseRate(rate, param);
  if (parsed.scale > EXCHANGE_RATE_DECIMALS) {
    throw new DaybookError('validation_failed', `${param} ${rate} has ${parsed.scale} decimals; at most ${EXCHANGE_RATE_DECIMALS} are kept`, { decimals: parsed.scale }, param);
  }
  const units = parsed.units * 10n ** BigInt(EXCHANGE_RATE_DECIMALS - parsed.scale);
  const digits = units.toString().padStart(EXCHANGE_RATE_DECIMALS + 1, '0');
  return `${digits.slice(0, -EXCHANGE_RATE_DECIMALS)}.${digits.slice(-EXCHANGE_RATE_DECIMALS)}`;
}

export const UNIT_EXCHANGE_RATE = '1.000000';

/**
 * Whether a completed transaction must be reported to the regulator: its
 * amount reaches `REPORTING_THRESHOLD_MINOR` (10,000.00 in its own currency,
 * as a currency-transaction report), or its compliance score reaches
 * `REPORTABLE_COMPLIANCE_SCORE`, or an account it touches holds a politically
 * exposed person or is under enhanced due diligence.
 */
export function regulatoryReportingRequired(input: {
  amountMinor: bigint;
  complianceScore: number;
  parties: readonly ComplianceFlags[];
}): boolean {
  if (input.amountMinor >= REPORTING_THRESHOLD_MINOR) return true;
  if (input.complianceScore >= REPORTABLE_COMPLIANCE_SCORE) return true;
  return input.parties.some((flags) => flags.politicallyExposed || flags.enhancedDueDiligence);
}
