import { DaybookError } from '../../kernel/index.ts';

/**
 * Thresholds of the AML rules. Amounts are minor units and apply in each
 * currency as they are (no conversion): 1,000,000 is 10,000.00 USD, EUR or
 * GBP. Durations are milliseconds.
 */
export type AmlConfig = {
  /** Cash in (or out) per customer per UTC day above this is a CTR candidate. */
  readonly ctrThresholdMinor: bigint;
  /** A transaction of at least this percentage of the CTR threshold, and below it, is "just under" it. */
  readonly structuringLowerPercent: bigint;
  /** This many "just under" transactions within the window (summing above the threshold) are structuring. */
  readonly structuringMinCount: number;
  readonly structuringWindowMs: number;
  /** Out of an account within the window, as a percentage of what came in. */
  readonly rapidMovementOutPercent: bigint;
  readonly rapidMovementWindowMs: number;
  /** Inflows smaller than this in total are not watched for rapid movement (noise). */
  readonly rapidMovementMinInflowMinor: bigint;
  /** More than this many transactions of one customer within the window are a velocity alert. */
  readonly velocityMaxCount: number;
  readonly velocityWindowMs: number;
};

const HOUR_MS = 3_600_000;

export const DEFAULT_AML_CONFIG: AmlConfig = {
  ctrThresholdMinor: 1_000_000n,
  structuringLowerPercent: 80n,
  structuringMinCount: 3,
  structuringWindowMs: 24 * HOUR_MS,
  rapidMovementOutPercent: 90n,
  rapidMovementWindowMs: 24 * HOUR_MS,
  rapidMovementMinInflowMinor: 100_000n,
  velocityMaxCount: 10,
  velocityWindowMs: HOUR_MS,
};

/** The longest window any rule looks back over: how much history a customer's state keeps. */
export function longestWindowMs(config: AmlConfig): number {
  return Math.max(config.structuringWindowMs, config.rapidMovementWindowMs, config.velocityWindowMs, 24 * HOUR_MS);
}

/** Checks a configuration once, where it is made: a bad threshold is refused with the field it names. */
export function amlConfig(overrides: Partial<AmlConfig> = {}): AmlConfig {
  const config = { ...DEFAULT_AML_CONFIG, ...overrides };
  const invalid = (field: string, rule: string): never => {
    throw new DaybookError('validation_failed', `AML configuration: ${field} ${rule}`, {}, field);
  };
  if (config.ctrThresholdMinor <= 0n) invalid('ctrThresholdMinor', 'must be positive');
  if (config.structuringLowerPercent <= 0n || config.structuringLowerPercent >= 100n) invalid('structuringLowerPercent', 'must be between 1 and 99');
  if (config.rapidMovementOutPercent <= 0n || config.rapidMovementOutPercent > 100n) invalid('rapidMovementOutPercent', 'must be between 1 and 100');
  if (config.rapidMovementMinInflowMinor < 0n) invalid('rapidMovementMinInflowMinor', 'must not be negative');
  for (const field of ['structuringMinCount', 'velocityMaxCount'] as const) {
    if (!Number.isSafeInteger(config[field]) || config[field] < 1) invalid(field, 'must be a positive integer');
  }
  for (const field of ['structuringWindowMs', 'rapidMovementWindowMs', 'velocityWindowMs'] as const) {
    if (!Number.isSafeInteger(config[field]) || config[field] < 1) invalid(field, 'must be a positive integer of milliseconds');
  }
  return config;
}
