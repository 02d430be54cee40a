-- A sandbox tells one story pack (packs/<name>/), and may show the presenter's own names for the CSM and
-- the account: the reset records them, the daily refresh re-seeds the same pack with the same names.
ALTER TABLE demo_sandboxes ADD COLUMN story text NOT NULL DEFAULT 'act1-obsidian-black'
    CHECK (story ~ '^[a-z0-9][a-z0-9-]{0,62}$');
ALTER TABLE demo_sandboxes ADD COLUMN csm_name text CHECK (char_length(csm_name) BETWEEN 1 AND 60);
ALTER TABLE demo_sandboxes ADD COLUMN account_name text CHECK (char_length(account_name) BETWEEN 1 AND 80);
COMMENT ON COLUMN demo_sandboxes.story IS 'The story pack it holds, e.g. act1-obsidian-black (a folder of packs/).';
COMMENT ON COLUMN demo_sandboxes.csm_name IS 'The CSM''s name the presenter chose; null: the pack''s own.';
COMMENT ON COLUMN demo_sandboxes.account_name IS 'The account''s display name the presenter chose; null: the pack''s own.';

DROP FUNCTION demo_sandbox_directory();
CREATE FUNCTION demo_sandbox_directory()
    RETURNS TABLE (name text, checkpoint text, anchor_date date, created_at timestamptz,
                   last_activity_at timestamptz, owner text, sandbox_key text, story text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    SELECT s.name, s.checkpoint, s.anchor_date, s.created_at, s.last_activity_at, s.owner, s.sandbox_key, s.story
    FROM demo_sandboxes s
    ORDER BY s.name = 'default' DESC, s.last_activity_at DESC, s.name
$$;
COMMENT ON FUNCTION demo_sandbox_directory() IS
    'Every sandbox, as GET /api/demo/sandboxes lists it (the default first, then the most recently active).';
REVOKE ALL ON FUNCTION demo_sandbox_directory() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION demo_sandbox_directory() TO squelch_runtime;
