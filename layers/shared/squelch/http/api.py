"""The resolver every route function builds at module level: validation, errors, CORS in one place."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from squelch.http.errors import register_error_handlers


def create_api() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True, response_validation_error_http_code=500)
    register_error_handlers(app)
    return app
