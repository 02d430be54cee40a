-- Checkpoint act1-planned: the story, with the strategic-planning workflow done: all five steps
-- saved, the session completed, and the plan it produced agreed (demo_complete_plan).
-- Run after obsidian_black.sql, in the same transaction (squelch.demo_anchor and squelch.sandbox set).
-- Every lookup names the sandbox: the owner, who may run this too, sees every sandbox's rows.
-- The session's hours on D are never later than the reset itself (now(): a reset before them, or
-- with D ahead of today, stamps the reset's moment), so no timestamp lies in the future and a step
-- saved later is never dated before its session.

INSERT INTO demo_workflow_state (
    session_id, customer_id, workflow_type, current_step, total_steps, completed, data, created_at, updated_at
) VALUES (
    demo_new_session_id(), 'aco-001', 'strategic_planning', 5, 5, true,
    jsonb_build_object(
        'step_1', jsonb_build_object(
            'artifact', 'contract_intelligence',
            'contract_id', (SELECT contract_id FROM demo_contracts
                            WHERE sandbox = current_setting('squelch.sandbox') AND customer_id = 'aco-001'
                              AND status = 'active'),
            'reviewed', jsonb_build_array('renewal_date', 'auto_renew', 'sla_uptime'),
            'note', 'Manual renewal: nothing renews unless Marcus signs.'),
        'step_2', jsonb_build_object(
            'artifact', 'stakeholder_map',
            'contacts', jsonb_build_array(
                jsonb_build_object('contact_id', 'aco-marcus', 'role', 'decision maker', 'stance', 'frustrated'),
                jsonb_build_object('contact_id', 'aco-elena', 'role', 'expansion sponsor', 'stance', 'evaluating')),
            'priority_contact_id', 'aco-elena'),
        'step_3', jsonb_build_object(
            'artifact', 'risk_analysis',
            'risks', jsonb_build_array('op-blackout', 'ticket_spike', 'communication_gap')),
        'step_4', jsonb_build_object(
            'artifact', 'strategic_plan',
            'plan_id', (SELECT plan_id FROM demo_strategic_plans
                        WHERE sandbox = current_setting('squelch.sandbox') AND customer_id = 'aco-001')),
        'step_5', jsonb_build_object('artifact', 'review', 'approved', true)),
    least(demo_time(0, '09:00'), now()), least(demo_time(0, '10:05'), now())
);

SELECT demo_complete_plan('aco-001');
