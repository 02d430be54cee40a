"""Types shared by the request and response models: money and scores are JSON numbers, dates
YYYY-MM-DD, path parameters bounded, and no string PostgreSQL cannot store."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import AfterValidator, BaseModel, PlainSerializer, WithJsonSchema

M = TypeVar("M", bound=BaseModel)


def from_row(model: type[M], row: object, **computed: object) -> M:
    """The answer model of a typed row (a query's dataclass, read by attribute, nested ones too),
    with the fields the row does not carry computed by the caller."""
    present = {name: getattr(row, name) for name in model.model_fields if hasattr(row, name)}
    return model.model_validate(present | computed, from_attributes=True)


def json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


# PostgreSQL numeric arrives as Decimal; it is written 1500000 and 4.2, never "1500000.00".
Number = Annotated[
    Decimal,
    PlainSerializer(json_number, return_type=Any, when_used="json"),
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
    Path(
        description="Workflow session id, as start returned it.",
        min_length=1,
        max_length=128,
        pattern=r"^[^\x00/]+$",
        examples=["wf-3q2Xb0cV9yTn4mLk8PwRzA1s"],
    ),
]


UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable_text(value: str) -> str:
    # PostgreSQL text and jsonb hold neither U+0000 nor a lone surrogate (JSON can say "\ud800", UTF-8
    # cannot encode it); refuse them at the door rather than fail in the driver.
    if UNSTORABLE.search(value):
        raise ValueError("must not contain NUL (U+0000) or unpaired surrogate (U+D800-U+DFFF) characters")
    return value


Text = Annotated[str, AfterValidator(_storable_text)]


def storable_json(value: Any, depth: int = 0) -> Any:
    """A JSON value PostgreSQL's jsonb can store: no NUL or lone surrogate in strings or keys, no NaN
    or infinities, at most 32 levels deep."""
    if depth > 32:
        raise ValueError("is nested more than 32 levels deep")
    if isinstance(value, str):
        return _storable_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must not contain NaN or infinite numbers")
    if isinstance(value, dict):
        return {_storable_text(k): storable_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [storable_json(v, depth + 1) for v in value]
    return value
