-- Deletes every demo customer and, through ON DELETE CASCADE, everything that belongs to one:
-- contacts, operations, tickets, contracts, plans, workflow sessions, opportunities, health.
-- Customers without is_demo are never touched.
DELETE FROM demo_customers WHERE is_demo;
