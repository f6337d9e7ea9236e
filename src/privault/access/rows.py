"""The rows of an export: the policy's condition in SQL, decryption, views.

An export's summary is decided and audited by the gate before the first row is
produced (``AccessGate.export``); this module only produces the rows it allowed, from
one streamed query that brings each customer's condition flags with the wrapped data
key and the sealed record.

(Measured and left out: decrypting in worker processes.  On 2 cores the workers had
to load the customers again by id and the rows cross a pipe; the CPU per row almost
doubled, so the wall time did not improve.)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, and_

from privault.access import conditions
from privault.access.views import apply_view
from privault.customers.service import CustomerService, Sealed
from privault.policy import Condition
from privault.policy.request import View
from privault.store.tables import Customer, table_of

CUSTOMERS = table_of(Customer)
FETCH_CHUNK: Final[int] = 2000


@dataclass(frozen=True, slots=True)
class Record:
    """One customer's answer: the pseudonymous id and each allowed field in its view."""

    customer: str
    values: Mapping[str, str | None]


@dataclass(frozen=True, slots=True)
class RowPlan:
    """What the rows of one export are (plain values, so worker processes get it too):
    the distinct conditions, each field's condition (an index into them) and view, and
    the moment the consent state is read at."""

    conditions: tuple[Condition, ...]
    field_condition: tuple[tuple[str, int], ...]
    views: tuple[tuple[str, View], ...]
    at: datetime

    @classmethod
    def build(
        cls, field_conditions: Mapping[str, Condition], views: Mapping[str, View], at: datetime
    ) -> RowPlan:
        distinct = tuple(dict.fromkeys(field_conditions.values()))
        index = {c: i for i, c in enumerate(distinct)}
        return cls(
            distinct,
            tuple((name, index[c]) for name, c in field_conditions.items()),
            tuple(views.items()),
            at,
        )


class _Rows:
    """Decrypts and shows one customer's row as a plan says (in whichever process)."""

    def __init__(self, customers: CustomerService, plan: RowPlan) -> None:
        self.customers = customers
        self.views = dict(plan.views)
        self.condition_of = dict(plan.field_condition)
        self.names = list(self.views)

    def record(self, sealed: Sealed, passes: Sequence[Any]) -> Record | None:
        if sealed.wrapped_key is None:
            return None  # erased while the export ran
        customer_id = sealed.ref.id
        # Only the fields this customer's conditions allow are decrypted.
        shown = [n for n in self.names if passes[self.condition_of[n]]]
        plain = self.customers.open(sealed, shown) if shown else {}
        values: dict[str, str | None] = dict.fromkeys(self.names)
        kinds = self.customers.catalog.fields
        for name in shown:
            value = plain[name]
            if value is not None:
                values[name] = apply_view(
                    self.customers.keyring,
                    self.views[name],
                    kinds[name].kind,
                    customer_id,
                    name,
                    value,
                )
        return Record(sealed.ref.public_id, values)


def records(customers: CustomerService, plan: RowPlan, connection: Connection) -> Iterator[Record]:
    """The rows, in customer id order, in this process: one streamed query brings each
    customer's condition flags with the wrapped key and sealed record."""
    rows = _Rows(customers, plan)
    joined = conditions.Joined(plan.at)
    flags = [joined.passes(c).label(f"c{i}") for i, c in enumerate(plan.conditions)]
    # Customers that get a row: not erased, and passing any field's condition.
    where = and_(CUSTOMERS.c.erased_at.is_(None), joined.any_of(plan.conditions))
    found = customers.sealed_where(connection, where, flags, FETCH_CHUNK, source=joined.source)
    for sealed, passes in found:
        record = rows.record(sealed, passes)
        if record is not None:
            yield record


def export_rows(customers: CustomerService, plan: RowPlan) -> Iterator[Record]:
    """The rows of an export, on a connection of their own (the summary is already
    audited; the stream may be read long after ``AccessGate.export`` returned)."""
    with customers.engine.connect() as connection:
        yield from records(customers, plan, connection)


__all__ = ["Record", "RowPlan", "export_rows", "records"]
