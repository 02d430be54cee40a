"""SQL, one module per concern; functions take a connection and return rows as dicts."""
