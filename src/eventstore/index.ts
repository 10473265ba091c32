export * from './eventStore.ts';
export type { EventStoreOptions } from './createEventStore.ts';
export type { Upcaster } from './upcasters.ts';
export { canonicalEnvelope, eventHash } from './hashChain.ts';
