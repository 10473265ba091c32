-- The log. Text columns use the "C" collation: byte order, the same everywhere, and cheap to compare.
CREATE SCHEMA IF NOT EXISTS daybook;

CREATE TABLE daybook.events (
  position bigint PRIMARY KEY,
  event_id uuid NOT NULL,
  stream_id text COLLATE "C" NOT NULL,
  version bigint NOT NULL,
  category text COLLATE "C" NOT NULL,
  type text COLLATE "C" NOT NULL,
  schema_version integer NOT NULL,
  -- JSON kept as the exact text that was hashed.
  data text NOT NULL,
  metadata text NOT NULL,
  recorded_at bigint NOT NULL,
  hash bytea NOT NULL,
  previous_hash bytea NOT NULL
);
CREATE UNIQUE INDEX events_event_id ON daybook.events (event_id);
CREATE UNIQUE INDEX events_stream_version ON daybook.events (stream_id, version);
CREATE INDEX events_category_position ON daybook.events (category, position);

-- The head row is the store's fence: every append locks it first, takes its
-- positions from it and updates it in the same transaction. Appends therefore
-- commit one after another in position order, and the next one can only take
-- the lock once the previous is visible, so a reader never sees position N+1
-- before N, and positions have no holes (a rolled-back append never took any).
CREATE TABLE daybook.head (
  id integer PRIMARY KEY CHECK (id = 1),
  position bigint NOT NULL,
  recorded_at bigint NOT NULL
);
INSERT INTO daybook.head (id, position, recorded_at) VALUES (1, 0, 0);

CREATE TABLE daybook.snapshots (
  stream_id text COLLATE "C" NOT NULL,
  schema_version integer NOT NULL,
  version bigint NOT NULL,
  state text NOT NULL,
  saved_at bigint NOT NULL,
  PRIMARY KEY (stream_id, schema_version)
);

-- The canonical envelope the hash covers; must equal canonicalEnvelope() in hashChain.ts.
CREATE FUNCTION daybook.event_hash(
  p_event_id uuid, p_stream_id text, p_version bigint, p_position bigint, p_type text, p_schema_version integer,
  p_recorded_at bigint, p_data text, p_metadata text, p_previous_hash bytea
) RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT sha256(convert_to(concat_ws(E'\n', 'daybook.v1', p_event_id::text, p_stream_id, p_version::text, p_position::text,
    p_type, p_schema_version::text, p_recorded_at::text, p_data, p_metadata, encode(p_previous_hash, 'hex')), 'UTF8'))
$$;

