"""Runs the SAM application on this machine without Docker: template.yaml's functions are
invoked in-process with API Gateway HTTP API (payload 2.0) events, against PostgreSQL."""
