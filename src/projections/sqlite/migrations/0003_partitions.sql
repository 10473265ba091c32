-- Partitioned projections shared by several workers (ProjectionWorkerGroup).

-- Who runs which partition of a projection, until when (ms since the epoch).
-- A worker extends its leases with its heartbeat; a lease not extended in time
-- is free for another worker to take.
CREATE TABLE IF NOT EXISTS projection_leases (
  name TEXT NOT NULL,
  partition INTEGER NOT NULL,
  owner TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (name, partition)
);

-- The live workers of a projection's group, for a fair share of its partitions.
CREATE TABLE IF NOT EXISTS projection_workers (
  name TEXT NOT NULL,
  owner TEXT NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  PRIMARY KEY (name, owner)
);

-- The partition of a dead letter's event: resolving a blocking one moves that partition's checkpoint.
ALTER TABLE projection_dead_letters ADD COLUMN partition INTEGER NOT NULL DEFAULT 0;
