"""Types shared by the response models: money and scores are JSON numbers, dates YYYY-MM-DD."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import PlainSerializer, WithJsonSchema


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


# PostgreSQL numeric arrives as Decimal; it is written 1500000 and 4.2, never "1500000.00".
Number = Annotated[
    Decimal,
    PlainSerializer(_json_number, return_type=Any, when_used="json"),
    WithJsonSchema({"type": "number"}, mode="serialization"),
]
Money = Number


CustomerRef = Annotated[
    str,
    Path(
        description="Customer id (aco-001) or slug (aco).",
        min_length=1,
        max_length=128,
        pattern=r"^[^\x00/]+$",
        examples=["aco"],
    ),
]

SessionId = Annotated[
    str,
    Path(description="Workflow session id, as start returned it.", min_length=1, max_length=128,
         pattern=r"^[^\x00/]+$", examples=["wf-3q2Xb0cV9yTn4mLk8PwRzA1s"]),
]
