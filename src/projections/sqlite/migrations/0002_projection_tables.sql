-- Which projection generation owns each read-model table: a rebuild drops only
-- tables it can prove are its own, and two projections cannot claim one name.
CREATE TABLE IF NOT EXISTS projection_tables (
  table_name TEXT PRIMARY KEY,
  projection TEXT NOT NULL,
  version INTEGER NOT NULL
);
