/**
 * The processing-fee schedule (pure). A fee is a percentage of the captured
 * amount plus a fixed part, in integer minor units:
 *
 *   fee = floor((amount × percentBps + 5 000) / 10 000) + fixedMinor
 *
 * that is, the percentage part rounded half up to the minor unit (2.9% of
 * 1 050 is 30.45 → 30; of 1 000 is 29), then the fixed part added. Stripe
 * keeps the fee when a charge is refunded, and so do we.
 *
 * @example
 * processingFeeMinor(2000n, DEFAULT_FEE_SCHEDULE) // 88n: 58 + 30
 */
export type FeeSchedule = {
  /** Basis points of the captured amount: 290 is 2.9%. */
  readonly percentBps: bigint;
  /** Added to every fee, in the charge currency's minor units. */
  readonly fixedMinor: bigint;
};

export const DEFAULT_FEE_SCHEDULE: FeeSchedule = { percentBps: 290n, fixedMinor: 30n };

const BPS_PER_UNIT = 10_000n;

export function processingFeeMinor(amountMinor: bigint, schedule: FeeSchedule): bigint {
  if (amountMinor <= 0n) return 0n;
  return (amountMinor * schedule.percentBps + BPS_PER_UNIT / 2n) / BPS_PER_UNIT + schedule.fixedMinor;
}
