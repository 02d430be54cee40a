-- Who reset the demo, when, and how long it took (the task list's "log demo resets" question).
-- Not demo data: the reset never deletes it.

CREATE TABLE demo_reset_log (
    reset_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    requested_by text NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    anchor_date  date NOT NULL,
    duration_ms  numeric(10, 1) NOT NULL CHECK (duration_ms >= 0),
    source_ip    text
);
COMMENT ON TABLE demo_reset_log IS 'One row per demo reset, written in the reset''s own transaction.';
COMMENT ON COLUMN demo_reset_log.reset_id IS 'Sequence number of the reset.';
COMMENT ON COLUMN demo_reset_log.requested_by IS 'Who asked: the token''s username or subject.';
COMMENT ON COLUMN demo_reset_log.requested_at IS 'When the reset ran.';
COMMENT ON COLUMN demo_reset_log.anchor_date IS 'The demo day D the story was re-seeded around.';
COMMENT ON COLUMN demo_reset_log.duration_ms IS 'Time to delete and re-seed, in milliseconds.';
COMMENT ON COLUMN demo_reset_log.source_ip IS 'Client address as API Gateway saw it.';
CREATE INDEX demo_reset_log_requested_at_idx ON demo_reset_log (requested_at);
