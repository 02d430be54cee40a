"""The "AI" text: canned sentences whose every number, name and date comes from the data."""
