-- The Obsidian Black story: its dates are offsets from the demo day D (docs/STORY.md).
-- Every date is an offset from the demo anchor day D: demo_day(n) is D+n, demo_time(n, t) an
-- instant on that day (UTC). Run it inside a transaction that has set squelch.demo_anchor.
-- Seeded rows carry story timestamps in created_at too, so two seeds on the same D are identical.

-- The relationship began with a first one-year contract two years before the renewal (D-587 or
-- so, before every event of the story); the current contract is its renewal term.
INSERT INTO demo_customers (
    customer_id, slug, name, industry, operatives, facilities, arr, renewal_date,
    health_score, opportunity_score, csm_name, csm_assigned_on, is_demo, customer_since, created_at
) VALUES (
    'aco-001', 'aco', 'Obsidian Black', 'Global Strategic Coordination Services', 450, 23, 1500000,
    demo_day(143), 4.2, 8.7, 'Sarah Chen', demo_day(-3), true,
    (demo_day(143) - interval '2 years')::date,
    (demo_day(143) - interval '2 years')::date::timestamp AT TIME ZONE 'UTC'
);

INSERT INTO demo_contacts (
    contact_id, customer_id, name, title, villain_designation, engagement_level, satisfaction,
    last_contact, is_evaluating_competitors, initiative_value, is_primary, created_at
) VALUES
    ('aco-marcus', 'aco-001', 'Marcus Castellan', 'Chief Operating Officer', 'The Orchestrator',
     'high', 'low', demo_day(-90), false, NULL, true, demo_time(-220, '09:00')),
    ('aco-elena', 'aco-001', 'Dr. Elena Voss', 'VP of Technical Operations', 'Nightingale',
     'medium', 'neutral', NULL, true, 1700000, false, demo_time(-220, '09:05'));

INSERT INTO demo_operations (
    operation_id, customer_id, name, status, failure_reason, cost_impact, date, created_at
) VALUES
    ('op-blackout', 'aco-001', 'Operation Blackout', 'failed',
     'Platform latency caused 47-second delay in synchronized sequence', 850000,
     demo_day(-95), demo_time(-95, '23:00')),
    ('op-nightfall', 'aco-001', 'Operation Nightfall', 'success', NULL, NULL,
     demo_day(-180), demo_time(-180, '23:00')),
    ('op-crimson-dawn', 'aco-001', 'Operation Crimson Dawn', 'success', NULL, NULL,
     demo_day(-250), demo_time(-250, '23:00')),
    ('op-shadow-grid', 'aco-001', 'Operation Shadow Grid', 'in_progress', NULL, NULL,
     demo_day(-40), demo_time(-40, '23:00'));

-- The spike: five tickets in the two weeks before D, on the days docs/STORY.md lists (D-13 to D-4).
INSERT INTO demo_support_tickets (
    ticket_id, customer_id, subject, category, priority, resolution_time_hours, sentiment, created_at
) VALUES
    ('aco-4728', 'aco-001', 'Operative Smith cannot access Phase 3 coordination documents',
     'permissions_error', 'high', 72, 'frustrated', demo_time(-13, '08:12')),
    ('aco-4801', 'aco-001', 'Timezone conversion bug in Jakarta facility coordination',
     'bug', 'medium', 48, 'frustrated', demo_time(-10, '03:40')),
    ('aco-4823', 'aco-001', 'Performance degradation during peak operational hours',
     'performance', 'high', NULL, 'frustrated', demo_time(-8, '14:25')),
    ('aco-4856', 'aco-001', 'Integration with Operative Management System v8.2 failing',
     'integration', 'high', NULL, 'frustrated', demo_time(-6, '10:02')),
    ('aco-4891', 'aco-001', 'Dashboard not displaying real-time operational status',
     'ux', 'medium', 24, 'neutral', demo_time(-4, '16:48'));

-- The baseline: nine tickets in the twelve weeks before the two-week window (days D-98 to D-15),
-- so the normal rate is 9 / 6 = 1.5 tickets per two weeks.
INSERT INTO demo_support_tickets (
    ticket_id, customer_id, subject, category, priority, resolution_time_hours, sentiment, created_at
) VALUES
    ('aco-4302', 'aco-001', 'Report export times out for multi-facility rosters',
     'performance', 'medium', 20, 'neutral', demo_time(-97, '11:30')),
    ('aco-4310', 'aco-001', 'Synchronized sequence stalled during Operation Blackout',
     'outage', 'critical', 9, 'frustrated', demo_time(-95, '22:47')),
    ('aco-4377', 'aco-001', 'Request for a root-cause report on the Blackout latency',
     'question', 'high', 96, 'frustrated', demo_time(-88, '09:15')),
    ('aco-4415', 'aco-001', 'Single sign-on rejects operatives after password rotation',
     'permissions_error', 'medium', 6, 'neutral', demo_time(-80, '07:55')),
    ('aco-4468', 'aco-001', 'Facility map tiles missing for the Reykjavik site',
     'bug', 'low', 30, 'neutral', demo_time(-71, '13:05')),
    ('aco-4502', 'aco-001', 'Bulk import of contractor profiles',
     'feature_request', 'low', 72, 'satisfied', demo_time(-60, '15:40')),
    ('aco-4557', 'aco-001', 'Webhook retries flood the Operative Management System',
     'integration', 'medium', 40, 'neutral', demo_time(-49, '06:20')),
    ('aco-4613', 'aco-001', 'Audit log shows the wrong timezone for the Jakarta facility',
     'bug', 'medium', 26, 'frustrated', demo_time(-35, '02:10')),
    ('aco-4680', 'aco-001', 'Invoice lists decommissioned facilities',
     'billing', 'low', 12, 'neutral', demo_time(-22, '12:00'));

