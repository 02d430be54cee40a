"""Configuration, parsed once per container from the environment into a typed model."""

from __future__ import annotations

import os
from datetime import date
from functools import cache
from typing import Literal

from pydantic import BaseModel, Field, SecretStr


class Settings(BaseModel):
    database_url: str | None = Field(None, description="libpq URL; wins over db_secret_arn")
    db_secret_arn: str | None = Field(None, description="RDS-style Secrets Manager secret")
    db_runtime_secret_arn: str | None = Field(
        None, description="migrate function only: the API functions' login, created or updated from this secret"
    )
    db_proxy_endpoint: str | None = Field(None, description="RDS Proxy host; replaces the secret's host")
    db_sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] | None = Field(
        None,
        description="libpq sslmode when the URL names none; default verify-full for RDS and RDS Proxy hosts "
        "(squelch.db.tls), verify-full with db_sslrootcert, else require",
    )
    db_sslrootcert: str | None = Field(
        None, description="CA bundle (PEM file) to verify every server with, in place of the defaults; verify-full"
    )
    db_connect_timeout: int = Field(5, ge=1, le=60, description="seconds; psycopg waits 130 s by default")
    parameters_secrets_extension_http_port: int | None = Field(
        None, ge=1, le=65535, description="the Parameters and Secrets Lambda Extension's port, when it is attached"
    )
    demo_anchor_date: date | None = Field(None, description="pins the demo day D the seed counts from")
    demo_today: date | None = Field(None, description="freezes the clock of computed fields")
    ai_provider: Literal["canned", "bedrock"] = Field("canned", description="who writes AI text")
    bedrock_model_id: str | None = Field(None, description="Bedrock model for AI_PROVIDER=bedrock")
    ai_timeout_seconds: float = Field(4.0, gt=0, le=30, description="Bedrock read timeout before falling back")
    demo_max_sandboxes: int = Field(50, ge=1, description="sandboxes a deployment keeps at most")
    demo_sandbox_ttl_days: int = Field(14, ge=1, description="idle sandboxes older than this go when one is created")
    jwt_audiences: str = Field(
        # The local servers' one client (`make demo-token`, the console's local sign-in, the sample
        # events); the stack sets its own clients (the HttpApi authorizer's audience).
        "squelch-local-demo",
        description="comma-separated audiences (client ids) whose access tokens the signed-in routes accept",
    )
    demo_group: str = Field("demo", description="token group whose members may reset the demo")
    demo_admin_group: str = Field(
        "demo-admin", description="token group whose members may reset or delete any presenter's sandbox"
    )
    demo_groups_claim: str = Field("cognito:groups", description="token claim that lists the caller's groups")
    aws_region: str | None = Field(None, description="the function's region (Lambda sets AWS_REGION)")
    aws_sam_local: str | None = Field(None, description="'true' in SAM CLI's containers (sam local), never in AWS")
    route_authorizer: str | None = Field(
        None, description="the authorizer of this function's route (DemoJwt, or NONE: open); read under sam local only"
    )
    sam_local_auth_key: SecretStr | None = Field(
        None, description="key of the local tokens (`make demo-token`), for sam local's containers only"
    )
    warm_functions: str | None = Field(
        None,
        description="preflight only: the route functions it warms, comma-separated Name=function (the name or ARN "
        "lambda:InvokeFunction takes: the live alias when there is one); unset: those make run loads in-process",
    )
    warm_instances: int = Field(1, ge=1, le=10, description="preflight only: concurrent warm-ups of each function")
    lambda_endpoint_url: str | None = Field(
        None, description="preflight only: Lambda's API elsewhere (sam local start-lambda's URL under sam local)"
    )
    console_authorize_url: str | None = Field(
        None, description="presenter console: the identity provider's OAuth 2 authorize endpoint"
    )
    console_token_url: str | None = Field(None, description="presenter console: the OAuth 2 token endpoint")
    console_client_id: str | None = Field(None, description="presenter console: its OAuth 2 client (public, PKCE)")
    console_scopes: str = Field("openid", description="presenter console: the scopes it asks for, space-separated")
    console_logout_url: str | None = Field(
        None, description="presenter console: where signing out ends the provider's session (Cognito's /logout)"
    )

    @property
    def warm_function_names(self) -> dict[str, str]:
        """WARM_FUNCTIONS as {name in the report: name to invoke}."""
        pairs = (item.strip().partition("=") for item in (self.warm_functions or "").split(",") if item.strip())
        return {label.strip(): (target.strip() or label.strip()) for label, _, target in pairs}

    @property
    def jwt_audience_list(self) -> list[str]:
        return [audience.strip() for audience in self.jwt_audiences.split(",") if audience.strip()]

    @classmethod
    def from_env(cls) -> Settings:
        names = {name: name.upper() for name in cls.model_fields}
        return cls.model_validate({field: os.environ[env] for field, env in names.items() if os.environ.get(env)})


@cache
def get_settings() -> Settings:
    return Settings.from_env()
