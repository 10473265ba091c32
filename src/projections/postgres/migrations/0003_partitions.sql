-- Partitioned projections shared by several workers (ProjectionWorkerGroup).

-- Who runs which partition of a projection, until when (ms since the epoch,
-- PostgreSQL's clock). A worker extends its leases with its heartbeat; a lease
-- not extended in time is free for another worker to take.
CREATE TABLE IF NOT EXISTS daybook.projection_leases (
  name text COLLATE "C" NOT NULL,
  partition bigint NOT NULL,
  owner text NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (name, partition)
);

-- The live workers of a projection's group, for a fair share of its partitions.
CREATE TABLE IF NOT EXISTS daybook.projection_workers (
  name text COLLATE "C" NOT NULL,
  owner text NOT NULL,
  heartbeat_at bigint NOT NULL,
  PRIMARY KEY (name, owner)
);

-- The partition of a dead letter's event: resolving a blocking one moves that partition's checkpoint.
ALTER TABLE daybook.projection_dead_letters ADD COLUMN IF NOT EXISTS partition bigint NOT NULL DEFAULT 0;
