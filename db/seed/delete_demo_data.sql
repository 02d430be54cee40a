-- Deletes every demo customer of the transaction's sandbox and, through ON DELETE CASCADE,
-- everything that belongs to one: contacts, operations, tickets, contracts, plans, workflow
-- sessions, opportunities, health. Customers without is_demo, and other sandboxes, are never
-- touched (row-level security keeps the API's login to its sandbox; the condition says it for the
-- schema's owner, who runs the first seed).
DELETE FROM demo_customers WHERE is_demo AND sandbox = current_setting('squelch.sandbox');
