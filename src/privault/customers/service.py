"""The customer store: create, update, fetch, find, list, count, destroy a data key.

``fetch``/``fetch_many`` return plaintext and are for the library's own use: the access
gate is the only caller outside this slice allowed to turn them into output.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Connection,
    CursorResult,
    Engine,
    and_,
    bindparam,
    delete,
    false,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from privault.catalog.fields import FieldCatalog
from privault.catalog.kinds import canonical, match_key
from privault.clock import Clock
from privault.crypto import DataKey, KeyProvider, Keyring
from privault.customers.records import (
    PreparedRecord,
    blind_indexes,
    canonical_values,
    prepare_new,
    seal_values,
)
from privault.errors import N_, Conflict, InvalidInput, NotFound
from privault.store import driver
from privault.store.bulk import bulk_insert
from privault.store.db import session_scope
from privault.store.tables import BlindIndex, Customer, CustomerValue, IndexRow, table_of

CUSTOMERS = table_of(Customer)
VALUES = table_of(CustomerValue)
INDEXES = table_of(BlindIndex)
FETCH_CHUNK: Final[int] = 2000

# Built once: customers' wrapped keys joined to the ciphertexts asked for (if any).
_KEYS_AND_VALUES = select(
    CUSTOMERS.c.id, CUSTOMERS.c.wrapped_key, VALUES.c.field, VALUES.c.ciphertext
).select_from(
    CUSTOMERS.outerjoin(
        VALUES,
        and_(
            VALUES.c.customer_id == CUSTOMERS.c.id,
            VALUES.c.field.in_(bindparam("fields", expanding=True)),
        ),
    )
)
# Many customers at once (erased ones left out), grouped by customer.
_FETCH_MANY = _KEYS_AND_VALUES.where(
    CUSTOMERS.c.id.in_(bindparam("ids", expanding=True)), CUSTOMERS.c.wrapped_key.is_not(None)
).order_by(CUSTOMERS.c.id)


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
    """One customer as stored: who, the wrapped data key (``None`` once erased) and
    the ciphertexts of the fields asked for -- nothing decrypted yet."""

    ref: CustomerRef
    wrapped_key: bytes | None
    ciphertexts: Mapping[str, bytes]


_LOADS: dict[tuple[str, int], driver.Statement] = {}


def _load_statement(column: str, fields: int) -> driver.Statement:
    """Customer ``column = :ref`` with the ciphertexts of ``:f0 .. :fN`` (if any)."""
    found = _LOADS.get((column, fields))
    if found is None:
        wanted = VALUES.c.field.in_([bindparam(f"f{i}") for i in range(fields)])
        found = _LOADS[(column, fields)] = driver.Statement(
            select(
                CUSTOMERS.c.id,
                CUSTOMERS.c.public_id,
                CUSTOMERS.c.language,
                CUSTOMERS.c.wrapped_key,
                VALUES.c.field,
                VALUES.c.ciphertext,
            )
            .select_from(
                CUSTOMERS.outerjoin(
                    VALUES,
                    and_(VALUES.c.customer_id == CUSTOMERS.c.id, wanted if fields else false()),
                )
            )
            .where(CUSTOMERS.c[column] == bindparam("ref"))
        )
    return found


def _sealed(row: tuple[Any, ...], tokens: dict[str, bytes]) -> Sealed:
    customer_id, public_id, language, wrapped = row[:4]
    return Sealed(
        CustomerRef(customer_id, public_id, language),
        None if wrapped is None else bytes(wrapped),
        tokens,
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
                )
                for r in records
            ],
        )
        bulk_insert(
            session,
            VALUES,
            ("customer_id", "field", "ciphertext", "updated_at"),
            [(r.customer_id, f, c, now) for r in records for f, c in r.values],
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
            data_key = self._data_key(session, customer_id, lock=True)
            index_sources = self._index_sources()
            current = self._decrypt(session, customer_id, data_key, index_sources)
            merged: dict[str, str | None] = {**current, **changes}
            sealed = dict(seal_values(self.keyring, data_key, customer_id, changes))
            for name, value in changes.items():
                session.execute(
                    delete(VALUES).where(
                        VALUES.c.customer_id == customer_id, VALUES.c.field == name
                    )
                )
                if value is not None:
                    session.execute(
                        insert(VALUES).values(
                            customer_id=customer_id,
                            field=name,
                            ciphertext=sealed[name],
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
            session.execute(
                update(CUSTOMERS).where(CUSTOMERS.c.id == customer_id).values(updated_at=now)
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

    def _data_key(self, session: Session, customer_id: str, *, lock: bool = False) -> DataKey:
        query = select(CUSTOMERS.c.wrapped_key, CUSTOMERS.c.erased_at).where(
            CUSTOMERS.c.id == customer_id
        )
        if lock and session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        row = session.execute(query).one_or_none()
        if row is None:
            raise NotFound(N_("No customer with that id."))
        if row.wrapped_key is None:
            raise Conflict(N_("This customer's data has been erased."))
        return self.keyring.unwrap(customer_id, row.wrapped_key)

    def _decrypt(
        self, session: Session, customer_id: str, data_key: DataKey, fields: Iterable[str]
    ) -> dict[str, str | None]:
        names = list(fields)
        rows = session.execute(
            select(VALUES.c.field, VALUES.c.ciphertext).where(
                VALUES.c.customer_id == customer_id, VALUES.c.field.in_(names)
            )
        ).all()
        found = {f: self.keyring.open(data_key, customer_id, f, c) for f, c in rows}
        return {name: found.get(name) for name in names}

    def load(self, connection: Connection, reference: str, fields: Sequence[str]) -> Sealed:
        """A customer (internal or public id) with the ciphertexts of ``fields``, in one
        driver-level query (the access gate's per-request read; see ``store.driver``)."""
        for name in fields:
            self.catalog.require(name)
        column = "public_id" if reference.startswith("cus_") else "id"
        params = {f"f{i}": name for i, name in enumerate(fields)}
        found = _load_statement(column, len(fields)).rows(connection, ref=reference, **params)
        if not found:
            raise NotFound(N_("No customer with that id."))
        return _sealed(found[0], {row[4]: bytes(row[5]) for row in found if row[4] is not None})

    def open(self, sealed: Sealed, fields: Sequence[str]) -> dict[str, str | None]:
        """Plaintext of ``fields`` from a loaded customer (library-internal; see module
        docstring).  Only the fields named are decrypted."""
        if sealed.wrapped_key is None:
            raise Conflict(N_("This customer's data has been erased."))
        customer_id = sealed.ref.id
        data_key = self.keyring.unwrap(customer_id, sealed.wrapped_key)
        tokens = sealed.ciphertexts
        return {
            name: self.keyring.open(data_key, customer_id, name, tokens[name])
            if name in tokens
            else None
            for name in fields
        }

    def fetch(self, customer_id: str, fields: Sequence[str]) -> dict[str, str | None]:
        """Plaintext of the given fields (library-internal; see module docstring)."""
        with self.engine.connect() as connection:
            sealed = self.load(connection, customer_id, fields)
        return self.open(sealed, fields)

    def sealed_where(
        self,
        connection: Connection,
        where: ColumnElement[bool],
        fields: Sequence[str],
        extra: Sequence[ColumnElement[Any]] = (),
        chunk: int = FETCH_CHUNK,
    ) -> Iterator[tuple[Sealed, tuple[Any, ...]]]:
        """Every customer matching ``where`` (in id order) with the ciphertexts of
        ``fields`` and the values of the ``extra`` columns, in one streamed query.

        The access gate's exports use this: the policy's condition and the ciphertexts
        come from the same statement, nothing is decrypted here.
        """
        for name in fields:
            self.catalog.require(name)
        query = (
            select(
                CUSTOMERS.c.id,
                CUSTOMERS.c.public_id,
                CUSTOMERS.c.language,
                CUSTOMERS.c.wrapped_key,
                VALUES.c.field,
                VALUES.c.ciphertext,
                *extra,
            )
            .select_from(
                CUSTOMERS.outerjoin(
                    VALUES,
                    and_(VALUES.c.customer_id == CUSTOMERS.c.id, VALUES.c.field.in_(list(fields))),
                )
            )
            .where(where)
            .order_by(CUSTOMERS.c.id)
        )
        result = connection.execution_options(yield_per=chunk).execute(query)
        current: tuple[Any, ...] | None = None
        tokens: dict[str, bytes] = {}
        for rows in result.partitions():
            for row in rows:
                if current is None or row[0] != current[0]:
                    if current is not None:
                        yield _sealed(current, tokens), tuple(current[6:])
                    current, tokens = tuple(row), {}
                if row[4] is not None:
                    tokens[row[4]] = bytes(row[5])
        if current is not None:
            yield _sealed(current, tokens), tuple(current[6:])

    def fetch_many(
        self, customer_ids: Sequence[str], fields: Sequence[str]
    ) -> Iterator[tuple[str, dict[str, str | None]]]:
        """Plaintext for many customers, only the fields asked for, streamed in chunks.

        One query per chunk brings each customer's wrapped key with its ciphertexts;
        erased customers (no key) are skipped.
        """
        for name in fields:
            self.catalog.require(name)
        keyring = self.keyring
        wanted = list(fields)
        with self.engine.connect() as connection:
            for start in range(0, len(customer_ids), FETCH_CHUNK):
                chunk = list(customer_ids[start : start + FETCH_CHUNK])
                rows = connection.execute(_FETCH_MANY, {"ids": chunk, "fields": wanted}).all()
                values: dict[str, dict[str, str | None]] = {}
                key = None
                current = None
                for customer_id, wrapped, field, token in rows:
                    if customer_id != current:
                        current = customer_id
                        key = keyring.unwrap(customer_id, wrapped)
                        values[customer_id] = dict.fromkeys(wanted)
                    if field is not None:
                        values[customer_id][field] = keyring.open(key, customer_id, field, token)  # type: ignore[arg-type]
                for customer_id in chunk:
                    found = values.get(customer_id)
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
