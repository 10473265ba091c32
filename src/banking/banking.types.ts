import type { Currency } from '../kernel/money.ts';

/**
 * The vocabulary of the banking module: the closed lists its commands and
 * events draw from. Every list is a const tuple so the edges can validate
 * input against it and the types follow from it.
 */
export const ACCOUNT_TYPES = ['checking', 'savings', 'investment'] as const;
export type BankAccountType = (typeof ACCOUNT_TYPES)[number];

/** The currencies bank accounts may hold (all three have two decimals). */
export const BANKING_CURRENCIES = ['USD', 'EUR', 'GBP'] as const satisfies readonly Currency[];
export type BankingCurrency = (typeof BANKING_CURRENCIES)[number];

/** A regulatory tier sets an account's limits (see `TIER_LIMITS` in banking.limits.ts). */
export const REGULATORY_TIERS = ['retail', 'professional', 'institutional'] as const;
export type RegulatoryTier = (typeof REGULATORY_TIERS)[number];

export const CLOSURE_REASONS = ['customer_request', 'regulatory', 'fraud'] as const;
export type ClosureReason = (typeof CLOSURE_REASONS)[number];

/**
 * `deposit` is ours: the reference platform lists transfer, payment and
 * withdrawal only, and has no name for money coming in from cash or a
 * settlement account.
 */
export const TRANSACTION_TYPES = ['deposit', 'transfer', 'payment', 'withdrawal'] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];

export const CUSTOMER_KINDS = ['individual', 'business'] as const;
export type CustomerKind = (typeof CUSTOMER_KINDS)[number];

/** Compliance flags on an account; they feed the regulatory-reporting rule (banking.rules.ts). */
export type ComplianceFlags = {
  /** Identity verified (know your customer). */
  readonly kycVerified: boolean;
  /** Screened against sanctions lists. */
  readonly sanctionsScreened: boolean;
  /** The holder is a politically exposed person. */
  readonly politicallyExposed: boolean;
  /** Under enhanced due diligence. */
  readonly enhancedDueDiligence: boolean;
};

export const COMPLIANCE_FLAG_NAMES = ['kycVerified', 'sanctionsScreened', 'politicallyExposed', 'enhancedDueDiligence'] as const satisfies readonly (keyof ComplianceFlags)[];

export const NO_COMPLIANCE_FLAGS: ComplianceFlags = {
  kycVerified: false, sanctionsScreened: false, politicallyExposed: false, enhancedDueDiligence: false,
};

/** Context every operation may carry; it ends up in each event's metadata. */
export type OperationContext = {
  /** Ties together every event of one business operation (generated when absent). */
  readonly correlationId?: string;
  /** The message that caused this operation (the first event's causation id). */
  readonly causationId?: string;
  readonly actor?: string;
};

export function isOneOf<T extends string>(list: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (list as readonly string[]).includes(value);
}
