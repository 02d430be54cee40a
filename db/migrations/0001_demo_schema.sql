-- The Act 1 demo schema: the seven tables of the task list, plus the homes the brief asks for
-- (opportunities, health components, primary contact, customer slug, assigned CSM).
-- Every child row belongs to a customer and goes with it (ON DELETE CASCADE): the demo reset
-- deletes demo customers and nothing else.

CREATE TABLE demo_customers (
    customer_id       text PRIMARY KEY,
    slug              text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name              text NOT NULL CHECK (name <> ''),
    industry          text,
    operatives        integer CHECK (operatives >= 0),
    facilities        integer CHECK (facilities >= 0),
    arr               numeric(14, 2) NOT NULL CHECK (arr >= 0),
    renewal_date      date,
    health_score      numeric(3, 1) CHECK (health_score BETWEEN 0 AND 10),
    opportunity_score numeric(3, 1) CHECK (opportunity_score BETWEEN 0 AND 10),
    csm_name          text,
    csm_assigned_on   date,
    is_demo           boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE demo_customers IS 'Customer accounts. Demo accounts (is_demo) are deleted and re-seeded by the demo reset.';
COMMENT ON COLUMN demo_customers.customer_id IS 'Stable identifier, e.g. aco-001.';
COMMENT ON COLUMN demo_customers.slug IS 'Short alias accepted wherever a customer reference is, e.g. aco.';
COMMENT ON COLUMN demo_customers.name IS 'Display name of the account.';
COMMENT ON COLUMN demo_customers.industry IS 'Industry as the customer describes itself.';
COMMENT ON COLUMN demo_customers.operatives IS 'Headcount using the platform.';
COMMENT ON COLUMN demo_customers.facilities IS 'Sites running the platform.';
COMMENT ON COLUMN demo_customers.arr IS 'Annual recurring revenue in US dollars.';
COMMENT ON COLUMN demo_customers.renewal_date IS 'Next renewal date; days_to_renewal is computed from it.';
COMMENT ON COLUMN demo_customers.health_score IS 'Overall health, 0-10: the weighted sum of demo_health_components.';
COMMENT ON COLUMN demo_customers.opportunity_score IS 'Expansion potential, 0-10.';
COMMENT ON COLUMN demo_customers.csm_name IS 'Customer Success Manager currently assigned.';
COMMENT ON COLUMN demo_customers.csm_assigned_on IS 'Day the current CSM took the account over.';
COMMENT ON COLUMN demo_customers.is_demo IS 'True for demo data: the only rows the demo reset may delete.';
COMMENT ON COLUMN demo_customers.created_at IS 'When the account was created.';
CREATE INDEX demo_customers_is_demo_idx ON demo_customers (customer_id) WHERE is_demo;
CREATE INDEX demo_customers_renewal_date_idx ON demo_customers (renewal_date);
CREATE INDEX demo_customers_created_at_idx ON demo_customers (created_at);

CREATE TABLE demo_contacts (
    contact_id                text PRIMARY KEY,
    customer_id               text NOT NULL REFERENCES demo_customers ON DELETE CASCADE,
    name                      text NOT NULL CHECK (name <> ''),
    title                     text,
    villain_designation       text,
    engagement_level          text CHECK (engagement_level IN ('high', 'medium', 'low')),
    satisfaction              text CHECK (satisfaction IN ('high', 'medium', 'neutral', 'low')),
    last_contact              date,
    is_evaluating_competitors boolean NOT NULL DEFAULT false,
    initiative_value          numeric(14, 2) CHECK (initiative_value >= 0),
    is_primary                boolean NOT NULL DEFAULT false,
    created_at                timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE demo_contacts IS 'People at a customer account.';
COMMENT ON COLUMN demo_contacts.contact_id IS 'Stable identifier, e.g. aco-marcus.';
COMMENT ON COLUMN demo_contacts.customer_id IS 'The account this person works for.';
COMMENT ON COLUMN demo_contacts.name IS 'Full name as used in greetings.';
COMMENT ON COLUMN demo_contacts.title IS 'Job title.';
COMMENT ON COLUMN demo_contacts.villain_designation IS 'Code name in the villain universe, e.g. The Orchestrator.';
COMMENT ON COLUMN demo_contacts.engagement_level IS 'How engaged the person is with the platform: high, medium or low.';
COMMENT ON COLUMN demo_contacts.satisfaction IS 'Satisfaction with the vendor: high, medium, neutral or low.';
COMMENT ON COLUMN demo_contacts.last_contact IS 'Last day anyone on the account team spoke with them; null when never.';
COMMENT ON COLUMN demo_contacts.is_evaluating_competitors IS 'Known to be evaluating competing vendors.';
COMMENT ON COLUMN demo_contacts.initiative_value IS 'Value in US dollars of an expansion initiative the person sponsors.';
COMMENT ON COLUMN demo_contacts.is_primary IS 'The primary contact of the account (at most one per customer).';
COMMENT ON COLUMN demo_contacts.created_at IS 'When the contact was recorded.';
CREATE INDEX demo_contacts_customer_id_idx ON demo_contacts (customer_id);
CREATE UNIQUE INDEX demo_contacts_one_primary_idx ON demo_contacts (customer_id) WHERE is_primary;

CREATE TABLE demo_operations (
    operation_id   text PRIMARY KEY,
    customer_id    text NOT NULL REFERENCES demo_customers ON DELETE CASCADE,
    name           text NOT NULL CHECK (name <> ''),
    status         text NOT NULL CHECK (status IN ('planned', 'in_progress', 'success', 'failed')),
    failure_reason text,
    cost_impact    numeric(14, 2) CHECK (cost_impact >= 0),
    date           date NOT NULL,
    quarter        text NOT NULL GENERATED ALWAYS AS (
                       'Q' || extract(quarter FROM date)::integer || ' ' || extract(year FROM date)::integer
                   ) STORED,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT demo_operations_failure_reason_only_when_failed CHECK (status = 'failed' OR failure_reason IS NULL)
);
COMMENT ON TABLE demo_operations IS 'The customer''s own projects ("operations") run on the platform.';
COMMENT ON COLUMN demo_operations.operation_id IS 'Stable identifier, e.g. op-blackout.';
COMMENT ON COLUMN demo_operations.customer_id IS 'The account that ran the operation.';
COMMENT ON COLUMN demo_operations.name IS 'Operation name, e.g. Operation Blackout.';
COMMENT ON COLUMN demo_operations.status IS 'planned, in_progress, success or failed.';
COMMENT ON COLUMN demo_operations.failure_reason IS 'Why a failed operation failed; null unless failed.';
COMMENT ON COLUMN demo_operations.cost_impact IS 'What the outcome cost the customer in US dollars; null when none.';
COMMENT ON COLUMN demo_operations.date IS 'Day the operation ran (or started, when in progress).';
COMMENT ON COLUMN demo_operations.quarter IS 'Calendar quarter of date, e.g. Q4 2024; derived, never written.';
COMMENT ON COLUMN demo_operations.created_at IS 'When the operation was recorded.';
CREATE INDEX demo_operations_customer_date_idx ON demo_operations (customer_id, date DESC);

CREATE TABLE demo_support_tickets (
    ticket_id             text PRIMARY KEY,
    customer_id           text NOT NULL REFERENCES demo_customers ON DELETE CASCADE,
    subject               text NOT NULL CHECK (subject <> ''),
    category              text NOT NULL CHECK (category IN (
                              'permissions_error', 'bug', 'performance', 'integration', 'ux',
                              'outage', 'data', 'billing', 'feature_request', 'question')),
    priority              text NOT NULL CHECK (priority IN ('critical', 'high', 'medium', 'low')),
    resolution_time_hours integer CHECK (resolution_time_hours >= 0),
    sentiment             text NOT NULL CHECK (sentiment IN ('frustrated', 'neutral', 'satisfied')),
    created_at            timestamptz NOT NULL
);
COMMENT ON TABLE demo_support_tickets IS 'Support tickets filed by the customer.';
COMMENT ON COLUMN demo_support_tickets.ticket_id IS 'Ticket number, e.g. aco-4728.';
COMMENT ON COLUMN demo_support_tickets.customer_id IS 'The account that filed it.';
COMMENT ON COLUMN demo_support_tickets.subject IS 'Subject line as filed.';
COMMENT ON COLUMN demo_support_tickets.category IS 'Kind of problem, e.g. permissions_error, performance.';
COMMENT ON COLUMN demo_support_tickets.priority IS 'critical, high, medium or low; critical marks a service failure.';
COMMENT ON COLUMN demo_support_tickets.resolution_time_hours IS 'Hours to resolve; null while unresolved.';
COMMENT ON COLUMN demo_support_tickets.sentiment IS 'Sentiment of the customer''s messages: frustrated, neutral or satisfied.';
COMMENT ON COLUMN demo_support_tickets.created_at IS 'When the ticket was filed.';
CREATE INDEX demo_support_tickets_customer_created_idx ON demo_support_tickets (customer_id, created_at DESC);

CREATE TABLE demo_contracts (
    contract_id text PRIMARY KEY,
    customer_id text NOT NULL REFERENCES demo_customers ON DELETE CASCADE,
    start_date  date NOT NULL,
    end_date    date NOT NULL,
    arr         numeric(14, 2) NOT NULL CHECK (arr >= 0),
    auto_renew  boolean NOT NULL DEFAULT false,
    sla_uptime  numeric(5, 2) CHECK (sla_uptime BETWEEN 0 AND 100),
    status      text NOT NULL CHECK (status IN ('active', 'expired', 'cancelled')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT demo_contracts_end_after_start CHECK (end_date > start_date)
);
COMMENT ON TABLE demo_contracts IS 'Contract terms of a customer account.';
COMMENT ON COLUMN demo_contracts.contract_id IS 'Stable identifier, e.g. aco-contract-2025.';
COMMENT ON COLUMN demo_contracts.customer_id IS 'The contracting account.';
COMMENT ON COLUMN demo_contracts.start_date IS 'First day of the term.';
COMMENT ON COLUMN demo_contracts.end_date IS 'Last day of the term.';
COMMENT ON COLUMN demo_contracts.arr IS 'Annual value of the contract in US dollars.';
COMMENT ON COLUMN demo_contracts.auto_renew IS 'Whether the contract renews without a signature.';
COMMENT ON COLUMN demo_contracts.sla_uptime IS 'Committed uptime in percent, e.g. 99.5.';
COMMENT ON COLUMN demo_contracts.status IS 'active, expired or cancelled.';
COMMENT ON COLUMN demo_contracts.created_at IS 'When the contract was recorded.';
CREATE INDEX demo_contracts_customer_end_idx ON demo_contracts (customer_id, end_date DESC);

CREATE TABLE demo_strategic_plans (
    plan_id             text PRIMARY KEY,
    customer_id         text NOT NULL REFERENCES demo_customers ON DELETE CASCADE,
    phase_1_tasks       jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(phase_1_tasks) = 'array'),
    phase_2_tasks       jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(phase_2_tasks) = 'array'),
    phase_3_tasks       jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(phase_3_tasks) = 'array'),
    success_probability numeric(5, 2) CHECK (success_probability BETWEEN 0 AND 100),
    completed           boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE demo_strategic_plans IS 'Strategic (rescue) plans; the strategic-planning workflow completes them.';
COMMENT ON COLUMN demo_strategic_plans.plan_id IS 'Stable identifier, e.g. aco-plan-001.';
COMMENT ON COLUMN demo_strategic_plans.customer_id IS 'The account the plan is for.';
COMMENT ON COLUMN demo_strategic_plans.phase_1_tasks IS 'Array of {task, due, status} for the first days.';
COMMENT ON COLUMN demo_strategic_plans.phase_2_tasks IS 'Array of {task, due, status} for the first weeks.';
COMMENT ON COLUMN demo_strategic_plans.phase_3_tasks IS 'Array of {task, due, status} for the first months.';
COMMENT ON COLUMN demo_strategic_plans.success_probability IS 'Estimated chance of success in percent, e.g. 78.';
COMMENT ON COLUMN demo_strategic_plans.completed IS 'Set when the strategic-planning workflow finishes.';
COMMENT ON COLUMN demo_strategic_plans.created_at IS 'When the plan was made.';
CREATE INDEX demo_strategic_plans_customer_id_idx ON demo_strategic_plans (customer_id);

CREATE TABLE demo_workflow_state (
    session_id    text PRIMARY KEY,
    customer_id   text NOT NULL REFERENCES demo_customers ON DELETE CASCADE,
    workflow_type text NOT NULL CHECK (workflow_type IN ('strategic_planning', 'risk_detection')),
    current_step  integer NOT NULL DEFAULT 1 CHECK (current_step >= 1),
    total_steps   integer NOT NULL CHECK (total_steps >= 1),
    data          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
    completed     boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT demo_workflow_state_step_within_total CHECK (current_step <= total_steps)
);
COMMENT ON TABLE demo_workflow_state IS 'Guided-workflow sessions, saved step by step.';
COMMENT ON COLUMN demo_workflow_state.session_id IS 'Unguessable session identifier (wf- and random characters).';
COMMENT ON COLUMN demo_workflow_state.customer_id IS 'The account the workflow is about.';
COMMENT ON COLUMN demo_workflow_state.workflow_type IS 'Kind of workflow, e.g. strategic_planning.';
COMMENT ON COLUMN demo_workflow_state.current_step IS 'Highest step saved so far (1 when just started).';
COMMENT ON COLUMN demo_workflow_state.total_steps IS 'Steps of the workflow type when the session started.';
COMMENT ON COLUMN demo_workflow_state.data IS 'Saved step data, keyed step_1, step_2, ...';
COMMENT ON COLUMN demo_workflow_state.completed IS 'Set when the last step is saved.';
COMMENT ON COLUMN demo_workflow_state.created_at IS 'When the session started.';
COMMENT ON COLUMN demo_workflow_state.updated_at IS 'When a step was last saved.';
CREATE INDEX demo_workflow_state_customer_id_idx ON demo_workflow_state (customer_id);
CREATE INDEX demo_workflow_state_created_at_idx ON demo_workflow_state (created_at);
-- At most one open session per customer and workflow type: a duplicate start returns it.
CREATE UNIQUE INDEX demo_workflow_state_one_open_idx
    ON demo_workflow_state (customer_id, workflow_type) WHERE NOT completed;

CREATE TABLE demo_opportunities (
    opportunity_id     text PRIMARY KEY,
    customer_id        text NOT NULL REFERENCES demo_customers ON DELETE CASCADE,
    sponsor_contact_id text REFERENCES demo_contacts ON DELETE SET NULL,
    name               text NOT NULL CHECK (name <> ''),
    value              numeric(14, 2) NOT NULL CHECK (value >= 0),
    status             text NOT NULL CHECK (status IN ('identified', 'evaluating', 'proposed', 'won', 'lost')),
    key_requirement    text,
    competitors        text[] NOT NULL DEFAULT '{}',
    urgency            text NOT NULL CHECK (urgency IN ('low', 'medium', 'high')),
    probability        numeric(5, 2) CHECK (probability BETWEEN 0 AND 100),
    created_at         timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE demo_opportunities IS 'Expansion opportunities at a customer account.';
COMMENT ON COLUMN demo_opportunities.opportunity_id IS 'Stable identifier, e.g. aco-opp-001.';
COMMENT ON COLUMN demo_opportunities.customer_id IS 'The account the opportunity is at.';
COMMENT ON COLUMN demo_opportunities.sponsor_contact_id IS 'The contact sponsoring it.';
COMMENT ON COLUMN demo_opportunities.name IS 'Initiative name, e.g. Global Synchronization Initiative.';
COMMENT ON COLUMN demo_opportunities.value IS 'Expansion value in US dollars.';
COMMENT ON COLUMN demo_opportunities.status IS 'identified, evaluating, proposed, won or lost.';
COMMENT ON COLUMN demo_opportunities.key_requirement IS 'The capability the decision turns on.';
COMMENT ON COLUMN demo_opportunities.competitors IS 'Competing vendors the customer is evaluating.';
COMMENT ON COLUMN demo_opportunities.urgency IS 'low, medium or high.';
COMMENT ON COLUMN demo_opportunities.probability IS 'Estimated chance of winning in percent.';
COMMENT ON COLUMN demo_opportunities.created_at IS 'When the opportunity was recorded.';
CREATE INDEX demo_opportunities_customer_id_idx ON demo_opportunities (customer_id);

CREATE TABLE demo_health_components (
    customer_id text NOT NULL REFERENCES demo_customers ON DELETE CASCADE,
    component   text NOT NULL CHECK (component IN (
                    'product_performance', 'relationship_strength', 'strategic_alignment',
                    'support_quality', 'executive_sponsorship')),
    score       numeric(3, 1) NOT NULL CHECK (score BETWEEN 0 AND 10),
    weight      numeric(4, 3) NOT NULL CHECK (weight > 0 AND weight <= 1),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, component)
);
COMMENT ON TABLE demo_health_components IS 'The parts of a customer''s health score; the weights of a customer sum to 1.';
COMMENT ON COLUMN demo_health_components.customer_id IS 'The account scored.';
COMMENT ON COLUMN demo_health_components.component IS 'One of the five health components.';
COMMENT ON COLUMN demo_health_components.score IS 'Component score, 0-10.';
COMMENT ON COLUMN demo_health_components.weight IS 'Share of the overall score, 0-1.';
COMMENT ON COLUMN demo_health_components.created_at IS 'When the score was taken.';

-- The seed writes dates as offsets from the demo anchor day D, set per transaction with
-- set_config('squelch.demo_anchor', 'YYYY-MM-DD', true). Unset, they fail loudly.
CREATE FUNCTION demo_day(offset_days integer) RETURNS date
    LANGUAGE sql STABLE
    AS $$ SELECT current_setting('squelch.demo_anchor')::date + offset_days $$;
COMMENT ON FUNCTION demo_day(integer) IS 'The demo anchor day D plus offset_days.';

CREATE FUNCTION demo_time(offset_days integer, time_of_day time) RETURNS timestamptz
    LANGUAGE sql STABLE
    AS $$ SELECT (demo_day(offset_days) + time_of_day) AT TIME ZONE 'UTC' $$;
COMMENT ON FUNCTION demo_time(integer, time) IS 'A UTC instant on day D plus offset_days.';
