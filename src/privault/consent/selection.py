"""Many customers at once: the SQL filters the access gate joins, counts per reason,
streams of eligible ids, and the customers a consent request may ask.

The filters themselves (and the selection columns they read) are in
``privault.consent.filters``; this adds purpose checks, the injected clock and the
ways to run them on each database.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import ColumnElement, Connection, CursorResult, Engine, Select, func, select

from privault.catalog.taxonomy import Taxonomy
from privault.clock import Clock
from privault.consent.filters import (
    CUSTOMERS,
    consent_filter,
    dialect_name,
    eligible_filter,
    eligible_ids,
    erased_ids,
    granted_ids,
    objecting_ids,
    objection_filter,
    restricted_ids,
    restriction_filter,
    undecided_filter,
    without,
)
from privault.consent.schemas import ExclusionCounts
from privault.consent.validation import check_purpose
from privault.customers.service import CustomerRef

ID_BATCH: Final[int] = 10_000


def _stream_postgresql(
    connection: Connection, query: Select[Any], batch: int
) -> Iterator[list[str]]:
    """Ids in chunks through libpq's chunked streaming (psycopg ``stream(size=...)``).

    Not a server-side cursor: PostgreSQL neither runs cursors in parallel nor plans
    them for the whole result, which made streaming a million ids several times slower
    than counting them.  Parameters here are strings and aware datetimes, which psycopg
    adapts exactly as the column types would.
    """
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    driver: Any = connection.connection.driver_connection
    cursor = driver.cursor()
    if "size" not in inspect.signature(cursor.stream).parameters:  # psycopg < 3.2
        cursor.execute(str(compiled), compiled.params)
        while rows := cursor.fetchmany(batch):
            yield [row[0] for row in rows]
        return
    chunk: list[str] = []
    for row in cursor.stream(str(compiled), compiled.params, size=batch):
        chunk.append(row[0])
        if len(chunk) >= batch:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class Selection:
    """Which customers a purpose may reach, and why the others are left out."""

    def __init__(self, engine: Engine, taxonomy: Taxonomy, clock: Clock) -> None:
        self.engine = engine
        self.taxonomy = taxonomy
        self.clock = clock

    def _at(self, at: datetime | None) -> datetime:
        return at or self.clock.now()

    def consent_filter(
        self, purpose: str, recipient: str | None = None, at: datetime | None = None
    ) -> ColumnElement[bool]:
        wanted = check_purpose(self.taxonomy, purpose, recipient)
        return consent_filter(purpose, wanted, at=self._at(at), bind=self.engine)

    def objection_filter(self, purpose: str, at: datetime | None = None) -> ColumnElement[bool]:
        self.taxonomy.require_use(purpose)
        return objection_filter(purpose, at=self._at(at), bind=self.engine)

    def restriction_filter(self, at: datetime | None = None) -> ColumnElement[bool]:
        return restriction_filter(at=self._at(at), bind=self.engine)

    def eligible_filter(
        self, purpose: str, recipient: str | None = None, at: datetime | None = None
    ) -> ColumnElement[bool]:
        wanted = check_purpose(self.taxonomy, purpose, recipient)
        return eligible_filter(purpose, wanted, at=self._at(at), bind=self.engine)

    def eligible_ids(
        self, purpose: str, recipient: str | None = None, at: datetime | None = None
    ) -> Select[Any]:
        wanted = check_purpose(self.taxonomy, purpose, recipient)
        return eligible_ids(purpose, wanted, at=self._at(at), bind=self.engine)

    def count_eligible(
        self, purpose: str, recipient: str | None = None, at: datetime | None = None
    ) -> int:
        """How many customers (not erased) may be used for ``purpose`` now."""
        ids = self.eligible_ids(purpose, recipient, at).subquery()
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(ids)).scalar_one())

    def iter_eligible_ids(
        self,
        purpose: str,
        recipient: str | None = None,
        at: datetime | None = None,
        batch: int = ID_BATCH,
        *,
        ordered: bool = False,
    ) -> Iterator[list[str]]:
        """Ids of the customers who may be used for ``purpose``, in batches (in id order
        when ``ordered``; otherwise in index order, which is cheaper)."""
        query = self.eligible_ids(purpose, recipient, at)
        if ordered:
            query = query.order_by(query.selected_columns[0])
        with self.engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                yield from _stream_postgresql(connection, query, batch)
                return
            if connection.dialect.name != "sqlite":
                streamed = connection.execution_options(yield_per=batch).execute(query)
                for part in streamed.scalars().partitions(batch):
                    yield list(part)
                return
            # SQLite steps through rows lazily anyway.  Ids are plain strings: read the
            # driver's cursor directly and skip building a Row per id.
            result = cast(CursorResult[Any], connection.execute(query))
            try:
                while rows := result.cursor.fetchmany(batch):
                    yield [row[0] for row in rows]
            finally:
                result.close()

    def count_exclusions(
        self, purpose: str, recipient: str | None = None, at: datetime | None = None
    ) -> ExclusionCounts:
        """How many customers ``purpose`` reaches, and how many each reason excludes
        (customers not erased; a customer may count under several reasons)."""
        wanted = check_purpose(self.taxonomy, purpose, recipient)
        when = self._at(at)
        dialect = dialect_name(self.engine)
        alive = CUSTOMERS.c.erased_at.is_(None)

        def count_of(query: Select[Any]) -> Any:
            return select(func.count()).select_from(query.subquery()).scalar_subquery()

        erased = erased_ids()
        granted = granted_ids(purpose, wanted or "", when).subquery("granted")
        objecting = objecting_ids(purpose, when).distinct().subquery("objecting")
        restricted = restricted_ids(when).distinct().subquery("restricted")

        def alive_among(ids: Any) -> Select[Any]:
            # Counted from the consent tables, leaving out erased customers: no
            # customer row is read per id.
            return select(ids.c.customer_id).where(
                without(
                    dialect, ids.c.customer_id, erased, lambda: CUSTOMERS.c.id == ids.c.customer_id
                )
            )

        query = select(
            count_of(select(CUSTOMERS.c.id).where(alive)),
            count_of(eligible_ids(purpose, wanted, at=when, bind=dialect)),
            count_of(alive_among(granted)),
            count_of(alive_among(objecting)),
            count_of(alive_among(restricted)),
        )
        with self.engine.connect() as connection:
            total, eligible, consented, objection, restriction = connection.execute(query).one()
        return ExclusionCounts(
            purpose,
            wanted,
            int(total),
            int(eligible),
            int(total) - int(consented),
            int(objection),
            int(restriction),
        )

    def undecided(
        self, purpose: str, recipient: str | None = None, at: datetime | None = None
    ) -> list[CustomerRef]:
        """Customers a consent request may ask: no decision, no objection, not restricted,
        not erased."""
        wanted = check_purpose(self.taxonomy, purpose, recipient)
        when = self._at(at)
        query = (
            select(CUSTOMERS.c.id, CUSTOMERS.c.public_id, CUSTOMERS.c.language)
            .where(
                CUSTOMERS.c.erased_at.is_(None),
                undecided_filter(purpose, wanted, at=when),
                objection_filter(purpose, at=when, bind=self.engine),
                restriction_filter(at=when, bind=self.engine),
            )
            .order_by(CUSTOMERS.c.id)
        )
        with self.engine.connect() as connection:
            return [CustomerRef(*row) for row in connection.execute(query)]
