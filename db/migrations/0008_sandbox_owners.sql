-- Presenters own their sandboxes. A sandbox records who created it: only they, or a member of the
-- admin group, may reset or delete it. The default sandbox is everyone's (it is what clients without
-- the header see) and has no owner. Sandboxes made before this migration have none either: the first
-- presenter to reset one becomes its owner.
--
-- A sandbox may be private: starting or saving a workflow in it then takes its key (the
-- X-Demo-Sandbox-Key header), which the console shows its owner, so knowing a sandbox's name is not
-- enough to complete a presenter's workflow. The default sandbox is never private.

ALTER TABLE demo_sandboxes
    ADD COLUMN owner text CHECK (owner IS NULL OR (name <> 'default' AND owner <> '')),
    ADD COLUMN sandbox_key text CHECK (sandbox_key IS NULL OR (name <> 'default' AND sandbox_key ~ '^[A-Za-z0-9_-]{32}$'));
COMMENT ON COLUMN demo_sandboxes.owner IS
    'The presenter who created it (their token''s username), who may reset or delete it; NULL: the default sandbox, or one made before owners were recorded (its next presenter''s reset claims it).';
COMMENT ON COLUMN demo_sandboxes.sandbox_key IS
    'Private sandboxes only: the key a workflow start or step save must send in X-Demo-Sandbox-Key; NULL: public.';
