export {
  allPartitions, defineProjection, matchesFilter, partitionCount, partitionOf, PARTITIONS_MAX, ProjectionRegistry, versionedTable,
  type PoisonPolicy, type ProjectionDefinition, type ProjectionFilter, type ProjectionTx,
} from './projection.ts';
export {
  openReadModelStore, type OpenReadModelStoreOptions, type ReadModelStore, type SqlDialect, type SqlExecutor, type WriteTx,
} from './readModelStore.ts';
export type { ApplyOutcome, BatchCommitted, FaultHooks, PoisonInfo, RetryPolicy } from './batchProcessor.ts';
export { ProjectionRunner, type ProjectionRunnerOptions } from './runner.ts';
export type { ProjectionStatus, RunnerState } from './projectionStatus.ts';
export { rebuildProjection, type RebuildContext, type RebuildOptions, type RebuildProgress, type RebuildResult } from './rebuild.ts';
export { replayProjection, stateAt, type ReplayOptions, type ReplayResult, type StateFolder, type StatePoint, type StreamStateAt } from './replay.ts';
export {
  countDeadLetters, listDeadLetters, retryDeadLetter, skipDeadLetter,
  type DeadLetter, type DeadLetterContext, type DeadLetterStatus, type ListDeadLettersOptions,
} from './deadLetters.ts';
export { dumpReadModel, mutateProjection, projectionPosition, queryProjection, waitForPosition, type WaitOptions } from './queries.ts';
export { LAG_BUCKETS_MS, LagHistogram, type LagHistogramSnapshot } from './lagHistogram.ts';
export {
  createProjectionEngine, ProjectionEngine, type HealthOptions, type HealthReport, type ProjectionEngineOptions, type ProjectionHealth,
} from './engine.ts';
export { ProjectionWorkerGroup, type WorkerGroupOptions } from './workerGroup.ts';
export { defineRelay, isRelay, relayTable, type RelayDefinition, type RelayDeliverer, type RelayDelivery, type RelayOptions } from './relay.ts';
export {
  createHttpDeliverer, relayEventBody, signDaybookBody, verifyDaybookSignature, type HttpDelivererOptions, type RelayEventBody, type VerifyOptions,
} from './relayHttp.ts';
export { type LogReader, sharedLog, SharedLog } from './sharedLog.ts';
export {
  readSharedProjectionStatus, sharedProjectionHealth, type SharedPartitionStatus, type SharedStatusContext,
} from './sharedStatus.ts';
export { formatLsn, openReplicaReadModels, parseLsn, REPLICA_POLL_MS, ReplicaMonitor, type ReplicaReadModels, type ReplicaStatus } from './replica.ts';
