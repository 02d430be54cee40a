"""Operations, newest first."""

from __future__ import annotations

from squelch.domain.customers import read_for_customer
from squelch.models.operations import OperationList
from squelch.queries import operations as queries


def of_customer(ref: str) -> OperationList:
    rows = read_for_customer(ref, lambda conn, customer: queries.list_for(conn, customer["customer_id"]))
    return OperationList.model_validate({"operations": rows})
