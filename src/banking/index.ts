/**
 * Banking: customers (personal data kept apart for crypto-shredding), bank
 * accounts (checking, savings, investment; USD, EUR, GBP; regulatory tiers
 * with limits; compliance flags) and their transactions, as pure deciders;
 * an application service that books every movement in the ledger; and the
 * read models (balances, history, as-of balances) behind one interface.
 */
export * from './banking.types.ts';
export * from './banking.limits.ts';
export { formatExchangeRate, regulatoryReportingRequired, UNIT_EXCHANGE_RATE } from './banking.rules.ts';
export * from './customer.commands.ts';
export * from './customer.events.ts';
export { customerDecider, type CustomerState } from './customer.decider.ts';
export * from './bankAccount.commands.ts';
export * from './bankAccount.events.ts';
export { bankAccountDecider, requireMovable, usedOn, type BankAccountState, type DailyUsage, type OpenedAccountState } from './bankAccount.decider.ts';
export * from './transaction.commands.ts';
export * from './transaction.events.ts';
export { transactionDecider, type TransactionState } from './transaction.decider.ts';
export {
  cashAccount, clearingAccount, customerLedgerAccount, entryIdOf, feeAccount, fxAccount, fxRoundingAccount, LEDGER_CODES, ledgerOf,
} from './banking.ledgerPlan.ts';
export { BANKING_STREAM_PREFIXES } from './banking.runtime.ts';
export * from './banking.service.types.ts';
export { BankingService, type BankingServiceOptions } from './banking.service.ts';
export * from './banking.readModel.ts';
export { BANKING_READ_MODEL_EVENT_TYPES, InMemoryBankingReadModel } from './banking.readModel.memory.ts';
export { BANKING_PROJECTION_NAME, BANKING_TABLES, bankingProjection } from './banking.readModel.projection.ts';
export { type PositionWaiter, SqlBankingReadModel } from './banking.readModel.sql.ts';
