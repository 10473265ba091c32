export { describeEventStoreConformance } from './eventStoreConformance.ts';
export type { ConformanceFactory, ConformanceHarness } from './harness.ts';
