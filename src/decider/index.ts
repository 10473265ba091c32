export * from './decider.ts';
export * from './deciderSpec.ts';
export { deepEqual } from './deepEqual.ts';
export { type Loaded, StreamStates } from './streamStates.ts';
