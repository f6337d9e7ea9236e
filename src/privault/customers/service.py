"""The customer store: create, update, fetch, find, list, count, destroy a data key.

``fetch``/``fetch_many`` return plaintext and are for the library's own use: the access
gate is the only caller outside this slice allowed to turn them into output.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Connection,
    CursorResult,
    Engine,
    FromClause,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from privault.catalog.fields import FieldCatalog
from privault.catalog.kinds import canonical, match_key
from privault.clock import Clock
from privault.crypto import EMPTY_RECORD, DataKey, KeyProvider, Keyring
from privault.customers.records import (
    PreparedRecord,
    blind_indexes,
    canonical_values,
    prepare_new,
)
from privault.errors import N_, Conflict, InvalidInput, NotFound
from privault.store import driver
from privault.store.bulk import bulk_insert, select_by_keys
from privault.store.db import session_scope
from privault.store.tables import BlindIndex, Customer, IndexRow, table_of

CUSTOMERS = table_of(Customer)
INDEXES = table_of(BlindIndex)
FETCH_CHUNK: Final[int] = 5000


@dataclass(frozen=True, slots=True)
class CustomerRef:
    """What may be said about a customer without revealing data: ids and language."""

    id: str
    public_id: str
    language: str


_RESOLVE_BY = {
    column: driver.Statement(
        select(CUSTOMERS.c.id, CUSTOMERS.c.public_id, CUSTOMERS.c.language).where(
            CUSTOMERS.c[column] == bindparam("ref")
        )
    )
    for column in ("id", "public_id")
}


def resolve_customer(bind: Engine | Connection, reference: str) -> CustomerRef:
    """A customer by internal id or public id (``cus_...``); erased ones included."""
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return resolve_customer(connection, reference)
    column = "public_id" if reference.startswith("cus_") else "id"
    row = next(iter(_RESOLVE_BY[column].rows(bind, ref=reference)), None)
    if row is None:
        raise NotFound(N_("No customer with that id."))
    return CustomerRef(*row)


@dataclass(frozen=True, slots=True)
class Sealed:
    """One customer as stored: who, the wrapped data key (``None`` once erased) and the
    sealed record of their values -- nothing decrypted yet."""

    ref: CustomerRef
    wrapped_key: bytes | None
    record: bytes


_SEALED_COLUMNS = (
    CUSTOMERS.c.id,
    CUSTOMERS.c.public_id,
    CUSTOMERS.c.language,
    CUSTOMERS.c.wrapped_key,
    CUSTOMERS.c.sealed,
)
_LOAD_BY = {
    column: driver.Statement(
        select(*_SEALED_COLUMNS).where(CUSTOMERS.c[column] == bindparam("ref"))
    )
    for column in ("id", "public_id")
}


def _sealed(row: Sequence[Any]) -> Sealed:
    customer_id, public_id, language, wrapped, record = row[:5]
    return Sealed(
        CustomerRef(customer_id, public_id, language),
        None if wrapped is None else bytes(wrapped),
        EMPTY_RECORD if record is None else bytes(record),
    )


class CustomerService:
    def __init__(
        self,
        engine: Engine,
        keyring: Keyring,
        catalog: FieldCatalog,
        clock: Clock,
        phone_regions: Sequence[str] = ("CZ", "PK", "GB", "US", "DE"),
        key_provider: KeyProvider | None = None,
    ) -> None:
        self.engine = engine
        self.key_provider = key_provider  # lets worker processes open their own keyring
        self.keyring = keyring
        self.catalog = catalog
        self.clock = clock
        self.phone_regions = tuple(phone_regions)

    # -- writing --------------------------------------------------------------------

    def prepare(
        self, values: Mapping[str, str | None], language: str | None = None
    ) -> PreparedRecord:
        return prepare_new(
            self.keyring, self.catalog, values, language=language, phone_regions=self.phone_regions
        )

    def create(
        self,
        values: Mapping[str, str | None],
        *,
        collected_for: Sequence[str] = ("essential.service",),
        language: str | None = None,
    ) -> CustomerRef:
        record = self.prepare(values, language)
        with session_scope(self.engine) as session:
            self.insert_prepared(session, [record], collected_for)
        return CustomerRef(record.customer_id, record.public_id, record.language)

    def insert_prepared(
        self, session: Session, records: Sequence[PreparedRecord], collected_for: Sequence[str]
    ) -> None:
        """Insert whole records in the caller's transaction (all or nothing)."""
        if not records:
            return
        now = self.clock.now()
        purposes = " ".join(sorted(set(collected_for)))
        bulk_insert(
            session,
            CUSTOMERS,
            (
                "id",
                "public_id",
                "language",
                "collected_for",
                "created_at",
                "updated_at",
                "wrapped_key",
                "key_version",
                "sealed",
            ),
            [
                (
                    r.customer_id,
                    r.public_id,
                    r.language,
                    purposes,
                    now,
                    now,
                    r.wrapped_key,
                    r.key_version,
                    r.sealed,
                )
                for r in records
            ],
        )
        bulk_insert(
            session,
            INDEXES,
            ("customer_id", "field", "digest"),
            [(r.customer_id, f, d) for r in records for f, d in r.indexes],
        )

    def update(self, customer_id: str, values: Mapping[str, str | None]) -> None:
        """Set (or, with ``None``/empty, remove) values; indexes follow in one transaction."""
        changes = canonical_values(self.catalog, values, self.phone_regions)
        now = self.clock.now()
        with session_scope(self.engine) as session:
            data_key, sealed = self._data_key(session, customer_id, lock=True)
            index_sources = sorted(self._index_sources())
            current = Keyring.open_record(data_key, customer_id, sealed, index_sources)
            merged: dict[str, str | None] = {**current, **changes}
            session.execute(
                update(CUSTOMERS)
                .where(CUSTOMERS.c.id == customer_id)
                .values(
                    sealed=Keyring.update_record(data_key, customer_id, sealed, changes),
                    updated_at=now,
                )
            )
            session.execute(delete(INDEXES).where(INDEXES.c.customer_id == customer_id))
            rows = blind_indexes(
                self.keyring, self.catalog, {k: v for k, v in merged.items() if k in index_sources}
            )
            if rows:
                session.execute(
                    insert(INDEXES),
                    [{"customer_id": customer_id, "field": f, "digest": d} for f, d in rows],
                )

    def destroy_key(self, customer_id: str) -> None:
        """Crypto-shredding: without its data key no value of the customer can be opened."""
        with session_scope(self.engine) as session:
            result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
                update(CUSTOMERS)
                .where(CUSTOMERS.c.id == customer_id)
                .values(wrapped_key=None, key_version=None, erased_at=self.clock.now())
            )
            if result.rowcount == 0:
                raise NotFound(N_("No customer with that id."))
            session.execute(delete(INDEXES).where(INDEXES.c.customer_id == customer_id))

    # -- reading ----------------------------------------------------------------------

    def _index_sources(self) -> set[str]:
        names = {d.name for d in self.catalog if d.searchable}
        for derived in self.catalog.derived_indexes:
            names.update(derived.sources)
        return names

    def _data_key(
        self, session: Session, customer_id: str, *, lock: bool = False
    ) -> tuple[DataKey, bytes]:
        """The customer's data key and sealed record (locked for update on PostgreSQL)."""
        query = select(CUSTOMERS.c.wrapped_key, CUSTOMERS.c.sealed).where(
            CUSTOMERS.c.id == customer_id
        )
        if lock and session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        row = session.execute(query).one_or_none()
        if row is None:
            raise NotFound(N_("No customer with that id."))
        if row.wrapped_key is None:
            raise Conflict(N_("This customer's data has been erased."))
        return self.keyring.unwrap(customer_id, row.wrapped_key), row.sealed or EMPTY_RECORD

    def load(self, connection: Connection, reference: str) -> Sealed:
        """A customer (internal or public id) with the wrapped key and sealed record, in
        one driver-level query (the access gate's per-request read; ``store.driver``)."""
        column = "public_id" if reference.startswith("cus_") else "id"
        found = _LOAD_BY[column].rows(connection, ref=reference)
        if not found:
            raise NotFound(N_("No customer with that id."))
        return _sealed(found[0])

    def open(self, sealed: Sealed, fields: Sequence[str]) -> dict[str, str | None]:
        """Plaintext of ``fields`` from a loaded customer (library-internal; see module
        docstring).  Only the fields named are opened."""
        for name in fields:
            self.catalog.require(name)
        if sealed.wrapped_key is None:
            raise Conflict(N_("This customer's data has been erased."))
        data_key = self.keyring.unwrap(sealed.ref.id, sealed.wrapped_key)
        return Keyring.open_record(data_key, sealed.ref.id, sealed.record, fields)

    def fetch(self, customer_id: str, fields: Sequence[str]) -> dict[str, str | None]:
        """Plaintext of the given fields (library-internal; see module docstring).

        One query: the wrapped key and the sealed record together; only the fields
        asked for are opened.
        """
        for name in fields:
            self.catalog.require(name)
        with self.engine.connect() as connection:
            sealed = self.load(connection, customer_id)
        return self.open(sealed, fields)

    def sealed_where(
        self,
        connection: Connection,
        where: ColumnElement[bool],
        extra: Sequence[ColumnElement[Any]] = (),
        chunk: int = FETCH_CHUNK,
        *,
        source: FromClause = CUSTOMERS,
    ) -> Iterator[tuple[Sealed, tuple[Any, ...]]]:
        """Every customer matching ``where``, in id order, with the wrapped key, the
        sealed record and the values of the ``extra`` columns: one streamed query
        (over ``source``: the customers, or the customers joined to what ``where`` and
        ``extra`` read).

        The access gate's exports use this: the policy's condition and the sealed values
        come from the same statement; nothing is decrypted here.
        """
        query = (
            select(*_SEALED_COLUMNS, *extra)
            .select_from(source)
            .where(where)
            .order_by(CUSTOMERS.c.id)
        )
        result = connection.execution_options(yield_per=chunk).execute(query)
        for rows in result.partitions():
            for row in rows:
                yield _sealed(row), tuple(row[5:])

    def fetch_many(
        self, customer_ids: Sequence[str], fields: Sequence[str]
    ) -> Iterator[tuple[str, dict[str, str | None]]]:
        """Plaintext for many customers, only the fields asked for, streamed in chunks
        and in the order given; erased customers (no key) and unknown ids are skipped.

        One query per chunk reads each customer's wrapped key and sealed record as plain
        driver tuples; the keyring then unwraps once per customer and opens only the
        fields asked for.
        """
        for name in fields:
            self.catalog.require(name)
        wanted = list(fields)
        open_records = self.keyring.open_records
        with self.engine.connect() as connection:
            for start in range(0, len(customer_ids), FETCH_CHUNK):
                chunk = customer_ids[start : start + FETCH_CHUNK]
                rows = select_by_keys(
                    connection,
                    CUSTOMERS,
                    ("id", "wrapped_key", "sealed"),
                    "id",
                    chunk,
                    where="wrapped_key IS NOT NULL",
                )
                records = [(cid, key, sealed or EMPTY_RECORD) for cid, key, sealed in rows]
                opened = open_records(records, wanted)
                for customer_id in chunk:
                    found = opened.get(customer_id)
                    if found is not None:
                        yield customer_id, found

    def find(self, field: str, value: str) -> list[CustomerRef]:
        """Customers whose ``field`` equals ``value``, through the blind index only."""
        definition = self.catalog.require(field)
        if not definition.searchable:
            raise InvalidInput(N_("The field '%(field)s' is not searchable."), field=field)
        digest = self.keyring.blind_index(
            definition.kind,
            match_key(definition.kind, canonical(definition.kind, value, self.phone_regions)),
        )
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(CUSTOMERS.c.id, CUSTOMERS.c.public_id, CUSTOMERS.c.language)
                .join(INDEXES, INDEXES.c.customer_id == CUSTOMERS.c.id)
                .where(INDEXES.c.field == field, INDEXES.c.digest == digest)
                .order_by(CUSTOMERS.c.created_at, CUSTOMERS.c.id)
            ).all()
        return [CustomerRef(*row) for row in rows]

    def resolve(self, reference: str) -> CustomerRef:
        """A customer by internal id or public id (``cus_...``); erased ones included."""
        return resolve_customer(self.engine, reference)

    def get(self, customer_id: str) -> CustomerRef:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(CUSTOMERS.c.id, CUSTOMERS.c.public_id, CUSTOMERS.c.language).where(
                    CUSTOMERS.c.id == customer_id
                )
            ).one_or_none()
        if row is None:
            raise NotFound(N_("No customer with that id."))
        return CustomerRef(*row)

    def page(self, limit: int = 100, after: str | None = None) -> list[CustomerRef]:
        """Ids only, in id order; ``after`` is the last id of the previous page."""
        if not 1 <= limit <= 10_000:
            raise InvalidInput(N_("limit must be between 1 and 10000."))
        query = select(CUSTOMERS.c.id, CUSTOMERS.c.public_id, CUSTOMERS.c.language).order_by(
            CUSTOMERS.c.id
        )
        if after is not None:
            query = query.where(CUSTOMERS.c.id > after)
        with self.engine.connect() as connection:
            return [CustomerRef(*row) for row in connection.execute(query.limit(limit))]

    def count(self, *, include_erased: bool = False) -> int:
        query = select(func.count()).select_from(CUSTOMERS)
        if not include_erased:
            query = query.where(CUSTOMERS.c.erased_at.is_(None))
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def fetch_since(self, after_id: int = 0, limit: int = 50_000) -> list[IndexRow]:
        """Index rows with ``id > after_id``: how the scanner's exact match refreshes
        (this makes the service a ``privault.scan.IndexSource``)."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(INDEXES.c.id, INDEXES.c.field, INDEXES.c.customer_id, INDEXES.c.digest)
                .where(INDEXES.c.id > after_id)
                .order_by(INDEXES.c.id)
                .limit(limit)
            ).all()
        return [IndexRow(r.id, r.field, r.customer_id, bytes(r.digest)) for r in rows]


__all__ = ["CustomerRef", "CustomerService", "IndexRow", "Sealed", "resolve_customer"]
