/** Daybook's public API. */
export * from './eventstore/index.ts';
export { openEventStore, type OpenEventStoreOptions } from './eventstore/open.ts';
export { DaybookError, isDaybookError } from './kernel/errors.ts';
export type { ErrorCode } from './kernel/errorCodes.ts';
