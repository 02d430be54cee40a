"""Domain logic: what the routes compute from the data, free of HTTP."""