-- One group-committed batch in one round trip. Events arrive in append order;
-- p_append numbers the append each belongs to. Each append succeeds or fails
-- alone: a failed expectation returns one 'conflict' row and writes nothing of
-- that append; an append whose caller-supplied ids exist returns the stored
-- rows ('existing') for the caller to compare, and writes nothing.
-- p_expected (read on each write's first event): -1 any, -2 exists, n >= 0 exact (0 = no stream).
-- Written for speed: one look-up of all stream heads, one look-up of existing
-- ids, one INSERT and one result set per batch; the loop only does arithmetic.
CREATE FUNCTION daybook.append_batch(
  p_append integer[], p_stream text[], p_expected bigint[], p_event_id uuid[], p_caller boolean[],
  p_type text[], p_schema integer[], p_data text[], p_metadata text[]
) RETURNS TABLE (
  r_append integer, r_status text, r_event_id uuid, r_stream_id text, r_version bigint, r_position bigint,
  r_type text, r_schema_version integer, r_data text, r_actual bigint
) LANGUAGE plpgsql AS $fn$
DECLARE
  n integer := coalesce(array_length(p_append, 1), 0);
  v_head bigint; v_recorded bigint; v_now bigint;
  i integer := 1; j integer; k integer; x integer; a integer;
  v_version bigint; v_hash bytea; v_ok boolean;
  v_stream text; v_previous_stream text; v_category text; v_id uuid; v_type text; v_schema integer; v_data text; v_metadata text;
  v_existing uuid[] := '{}';
  -- Current head (version, hash) of every stream the batch touches, updated as the batch is decided.
  m_stream text[]; m_version bigint[]; m_hash bytea[];
  -- Per event k (same index as the parameters), filled in place: element assignment
  -- updates an expanded array without copying it, where appending would copy.
  o_keep boolean[] := array_fill(false, ARRAY[n]); o_pos bigint[] := array_fill(0::bigint, ARRAY[n]);
  o_version bigint[] := array_fill(0::bigint, ARRAY[n]); o_category text[] := array_fill(''::text, ARRAY[n]);
  o_hash bytea[] := array_fill('\x'::bytea, ARRAY[n]); o_prev bytea[] := array_fill('\x'::bytea, ARRAY[n]);
  v_written integer := 0;
  c_append integer[] := '{}'; c_stream text[] := '{}'; c_expected bigint[] := '{}'; c_actual bigint[] := '{}';
  e_append integer[] := '{}';
BEGIN
  SELECT h.position, h.recorded_at INTO v_head, v_recorded FROM daybook.head h WHERE h.id = 1 FOR UPDATE;
  v_now := greatest((extract(epoch FROM clock_timestamp()) * 1000)::bigint, v_recorded);

  SELECT array_agg(s.stream_id), array_agg(coalesce(h.version, 0)), array_agg(coalesce(h.hash, '\x'::bytea))
    INTO m_stream, m_version, m_hash
    FROM (SELECT DISTINCT unnest(p_stream) AS stream_id) s
    LEFT JOIN LATERAL (SELECT e.version, e.hash FROM daybook.events e WHERE e.stream_id = s.stream_id ORDER BY e.version DESC LIMIT 1) h ON true;

  IF true = ANY (p_caller) THEN
    SELECT coalesce(array_agg(e.event_id), '{}') INTO v_existing FROM daybook.events e WHERE e.event_id = ANY (p_event_id);
  END IF;

  WHILE i <= n LOOP
    a := p_append[i];
    j := i;
    WHILE j < n AND p_append[j + 1] = a LOOP j := j + 1; END LOOP;

    IF cardinality(v_existing) > 0 AND p_event_id[i:j] && v_existing THEN
      e_append := e_append || a;
      i := j + 1;
      CONTINUE;
    END IF;

    -- Check pass: every write of the append against its stream's head.
    v_ok := true;
    FOR k IN i..j LOOP
      IF k > i AND p_stream[k] = p_stream[k - 1] THEN CONTINUE; END IF;
      x := array_position(m_stream, p_stream[k]);
      IF (p_expected[k] = -2 AND m_version[x] = 0) OR (p_expected[k] >= 0 AND p_expected[k] <> m_version[x]) THEN
        c_append := c_append || a; c_stream := c_stream || p_stream[k]; c_expected := c_expected || p_expected[k]; c_actual := c_actual || m_version[x];
        v_ok := false;
        EXIT;
      END IF;
    END LOOP;
    IF NOT v_ok THEN i := j + 1; CONTINUE; END IF;

    -- Write pass: positions from the head, versions and hashes chained per stream.
    -- Each array element is read once into a variable: subscripting a text array is not free.
    FOR k IN i..j LOOP
      v_stream := p_stream[k];
      IF k = i OR v_stream <> v_previous_stream THEN
        x := array_position(m_stream, v_stream);
        v_version := m_version[x]; v_hash := m_hash[x];
        v_category := split_part(v_stream, '-', 1);
      END IF;
      v_previous_stream := v_stream;
      v_id := p_event_id[k]; v_type := p_type[k]; v_schema := p_schema[k]; v_data := p_data[k]; v_metadata := p_metadata[k];
      v_version := v_version + 1;
      v_head := v_head + 1;
      o_prev[k] := v_hash;
      -- The canonical envelope of hashChain.ts, inline: a function call per event costs more than the rest of the loop.
      v_hash := sha256(convert_to(concat_ws(E'\n', 'daybook.v1', v_id::text, v_stream, v_version::text, v_head::text,
        v_type, v_schema::text, v_now::text, v_data, v_metadata, encode(v_hash, 'hex')), 'UTF8'));
      o_keep[k] := true; o_pos[k] := v_head; o_version[k] := v_version; o_category[k] := v_category; o_hash[k] := v_hash;
      v_written := v_written + 1;
      IF k = j OR p_stream[k + 1] <> v_stream THEN
        m_version[x] := v_version; m_hash[x] := v_hash;
      END IF;
    END LOOP;
    i := j + 1;
  END LOOP;

  IF v_written > 0 THEN
    INSERT INTO daybook.events (position, event_id, stream_id, version, category, type, schema_version, data, metadata, recorded_at, hash, previous_hash)
      SELECT u.u_position, u.u_event_id, u.u_stream_id, u.u_version, u.u_category, u.u_type, u.u_schema_version, u.u_data, u.u_metadata, v_now, u.u_hash, u.u_previous_hash
      FROM unnest(o_keep, o_pos, p_event_id, p_stream, o_version, o_category, p_type, p_schema, p_data, p_metadata, o_hash, o_prev)
        AS u(u_keep, u_position, u_event_id, u_stream_id, u_version, u_category, u_type, u_schema_version, u_data, u_metadata, u_hash, u_previous_hash)
      WHERE u.u_keep;
    UPDATE daybook.head SET position = v_head, recorded_at = v_now WHERE id = 1;
    PERFORM pg_notify('daybook_events', v_head::text);
  END IF;

  RETURN QUERY SELECT u.a, 'ok'::text, u.id, u.s, u.v, u.p, NULL::text, NULL::integer, NULL::text, NULL::bigint
    FROM unnest(o_keep, p_append, p_event_id, p_stream, o_version, o_pos) AS u(keep, a, id, s, v, p) WHERE u.keep ORDER BY u.p;
  IF cardinality(c_append) > 0 THEN
    RETURN QUERY SELECT u.a, 'conflict'::text, NULL::uuid, u.s, u.e, NULL::bigint, NULL::text, NULL::integer, NULL::text, u.actual
      FROM unnest(c_append, c_stream, c_expected, c_actual) AS u(a, s, e, actual);
  END IF;
  IF cardinality(e_append) > 0 THEN
    RETURN QUERY SELECT b.a, 'existing'::text, e.event_id, e.stream_id::text, e.version, e.position, e.type::text, e.schema_version, e.data, NULL::bigint
      FROM unnest(p_append, p_event_id) AS b(a, id)
      JOIN daybook.events e ON e.event_id = b.id
      WHERE b.a = ANY (e_append);
  END IF;
END
$fn$;
