/** What a runner reports about itself: plain data, for `/metrics` gauges and `/readyz` details. */
import type { LagHistogramSnapshot } from './lagHistogram.ts';
import type { PoisonPolicy } from './projection.ts';

export type RunnerState = 'idle' | 'starting' | 'rebuilding' | 'catching_up' | 'live' | 'blocked' | 'stopping' | 'stopped' | 'failed';

export interface ProjectionStatus {
  name: string;
  partition: number;
  state: RunnerState;
  policy: PoisonPolicy;
  /** The generation this runner writes (0 before it started). */
  version: number;
  definitionVersion: number;
  /** Last position whose effect is committed (events the projection does not handle count as done once passed). */
  checkpoint: bigint;
  head: bigint;
  positionsBehind: bigint;
  /** Age of the oldest event not yet reflected, in seconds (0 when caught up). */
  secondsBehind: number;
  lastCommittedAt: Date | null;
  /** Since this runner started. */
  eventsApplied: number;
  batchesCommitted: number;
  parkedEvents: number;
  /** Set while stopped on a poison event (policy `stop`). */
  blockedOn: { position: bigint; eventId: string; error: string; attempts: number } | null;
  /** Why the runner failed (state `failed`). */
  failure: { code: string; message: string } | null;
  lag: LagHistogramSnapshot;
}
