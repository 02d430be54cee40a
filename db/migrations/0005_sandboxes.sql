-- Presenter sandboxes: every row of the story belongs to a named sandbox, the story every client
-- saw before this migration becomes the sandbox "default". The database keeps sandboxes apart:
-- every key and foreign key includes the sandbox (a row can only refer to rows of its own sandbox),
-- and row-level security shows the API functions' login (squelch_runtime) only the rows of the
-- sandbox its transaction names with set_config('squelch.sandbox', name, true). A query that
-- forgets the sandbox cannot see or write another one; without the setting it fails.

CREATE TABLE demo_sandboxes (
    name             text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
    checkpoint       text NOT NULL,
    anchor_date      date NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_activity_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE demo_sandboxes IS 'Named, isolated copies of the demo story; one per presenter or prospect.';
COMMENT ON COLUMN demo_sandboxes.name IS 'The X-Demo-Sandbox header value; default is the story of clients that send none.';
COMMENT ON COLUMN demo_sandboxes.checkpoint IS 'The point of the story the last reset started from, e.g. act1-start.';
COMMENT ON COLUMN demo_sandboxes.anchor_date IS 'The demo day D the story was last seeded around.';
COMMENT ON COLUMN demo_sandboxes.created_at IS 'When the sandbox was first created.';
COMMENT ON COLUMN demo_sandboxes.last_activity_at IS 'The last reset or workflow write in it.';

-- The existing story: anchored where its renewal says (D+143), else today.
INSERT INTO demo_sandboxes (name, checkpoint, anchor_date)
SELECT 'default', 'act1-start',
       coalesce((SELECT renewal_date - 143 FROM demo_customers WHERE customer_id = 'aco-001'), current_date);

-- Foreign keys first: the keys they point at are about to change.
ALTER TABLE demo_contacts DROP CONSTRAINT demo_contacts_customer_id_fkey;
ALTER TABLE demo_operations DROP CONSTRAINT demo_operations_customer_id_fkey;
ALTER TABLE demo_support_tickets DROP CONSTRAINT demo_support_tickets_customer_id_fkey;
ALTER TABLE demo_contracts DROP CONSTRAINT demo_contracts_customer_id_fkey;
ALTER TABLE demo_strategic_plans DROP CONSTRAINT demo_strategic_plans_customer_id_fkey;
ALTER TABLE demo_workflow_state DROP CONSTRAINT demo_workflow_state_customer_id_fkey;
ALTER TABLE demo_opportunities DROP CONSTRAINT demo_opportunities_customer_id_fkey;
ALTER TABLE demo_opportunities DROP CONSTRAINT demo_opportunities_sponsor_contact_id_fkey;
ALTER TABLE demo_health_components DROP CONSTRAINT demo_health_components_customer_id_fkey;
ALTER TABLE demo_customer_refs DROP CONSTRAINT demo_customer_refs_customer_id_fkey;

-- Every story table gets its sandbox: the existing rows are the default sandbox's.
DO $$
DECLARE
    story_table text;
BEGIN
    FOREACH story_table IN ARRAY ARRAY['demo_customers', 'demo_contacts', 'demo_operations', 'demo_support_tickets',
        'demo_contracts', 'demo_strategic_plans', 'demo_workflow_state', 'demo_opportunities',
        'demo_health_components', 'demo_customer_refs']
    LOOP
        EXECUTE format('ALTER TABLE %I ADD COLUMN sandbox text NOT NULL DEFAULT ''default''', story_table);
        -- New rows belong to the transaction's sandbox; with no sandbox set, inserting fails.
        EXECUTE format('ALTER TABLE %I ALTER COLUMN sandbox SET DEFAULT current_setting(''squelch.sandbox'')',
                       story_table);
        EXECUTE format('COMMENT ON COLUMN %I.sandbox IS %L', story_table, 'The sandbox the row belongs to.');
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', story_table);
        EXECUTE format('CREATE POLICY sandbox_isolation ON %I '
                       'USING (sandbox = current_setting(''squelch.sandbox'')) '
                       'WITH CHECK (sandbox = current_setting(''squelch.sandbox''))', story_table);
    END LOOP;
END
$$;

-- Keys include the sandbox: the same story (aco-001, aco-marcus, ...) lives in every sandbox.
ALTER TABLE demo_customers DROP CONSTRAINT demo_customers_pkey,
    ADD PRIMARY KEY (sandbox, customer_id),
    DROP CONSTRAINT demo_customers_slug_key,
    ADD CONSTRAINT demo_customers_slug_key UNIQUE (sandbox, slug),
    ADD CONSTRAINT demo_customers_sandbox_fkey FOREIGN KEY (sandbox) REFERENCES demo_sandboxes ON DELETE CASCADE;
ALTER TABLE demo_contacts DROP CONSTRAINT demo_contacts_pkey, ADD PRIMARY KEY (sandbox, contact_id);
ALTER TABLE demo_operations DROP CONSTRAINT demo_operations_pkey, ADD PRIMARY KEY (sandbox, operation_id);
ALTER TABLE demo_support_tickets DROP CONSTRAINT demo_support_tickets_pkey, ADD PRIMARY KEY (sandbox, ticket_id);
ALTER TABLE demo_contracts DROP CONSTRAINT demo_contracts_pkey, ADD PRIMARY KEY (sandbox, contract_id);
ALTER TABLE demo_strategic_plans DROP CONSTRAINT demo_strategic_plans_pkey, ADD PRIMARY KEY (sandbox, plan_id);
ALTER TABLE demo_workflow_state DROP CONSTRAINT demo_workflow_state_pkey, ADD PRIMARY KEY (sandbox, session_id);
ALTER TABLE demo_opportunities DROP CONSTRAINT demo_opportunities_pkey, ADD PRIMARY KEY (sandbox, opportunity_id);
ALTER TABLE demo_health_components DROP CONSTRAINT demo_health_components_pkey,
    ADD PRIMARY KEY (sandbox, customer_id, component);
ALTER TABLE demo_customer_refs DROP CONSTRAINT demo_customer_refs_pkey, ADD PRIMARY KEY (sandbox, ref);

-- A row refers only to rows of its own sandbox, and goes with its customer.
ALTER TABLE demo_contacts ADD CONSTRAINT demo_contacts_customer_fkey
    FOREIGN KEY (sandbox, customer_id) REFERENCES demo_customers (sandbox, customer_id) ON DELETE CASCADE;
ALTER TABLE demo_operations ADD CONSTRAINT demo_operations_customer_fkey
    FOREIGN KEY (sandbox, customer_id) REFERENCES demo_customers (sandbox, customer_id) ON DELETE CASCADE;
ALTER TABLE demo_support_tickets ADD CONSTRAINT demo_support_tickets_customer_fkey
    FOREIGN KEY (sandbox, customer_id) REFERENCES demo_customers (sandbox, customer_id) ON DELETE CASCADE;
ALTER TABLE demo_contracts ADD CONSTRAINT demo_contracts_customer_fkey
    FOREIGN KEY (sandbox, customer_id) REFERENCES demo_customers (sandbox, customer_id) ON DELETE CASCADE;
ALTER TABLE demo_strategic_plans ADD CONSTRAINT demo_strategic_plans_customer_fkey
    FOREIGN KEY (sandbox, customer_id) REFERENCES demo_customers (sandbox, customer_id) ON DELETE CASCADE;
ALTER TABLE demo_workflow_state ADD CONSTRAINT demo_workflow_state_customer_fkey
    FOREIGN KEY (sandbox, customer_id) REFERENCES demo_customers (sandbox, customer_id) ON DELETE CASCADE;
ALTER TABLE demo_opportunities ADD CONSTRAINT demo_opportunities_customer_fkey
    FOREIGN KEY (sandbox, customer_id) REFERENCES demo_customers (sandbox, customer_id) ON DELETE CASCADE;
ALTER TABLE demo_opportunities ADD CONSTRAINT demo_opportunities_sponsor_fkey
    FOREIGN KEY (sandbox, sponsor_contact_id) REFERENCES demo_contacts (sandbox, contact_id)
    ON DELETE SET NULL (sponsor_contact_id);
ALTER TABLE demo_health_components ADD CONSTRAINT demo_health_components_customer_fkey
    FOREIGN KEY (sandbox, customer_id) REFERENCES demo_customers (sandbox, customer_id) ON DELETE CASCADE;
ALTER TABLE demo_customer_refs ADD CONSTRAINT demo_customer_refs_customer_fkey
    FOREIGN KEY (sandbox, customer_id) REFERENCES demo_customers (sandbox, customer_id)
    ON DELETE CASCADE ON UPDATE CASCADE;

-- The indexes the routes use lead with the sandbox.
DROP INDEX demo_customers_is_demo_idx;
CREATE INDEX demo_customers_is_demo_idx ON demo_customers (sandbox, customer_id) WHERE is_demo;
DROP INDEX demo_contacts_customer_id_idx;
CREATE INDEX demo_contacts_customer_id_idx ON demo_contacts (sandbox, customer_id);
DROP INDEX demo_contacts_one_primary_idx;
CREATE UNIQUE INDEX demo_contacts_one_primary_idx ON demo_contacts (sandbox, customer_id) WHERE is_primary;
DROP INDEX demo_operations_customer_date_idx;
CREATE INDEX demo_operations_customer_date_idx ON demo_operations (sandbox, customer_id, date DESC);
DROP INDEX demo_support_tickets_customer_created_idx;
CREATE INDEX demo_support_tickets_customer_created_idx ON demo_support_tickets (sandbox, customer_id, created_at DESC);
DROP INDEX demo_contracts_customer_end_idx;
CREATE INDEX demo_contracts_customer_end_idx ON demo_contracts (sandbox, customer_id, end_date DESC);
DROP INDEX demo_strategic_plans_customer_id_idx;
CREATE INDEX demo_strategic_plans_customer_id_idx ON demo_strategic_plans (sandbox, customer_id);
DROP INDEX demo_workflow_state_customer_id_idx;
CREATE INDEX demo_workflow_state_customer_id_idx ON demo_workflow_state (sandbox, customer_id);
DROP INDEX demo_workflow_state_one_open_idx;
CREATE UNIQUE INDEX demo_workflow_state_one_open_idx
    ON demo_workflow_state (sandbox, customer_id, workflow_type) WHERE NOT completed;
DROP INDEX demo_opportunities_customer_id_idx;
CREATE INDEX demo_opportunities_customer_id_idx ON demo_opportunities (sandbox, customer_id);
DROP INDEX demo_customer_refs_customer_id_idx;
CREATE INDEX demo_customer_refs_customer_id_idx ON demo_customer_refs (sandbox, customer_id);

-- One customer per reference, within a sandbox. The primary key alone decides (no lookups whose
-- plan goes stale while a bulk insert grows the table): a reference another customer holds fails
-- the insert with demo_customer_refs_pkey.
ALTER TABLE demo_customer_refs RENAME CONSTRAINT demo_customer_refs_pkey TO demo_customer_refs_one_customer_per_ref;

CREATE OR REPLACE FUNCTION demo_customer_refs_keep() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM demo_customer_refs WHERE sandbox = OLD.sandbox AND ref IN (OLD.customer_id, OLD.slug);
    END IF;
    INSERT INTO demo_customer_refs (sandbox, ref, customer_id)
    SELECT DISTINCT NEW.sandbox, ref, NEW.customer_id FROM unnest(ARRAY[NEW.customer_id, NEW.slug]) AS ref;
    RETURN NULL;
END
$$;

-- Resets are recorded with the sandbox and the checkpoint they started from.
ALTER TABLE demo_reset_log
    ADD COLUMN sandbox text NOT NULL DEFAULT 'default',
    ADD COLUMN checkpoint text NOT NULL DEFAULT 'act1-start';
ALTER TABLE demo_reset_log ALTER COLUMN sandbox DROP DEFAULT, ALTER COLUMN checkpoint DROP DEFAULT;
COMMENT ON COLUMN demo_reset_log.sandbox IS 'The sandbox reset (created when it did not exist).';
COMMENT ON COLUMN demo_reset_log.checkpoint IS 'The point of the story it was reset to.';

-- Session ids for sessions the seed makes (a checkpoint's): wf- and 24 URL-safe characters of
-- randomness, as the API's own (squelch.domain.workflows.new_session_id).
CREATE FUNCTION demo_new_session_id() RETURNS text
    LANGUAGE sql VOLATILE
    AS $$
    SELECT 'wf-' || left(translate(encode(decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''),
                                                 'hex'), 'base64'), '+/=', '-_'), 24)
$$;
COMMENT ON FUNCTION demo_new_session_id() IS 'A new workflow session id: wf- and 24 random URL-safe characters.';

-- What finishing the strategic-planning workflow does to the customer's latest plan, in one place
-- for the API (a step that completes a session) and the seed (a checkpoint after the workflow).
CREATE FUNCTION demo_complete_plan(plan_customer_id text) RETURNS void
    LANGUAGE sql VOLATILE
    AS $$
    UPDATE demo_strategic_plans SET completed = true
    WHERE sandbox = current_setting('squelch.sandbox') AND plan_id = (
        SELECT plan_id FROM demo_strategic_plans
        WHERE sandbox = current_setting('squelch.sandbox') AND customer_id = plan_customer_id
        ORDER BY created_at DESC, plan_id DESC LIMIT 1
    )
$$;
COMMENT ON FUNCTION demo_complete_plan(text) IS 'Marks the customer''s latest plan completed: its planning workflow is done.';
