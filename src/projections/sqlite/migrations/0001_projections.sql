-- The projections' own tables, beside the event store's. Times are milliseconds since the epoch.

-- One row per projection generation (and partition): the last global position
-- whose effect is in the read model. Moved in the same transaction as the
-- read-model writes it covers.
CREATE TABLE IF NOT EXISTS projection_checkpoints (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  partition INTEGER NOT NULL DEFAULT 0,
  position INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (name, version, partition)
);

-- The generation queries read. Switched in one transaction at the end of a rebuild.
CREATE TABLE IF NOT EXISTS projection_active (
  name TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  definition_version INTEGER NOT NULL,
  switched_at INTEGER NOT NULL
);

-- The durable attempt counter: written (in its own transaction) before a
-- handler runs, so an event that crashes the whole process is still counted.
-- after_position is the checkpoint the attempt started from; until_position
-- the last position of the batch tried, so a failed range is replayed one
-- event at a time until it is passed.
CREATE TABLE IF NOT EXISTS projection_attempts (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  partition INTEGER NOT NULL DEFAULT 0,
  after_position INTEGER NOT NULL,
  until_position INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  last_error TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (name, version, partition)
);

-- Poison events. status: parked (skipped over, the projection went on),
-- blocking (policy 'stop': the projection waits on it), retried, skipped,
-- superseded (its generation was dropped by a rebuild).
CREATE TABLE IF NOT EXISTS projection_dead_letters (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  projection TEXT NOT NULL,
  version INTEGER NOT NULL,
  position INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  stream_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  error TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  parked_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  resolved_at INTEGER,
  UNIQUE (projection, version, position)
);
CREATE INDEX IF NOT EXISTS projection_dead_letters_status ON projection_dead_letters (status, projection);

-- At most one rebuild per projection; a crashed rebuild's row goes stale with its heartbeat.
CREATE TABLE IF NOT EXISTS projection_rebuilds (
  name TEXT PRIMARY KEY,
  target_version INTEGER NOT NULL,
  owner TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL
);
