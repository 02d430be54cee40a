-- A story that never contradicts itself:
-- * the relationship has a start (customer_since), before every event the story tells;
-- * agreeing a plan schedules its tasks (they were proposals until then), so a completed plan no
--   longer lists every task as pending;
-- * the reset log says what asked for a reset: a presenter, or the daily refresh.

ALTER TABLE demo_customers ADD COLUMN customer_since date;
UPDATE demo_customers SET customer_since = (created_at AT TIME ZONE 'UTC')::date;
ALTER TABLE demo_customers ALTER COLUMN customer_since SET NOT NULL,
    ALTER COLUMN customer_since SET DEFAULT current_date;
COMMENT ON COLUMN demo_customers.customer_since IS 'First day of the relationship: the first contract''s start.';

CREATE FUNCTION demo_schedule_tasks(tasks jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT coalesce(jsonb_agg(CASE WHEN task ->> 'status' = 'pending'
                                   THEN jsonb_set(task, '{status}', '"scheduled"') ELSE task END
                              ORDER BY position), '[]'::jsonb)
    FROM jsonb_array_elements(tasks) WITH ORDINALITY AS t(task, position)
$$;
COMMENT ON FUNCTION demo_schedule_tasks(jsonb) IS 'The tasks of an agreed plan: pending ones become scheduled.';

CREATE OR REPLACE FUNCTION demo_complete_plan(plan_customer_id text) RETURNS void
    LANGUAGE sql VOLATILE
    AS $$
    UPDATE demo_strategic_plans
    SET completed = true,
        phase_1_tasks = demo_schedule_tasks(phase_1_tasks),
        phase_2_tasks = demo_schedule_tasks(phase_2_tasks),
        phase_3_tasks = demo_schedule_tasks(phase_3_tasks)
    WHERE sandbox = current_setting('squelch.sandbox') AND plan_id = (
        SELECT plan_id FROM demo_strategic_plans
        WHERE sandbox = current_setting('squelch.sandbox') AND customer_id = plan_customer_id
        ORDER BY created_at DESC, plan_id DESC LIMIT 1
    )
$$;
COMMENT ON FUNCTION demo_complete_plan(text) IS
    'The planning workflow agreed the customer''s latest plan: completed, its pending tasks scheduled.';

ALTER TABLE demo_reset_log ADD COLUMN source text NOT NULL DEFAULT 'presenter'
    CHECK (source IN ('presenter', 'daily_refresh'));
ALTER TABLE demo_reset_log ALTER COLUMN source DROP DEFAULT;
COMMENT ON COLUMN demo_reset_log.source IS 'What asked for the reset: a presenter, or the daily refresh of stale stories.';
