"""Operations, newest first."""

from __future__ import annotations

from squelch import clock
from squelch.domain.customers import read_for_customer
from squelch.models.operations import OperationList
from squelch.queries import operations as queries


def of_customer(ref: str) -> OperationList:
    today = clock.today()
    rows = read_for_customer(ref, lambda conn, customer: queries.list_for(conn, customer["customer_id"], today))
    return OperationList.model_validate({"operations": rows})
