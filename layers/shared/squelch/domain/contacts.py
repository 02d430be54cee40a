"""Contacts, with how long since anyone spoke to each."""

from __future__ import annotations

from squelch import clock
from squelch.domain.customers import read_for_customer
from squelch.models.common import from_row
from squelch.models.contacts import Contact, ContactList
from squelch.queries import contacts as queries


def of_customer(ref: str) -> ContactList:
    today = clock.today()
    rows = read_for_customer(ref, lambda conn, customer: queries.list_for(conn, customer.customer_id, today))
    return ContactList(
        contacts=[
            from_row(Contact, row, days_since_contact=(today - row.last_contact).days if row.last_contact else None)
            for row in rows
        ]
    )
