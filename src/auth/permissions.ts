import type { Role } from './apiKey.ts';

/**
 * What a route may need. Every `/v1` route declares exactly one permission
 * (`config.permission`); `ROLE_PERMISSIONS` is the one table saying which
 * role holds which. The RBAC test walks every registered route against it.
 */
export const PERMISSIONS = [
  /** Ledger accounts, their balances and history: read. */
  'ledger:read',
  /** Open, close, reopen ledger accounts; transfers; journal entries. */
  'ledger:write',
  /** Customers' personal data (names, emails, addresses): read. */
  'customers:read',
  'customers:write',
  /** Bank accounts, deposits, withdrawals, transfers, transaction history (no personal data). */
  'banking:read',
  'banking:write',
  /** The raw event history of any aggregate: the audit log. */
  'events:read',
  /** The live event feed (`GET /v1/stream`), filtered further by role. */
  'stream:read',
  /** Create, list and revoke API keys. */
  'keys:manage',
  /** Stripe-compatible payments (payment methods, payment intents, charges, refunds, balance): read. Stripe customers need `customers:*`. */
  'payments:read',
  'payments:write',
  /** Regulatory and audit reports (`GET /v1/reports/…`): settlement, CTR/SAR candidates, statements, trial balance, audit trail. */
  'reports:read',
  /** Erase a data subject (crypto-shredding: its data key is destroyed for good). */
  'privacy:erase',
  /** Export everything held about a data subject (subject access request). */
  'privacy:export',
  /** Approval requests (maker-checker): list and read them. Makers see what waits on their actions. */
  'approvals:read',
  /** Approve or reject another key's approval request (never one's own). */
  'approvals:approve',
  /** The access audit: who read which personal data, when and why. */
  'audit:read',
  /** AML alerts and their cases: read. */
  'aml:read',
  /** Open an AML case and take its steps (investigate, note, close, escalate as a SAR). */
  'aml:review',
  /** Sanctions screening cases: list, read, clear or confirm them (the analyst's queue). */
  'compliance:review',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** The one table: which role may do what. */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  admin: PERMISSIONS,
  operator: ['ledger:read', 'ledger:write', 'customers:read', 'customers:write', 'banking:read', 'banking:write', 'stream:read', 'payments:read', 'payments:write', 'approvals:read'],
  auditor: ['ledger:read', 'customers:read', 'banking:read', 'events:read', 'stream:read', 'payments:read', 'reports:read', 'privacy:export', 'approvals:read', 'audit:read', 'aml:read'],
  support: ['ledger:read', 'banking:read', 'stream:read', 'payments:read'],
  service: ['ledger:read', 'ledger:write', 'customers:read', 'customers:write', 'banking:read', 'banking:write', 'stream:read', 'payments:read', 'payments:write', 'approvals:read'],
  // The checker: no write of its own, so that approving is never also doing.
  approver: ['ledger:read', 'banking:read', 'approvals:read', 'approvals:approve'],
  // The compliance analyst: decides screening cases, reads the customers and accounts behind them, moves no money.
  analyst: ['customers:read', 'banking:read', 'payments:read', 'compliance:review', 'aml:read', 'aml:review'],
};

export function hasPermission(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

/**
 * Which event categories (stream-id prefixes) a role sees on the live feed.
 * Support and approvers see no category holding personal data; only admins
 * and auditors see the system categories (`apikey`, `idempotency`,
 * `accessaudit`).
 */
export const BUSINESS_CATEGORIES_WITHOUT_PII: readonly string[] = ['ledger', 'bankaccount', 'banktxn', 'psettlement', 'approval'];
/** Payment methods, intents and payouts hold billing details, receipt emails, shipping, descriptions, metadata and dispute evidence. */
export const BUSINESS_CATEGORIES_WITH_PII: readonly string[] = ['customer', 'pcustomer', 'paccount', 'pmethod', 'pintent', 'ppayout'];

export const ROLE_STREAM_CATEGORIES: Readonly<Record<Role, 'all' | readonly string[]>> = {
  admin: 'all',
  auditor: 'all',
  operator: [...BUSINESS_CATEGORIES_WITHOUT_PII, ...BUSINESS_CATEGORIES_WITH_PII],
  service: [...BUSINESS_CATEGORIES_WITHOUT_PII, ...BUSINESS_CATEGORIES_WITH_PII],
  support: BUSINESS_CATEGORIES_WITHOUT_PII,
  approver: BUSINESS_CATEGORIES_WITHOUT_PII,
  analyst: [...BUSINESS_CATEGORIES_WITHOUT_PII, ...BUSINESS_CATEGORIES_WITH_PII],
};

export function mayStreamCategory(role: Role, category: string): boolean {
  const allowed = ROLE_STREAM_CATEGORIES[role];
  return allowed === 'all' || allowed.includes(category);
}
