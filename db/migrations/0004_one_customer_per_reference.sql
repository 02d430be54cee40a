-- A customer reference (an id like aco-001 or a slug like aco) names exactly one customer: no
-- customer's id may equal another customer's slug. Every id and slug is kept in one table whose
-- primary key refuses a second owner of the same reference, even between concurrent inserts.

CREATE TABLE demo_customer_refs (
    ref         text PRIMARY KEY,
    customer_id text NOT NULL REFERENCES demo_customers ON DELETE CASCADE ON UPDATE CASCADE
);
COMMENT ON TABLE demo_customer_refs IS 'Every customer id and slug; kept by a trigger on demo_customers.';
COMMENT ON COLUMN demo_customer_refs.ref IS 'A customer id or slug; unique across both.';
COMMENT ON COLUMN demo_customer_refs.customer_id IS 'The customer it names.';
CREATE INDEX demo_customer_refs_customer_id_idx ON demo_customer_refs (customer_id);

CREATE FUNCTION demo_customer_refs_keep() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    taken text;
BEGIN
    DELETE FROM demo_customer_refs WHERE customer_id = NEW.customer_id AND ref NOT IN (NEW.customer_id, NEW.slug);
    SELECT customer_id INTO taken FROM demo_customer_refs
    WHERE ref IN (NEW.customer_id, NEW.slug) AND customer_id <> NEW.customer_id;
    IF FOUND THEN
        RAISE EXCEPTION 'customer reference already names customer %', taken
            USING ERRCODE = 'unique_violation', DETAIL = format('customer %s: id %s, slug %s', NEW.customer_id,
                                                                 NEW.customer_id, NEW.slug);
    END IF;
    INSERT INTO demo_customer_refs (ref, customer_id)
    SELECT DISTINCT ref, NEW.customer_id FROM unnest(ARRAY[NEW.customer_id, NEW.slug]) AS ref
    ON CONFLICT (ref) DO NOTHING;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION demo_customer_refs_keep() IS 'Records a customer''s id and slug; refuses one another customer holds.';

CREATE TRIGGER demo_customer_refs_keep
    AFTER INSERT OR UPDATE OF customer_id, slug ON demo_customers
    FOR EACH ROW EXECUTE FUNCTION demo_customer_refs_keep();

INSERT INTO demo_customer_refs (ref, customer_id)
SELECT DISTINCT ref, customer_id FROM demo_customers, unnest(ARRAY[customer_id, slug]) AS ref;