-- Older history: with aco-4310 above, three critical service failures in the past twelve months;
-- aco-3120 fell on the same calendar day a year before D, so it is just outside them.
INSERT INTO demo_support_tickets (
    ticket_id, customer_id, subject, category, priority, resolution_time_hours, sentiment, created_at
) VALUES
    ('aco-3120', 'aco-001', 'Operative dispatch queue stalled for the western region',
     'outage', 'critical', 7, 'frustrated',
     ((demo_day(0) - interval '1 year')::date + time '21:10') AT TIME ZONE 'UTC'),
    ('aco-3655', 'aco-001', 'Secure channel relay unavailable during shift handover',
     'outage', 'critical', 4, 'frustrated', demo_time(-300, '04:30')),
    ('aco-3902', 'aco-001', 'Coordination mesh outage across the eastern facilities',
     'outage', 'critical', 5, 'frustrated', demo_time(-210, '19:45'));

-- Contracts are named for the year they start in: aco-contract-2025 starts in 2025.
INSERT INTO demo_contracts (
    contract_id, customer_id, start_date, end_date, arr, auto_renew, sla_uptime, status, created_at
)
SELECT 'aco-contract-' || extract(year FROM term.start_date), 'aco-001', term.start_date, term.end_date,
       1500000, false, 99.5, term.status, term.start_date::timestamp AT TIME ZONE 'UTC'
FROM (VALUES
    ((demo_day(143) - interval '2 years')::date, (demo_day(143) - interval '1 year')::date, 'expired'),
    ((demo_day(143) - interval '1 year')::date, demo_day(143), 'active')
) AS term (start_date, end_date, status);

INSERT INTO demo_strategic_plans (
    plan_id, customer_id, phase_1_tasks, phase_2_tasks, phase_3_tasks, success_probability,
    completed, created_at
) VALUES (
    'aco-plan-001', 'aco-001',
    '[
      {"task": "Respond to Marcus email", "due": "Day 1", "status": "pending"},
      {"task": "Intro outreach to Elena", "due": "Day 3", "status": "pending"},
      {"task": "Schedule Marcus call", "due": "Day 5", "status": "pending"}
    ]'::jsonb,
    '[
      {"task": "Elena discovery call", "due": "Week 2", "status": "pending"},
      {"task": "Deliver Accountability Report", "due": "Week 3", "status": "pending"},
      {"task": "Propose dedicated liaison", "due": "Week 4", "status": "pending"},
      {"task": "Schedule Q1 QBR", "due": "Week 4", "status": "pending"}
    ]'::jsonb,
    '[
      {"task": "Demo timezone automation prototype", "due": "Month 2", "status": "pending"},
      {"task": "Expansion proposal presentation", "due": "Month 2", "status": "pending"},
      {"task": "Q1 QBR execution", "due": "Month 3", "status": "pending"},
      {"task": "Renewal negotiation kickoff", "due": "Month 3", "status": "pending"}
    ]'::jsonb,
    78.0, false, demo_time(-1, '17:00')
);

INSERT INTO demo_opportunities (
    opportunity_id, customer_id, sponsor_contact_id, name, value, status, key_requirement,
    competitors, urgency, probability, created_at
) VALUES (
    'aco-opp-001', 'aco-001', 'aco-elena', 'Global Synchronization Initiative', 1700000,
    'evaluating', 'Timezone-intelligent scheduling', ARRAY['VectorSync', 'OmniCoord'], 'high', 65,
    demo_time(-30, '10:00')
);

-- Weights chosen so that the weighted sum is exactly the overall health score, 4.2.
INSERT INTO demo_health_components (customer_id, component, score, weight, created_at) VALUES
    ('aco-001', 'product_performance',   3.1, 0.30, demo_time(-1, '06:00')),
    ('aco-001', 'relationship_strength', 4.8, 0.25, demo_time(-1, '06:00')),
    ('aco-001', 'strategic_alignment',   5.2, 0.10, demo_time(-1, '06:00')),
    ('aco-001', 'support_quality',       3.5, 0.22, demo_time(-1, '06:00')),
    ('aco-001', 'executive_sponsorship', 6.0, 0.13, demo_time(-1, '06:00'));
