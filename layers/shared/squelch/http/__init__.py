"""HTTP glue shared by the route functions: the resolver factory and the error mapping."""

from squelch.http.api import create_api

__all__ = ["create_api"]
