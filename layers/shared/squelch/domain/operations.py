"""Operations, newest first."""

from __future__ import annotations

from squelch import clock
from squelch.domain.customers import read_for_customer
from squelch.models.common import from_row
from squelch.models.operations import Operation, OperationList
from squelch.queries import operations as queries


def of_customer(ref: str) -> OperationList:
    today = clock.today()
    rows = read_for_customer(ref, lambda conn, customer: queries.list_for(conn, customer.customer_id, today))
    return OperationList(operations=[from_row(Operation, row) for row in rows])
