-- The API functions' login sees only what their routes need.
--
-- * The reset log (who reset, from which address) is append-only for it: it may add a line, not read
--   one. A reset learns its line's number from the log's sequence (currval), not from RETURNING,
--   which needs the right to read the table.
-- * It sees only its own sandbox's row of demo_sandboxes: row-level security keyed on the
--   transaction's sandbox (squelch.sandbox), as the story tables are since migration 0005. What spans
--   every sandbox goes through these functions, which run as the schema's owner and do one thing
--   each: the presenters' listing (the columns it shows, no more), the count a new sandbox is held
--   to, the removal of idle sandboxes, and the daily refresh's list of stale stories.

REVOKE SELECT ON demo_reset_log FROM squelch_runtime;

ALTER TABLE demo_sandboxes ENABLE ROW LEVEL SECURITY;
CREATE POLICY sandbox_isolation ON demo_sandboxes
    USING (name = current_setting('squelch.sandbox'))
    WITH CHECK (name = current_setting('squelch.sandbox'));

CREATE FUNCTION demo_sandbox_directory()
    RETURNS TABLE (name text, checkpoint text, anchor_date date, created_at timestamptz,
                   last_activity_at timestamptz, owner text, sandbox_key text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    SELECT s.name, s.checkpoint, s.anchor_date, s.created_at, s.last_activity_at, s.owner, s.sandbox_key
    FROM demo_sandboxes s
    ORDER BY s.name = 'default' DESC, s.last_activity_at DESC, s.name
$$;
COMMENT ON FUNCTION demo_sandbox_directory() IS
    'Every sandbox, as GET /api/demo/sandboxes lists it (the default first, then the most recently active).';

CREATE FUNCTION demo_sandbox_count() RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$ SELECT count(*) FROM demo_sandboxes $$;
COMMENT ON FUNCTION demo_sandbox_count() IS 'How many sandboxes exist: a new one is held to DemoMaxSandboxes.';

-- Call it holding the creation lock (squelch.sandboxes): it only tries the idle sandboxes' story
-- locks, never waits for one, and keeps a sandbox whose lock another transaction holds (a write or
-- a reset is at work in it right now). Asked again once their locks are held: a presenter may have
-- reset one since the list was read.
CREATE FUNCTION demo_remove_idle_sandboxes(ttl_days integer) RETURNS SETOF text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
DECLARE
    idle text[];
    free text[] := '{}';
    candidate text;
BEGIN
    IF ttl_days IS NULL OR ttl_days < 1 THEN
        RAISE EXCEPTION 'ttl_days must be 1 or more, not %', ttl_days USING ERRCODE = 'invalid_parameter_value';
    END IF;
    idle := ARRAY(SELECT s.name FROM demo_sandboxes s
                  WHERE s.name <> 'default' AND s.last_activity_at < now() - make_interval(days => ttl_days)
                  ORDER BY s.name);
    FOREACH candidate IN ARRAY idle LOOP
        IF pg_try_advisory_xact_lock(hashtext('squelch.story'), hashtext(candidate)) THEN
            free := free || candidate;
        END IF;
    END LOOP;
    RETURN QUERY
        DELETE FROM demo_sandboxes s
        WHERE s.name = ANY (free) AND s.name <> 'default'
          AND s.last_activity_at < now() - make_interval(days => ttl_days)
        RETURNING s.name;
END
$$;
COMMENT ON FUNCTION demo_remove_idle_sandboxes(integer) IS
    'Removes the sandboxes idle for ttl_days (not the default one, nor one in use right now); returns their names.';

CREATE FUNCTION demo_stale_sandboxes(refresh_anchor date) RETURNS SETOF text
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$ SELECT s.name FROM demo_sandboxes s WHERE s.anchor_date <> refresh_anchor ORDER BY s.name $$;
COMMENT ON FUNCTION demo_stale_sandboxes(date) IS
    'The sandboxes whose story was seeded around another day than refresh_anchor: the daily refresh''s work.';

-- Functions are everyone's to call unless told otherwise; these are the API functions' only.
REVOKE ALL ON FUNCTION demo_sandbox_directory(), demo_sandbox_count(), demo_remove_idle_sandboxes(integer),
    demo_stale_sandboxes(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION demo_sandbox_directory(), demo_sandbox_count(), demo_remove_idle_sandboxes(integer),
    demo_stale_sandboxes(date) TO squelch_runtime;
