/**
 * The ledger domain: pure deciders for accounts, transfers (single,
 * two-phase, linked, balancing) and journal entries (multi-leg, FX, fees,
 * reversals), and a batch engine core that decides thousands of transfers
 * against in-memory state for one group-committed append.
 */
export * from './ledger.types.ts';
export * from './ledger.commands.ts';
export * from './ledger.events.ts';
export * from './ledger.errors.ts';
export * from './ledger.limits.ts';
export * from './ledger.results.ts';
export { createLedgerState, LedgerMaps, LedgerOverlay, type LedgerState, type LedgerView, type LedgerWriter } from './ledger.state.ts';
export { applyLedgerEvent } from './ledger.evolve.ts';
export { decideLedgerCommand } from './ledger.decide.ts';
export { decideLedgerBatch, type LedgerBatchDecision } from './ledger.batch.ts';
export { ledgerDecider, ledgerRejectionOf } from './ledger.decider.ts';
export { applyLedgerCommand, replayLedgerEvents } from './ledger.engine.ts';
export { encodeLedgerEvent, decodeLedgerEvent, LEDGER_EVENT_SCHEMA_VERSION, type EncodedLedgerEvent } from './ledger.codec.ts';
export { availableToCredit, availableToDebit, balancesAsOf, flagViolation, ZERO_BALANCES } from './balances.ts';
export { convertForEntry, fxLegs } from './fx.ts';
export { type LedgerAttachment, LedgerEngine, LEDGER_SNAPSHOT_EVERY_EVENTS, LEDGER_SNAPSHOT_ON_CLOSE_MIN_EVENTS, type LedgerEngineOptions, type LedgerRequest } from './ledger.service.ts';
export { decodeLedgerSnapshot, encodeLedgerSnapshot, LEDGER_SNAPSHOT_SCHEMA_VERSION, type LedgerOpenedFrom, type LedgerSnapshotState } from './ledger.snapshot.ts';
export { PostgresPartitionLeases, type LeaseClaim, type PartitionLease, type PostgresPartitionLeasesOptions } from './ledger.leases.ts';
