-- The API functions connect as a member of squelch_runtime: they read and write rows and nothing
-- else (no DDL, no ownership, so row-level security applies to them). The migrator owns the schema.
-- Roles belong to the whole server, so another database on it may have made this one already.
DO $$
BEGIN
    CREATE ROLE squelch_runtime NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;
COMMENT ON ROLE squelch_runtime IS 'Rights of the Squelch API functions: rows of the demo tables, no DDL.';

-- Before PostgreSQL 15 every role could create tables in public; nobody but the owner may here.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO squelch_runtime;

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO squelch_runtime;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO squelch_runtime;
-- Tables and sequences later migrations create get the same rights.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO squelch_runtime;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO squelch_runtime;

-- The migration ledger is the migrator's; the reset log is append-only for the functions.
REVOKE ALL ON schema_migrations FROM squelch_runtime;
REVOKE UPDATE, DELETE ON demo_reset_log FROM squelch_runtime;
