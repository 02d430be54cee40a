"""Squelch Act 1 demo back end: the shared layer (settings, data access, domain logic, HTTP glue)."""
