"""SQL, one module per concern. Each function takes a connection and returns typed rows: frozen
dataclasses filled by psycopg's class_row, one per query shape, named for what a row is."""
