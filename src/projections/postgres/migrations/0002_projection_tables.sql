-- Which projection generation owns each read-model table: a rebuild drops only
-- tables it can prove are its own, and two projections cannot claim one name.
CREATE TABLE IF NOT EXISTS daybook.projection_tables (
  table_name text COLLATE "C" PRIMARY KEY,
  projection text COLLATE "C" NOT NULL,
  version bigint NOT NULL
);
