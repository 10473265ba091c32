-- The log. `position` is the rowid: global order and the cheapest key SQLite has.
CREATE TABLE events (
  position INTEGER PRIMARY KEY,
  event_id BLOB NOT NULL,
  stream_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  category TEXT NOT NULL,
  type TEXT NOT NULL,
  schema_version INTEGER NOT NULL,
  data TEXT NOT NULL,
  metadata TEXT NOT NULL,
  recorded_at INTEGER NOT NULL,
  hash BLOB NOT NULL,
  previous_hash BLOB NOT NULL
);
-- Idempotency forever: an event id exists once.
CREATE UNIQUE INDEX events_event_id ON events (event_id);
-- Stream reads and the optimistic-concurrency backstop.
CREATE UNIQUE INDEX events_stream_version ON events (stream_id, version);
-- Category reads of the global log.
CREATE INDEX events_category_position ON events (category, position);

-- The head the store recorded for itself, written in the same transaction as the events it covers.
CREATE TABLE head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  position INTEGER NOT NULL,
  recorded_at INTEGER NOT NULL
);
INSERT INTO head (id, position, recorded_at) VALUES (1, 0, 0);

CREATE TABLE snapshots (
  stream_id TEXT NOT NULL,
  schema_version INTEGER NOT NULL,
  version INTEGER NOT NULL,
  state TEXT NOT NULL,
  saved_at INTEGER NOT NULL,
  PRIMARY KEY (stream_id, schema_version)
);
