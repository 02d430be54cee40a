-- The story's version: a number on each sandbox that changes in the same transaction as anything
-- that changes what its routes answer (resets, the daily refresh, the checkpoints' SQL, workflow
-- writes, plan completion, a hand-made fix), so an answer's ETag can be computed from it alone.
--
-- Versions come from one sequence and are never handed out twice: a sandbox deleted and created
-- again, or another sandbox, never shows a version a client has seen before. The sequence starts at
-- the migration's time in microseconds, so a database created again (make clean) does not repeat
-- the versions of the one before either.

CREATE SEQUENCE demo_story_version AS bigint;
SELECT setval('demo_story_version', (extract(epoch FROM clock_timestamp()) * 1000000)::bigint);
COMMENT ON SEQUENCE demo_story_version IS 'Story versions of every sandbox: each value is used once.';
GRANT USAGE ON SEQUENCE demo_story_version TO squelch_runtime;

ALTER TABLE demo_sandboxes ADD COLUMN version bigint NOT NULL DEFAULT nextval('demo_story_version');
COMMENT ON COLUMN demo_sandboxes.version IS
    'Changes with every write to the sandbox''s story rows or its anchor day; ETags are computed from it.';

-- Statement-level, for every sandbox whose rows the statement wrote (the transition tables name
-- them), whoever writes: the API's login, or the owner seeding, migrating or fixing rows by hand
-- with or without squelch.sandbox set. Once per sandbox and transaction: its writes become visible
-- together at commit, so one new version covers them all. squelch.versions_bumped lists the
-- sandboxes already bumped (local to the transaction, undone with a rolled-back savepoint); when
-- row-level security holds the writer to the transaction's sandbox and that one is bumped, the
-- statement's rows need not be looked at (reading a transition table costs a plan each time).
CREATE FUNCTION demo_story_changed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    bumped text[] := coalesce(string_to_array(nullif(current_setting('squelch.versions_bumped', true), ''), ','), '{}');
    written text[];
BEGIN
    IF row_security_active(TG_RELID) AND current_setting('squelch.sandbox', true) = ANY (bumped) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        written := ARRAY(SELECT name FROM demo_sandboxes);
    ELSIF TG_OP = 'INSERT' THEN
        written := ARRAY(SELECT DISTINCT sandbox FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        written := ARRAY(SELECT DISTINCT sandbox FROM old_rows);
    ELSE
        written := ARRAY(SELECT sandbox FROM new_rows UNION SELECT sandbox FROM old_rows);
    END IF;
    written := ARRAY(SELECT unnest(written) EXCEPT SELECT unnest(bumped));
    IF cardinality(written) > 0 THEN
        UPDATE demo_sandboxes SET version = nextval('demo_story_version') WHERE name = ANY (written);
        PERFORM set_config('squelch.versions_bumped', array_to_string(bumped || written, ','), true);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION demo_story_changed() IS
    'Bumps the story version of every sandbox whose rows the statement wrote, once per transaction.';

-- Every story table but demo_customer_refs, which only demo_customers' own trigger writes (one
-- statement per customer row: a bump each would make a bulk insert quadratic), and whose writes
-- always come with a write to demo_customers.
DO $$
DECLARE
    story_table text;
BEGIN
    FOREACH story_table IN ARRAY ARRAY['demo_customers', 'demo_contacts', 'demo_operations', 'demo_support_tickets',
        'demo_contracts', 'demo_strategic_plans', 'demo_workflow_state', 'demo_opportunities',
        'demo_health_components']
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION demo_story_changed()',
                       story_table || '_version_insert', story_table);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION demo_story_changed()',
                       story_table || '_version_update', story_table);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION demo_story_changed()',
                       story_table || '_version_delete', story_table);
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION demo_story_changed()',
                       story_table || '_version_truncate', story_table);
    END LOOP;
END
$$;

-- The profile shows the day the story was seeded around (story_anchor_date, story_age_days).
CREATE FUNCTION demo_sandbox_anchor_changed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.version := nextval('demo_story_version');
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION demo_sandbox_anchor_changed() IS 'Bumps the story version when the sandbox''s anchor day changes.';

CREATE TRIGGER demo_sandboxes_anchor_version BEFORE UPDATE OF anchor_date ON demo_sandboxes
    FOR EACH ROW WHEN (OLD.anchor_date IS DISTINCT FROM NEW.anchor_date)
    EXECUTE FUNCTION demo_sandbox_anchor_changed();
