"""Exact data match: is this value one of *our* customers'?  Blind indexes only.

The vault keeps, per searchable field, a keyed hash (blind index) of every value.
We mirror those rows in memory and hash each candidate the same way
(``keyring.blind_index(kind, match_key(kind, canonical))``), so a match never needs
the vault's plaintext.  For a million customers the mirror holds several million
16-byte digests, so it is an open-addressing table in one ``bytearray`` (about 21
bytes a slot) rather than a ``dict`` of ``bytes`` (well over 100 bytes an entry).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping, Sequence
from typing import Final, Protocol

from privault.catalog.kinds import KindName, match_key
from privault.scan.model import CustomerMatches
from privault.store.tables import IndexRow

DIGEST_BYTES: Final[int] = 16
_MULTI: Final[int] = 0xFFFFFFFF

# Index field -> value kind (the blind-index namespace).  ``full_name`` is the
# derived index over first and last name (catalog/data/default_fields.yaml).
DEFAULT_FIELD_KINDS: Final[Mapping[str, KindName]] = {
    "email": "email",
    "phone": "phone",
    "iban": "iban",
    "customer_number": "customer_number",
    "national_id": "national_id",
    "last_name": "name",
    "full_name": "name",
}


class IndexSource(Protocol):
    """Where the index rows come from (the store, or a fake in tests)."""

    def fetch_since(self, after_id: int, limit: int) -> Sequence[IndexRow]:
        """Rows with ``id > after_id``, in increasing id order, at most ``limit``."""
        ...


class Blinder(Protocol):
    """What we need of ``privault.crypto.Keyring``."""

    def blind_index(self, namespace: str, match_key: str) -> bytes: ...


class DigestTable:
    """A multimap of 16-byte digests to small ints, linear probing over a bytearray."""

    __slots__ = ("_keys", "_mask", "_multi", "_size", "_vals")

    def __init__(self, capacity: int = 1024) -> None:
        size = 1024
        while size < capacity:
            size *= 2
        self._keys = bytearray(size * DIGEST_BYTES)
        self._vals = array("I", bytes(4 * size))  # stored value + 1; 0 is an empty slot
        self._mask = size - 1
        self._size = 0
        self._multi: dict[bytes, array[int]] = {}

    def __len__(self) -> int:
        return self._size

    @property
    def nbytes(self) -> int:
        return len(self._keys) + len(self._vals) * 4 + sum(len(a) * 4 for a in self._multi.values())

    def _slot(self, digest: bytes) -> int:
        slot = int.from_bytes(digest[:8], "little") & self._mask
        keys, vals = self._keys, self._vals
        while (
            vals[slot] and keys[slot * DIGEST_BYTES : slot * DIGEST_BYTES + DIGEST_BYTES] != digest
        ):
            slot = (slot + 1) & self._mask
        return slot

    def add(self, digest: bytes, value: int) -> None:
        if len(digest) != DIGEST_BYTES:
            raise ValueError("digest must be 16 bytes")
        if (self._size + 1) * 10 > (self._mask + 1) * 7:
            self._grow()
        slot = self._slot(digest)
        current = self._vals[slot]
        if current == 0:
            self._keys[slot * DIGEST_BYTES : slot * DIGEST_BYTES + DIGEST_BYTES] = digest
            self._vals[slot] = value + 1
            self._size += 1
        elif current == _MULTI:
            values = self._multi[digest]
            if value not in values:
                values.append(value)
        elif current != value + 1:
            self._multi[digest] = array("I", [current - 1, value])
            self._vals[slot] = _MULTI

    def get(self, digest: bytes) -> Sequence[int]:
        slot = self._slot(digest)
        current = self._vals[slot]
        if current == 0:
            return ()
        if current == _MULTI:
            return self._multi[digest]
        return (current - 1,)

    def _grow(self) -> None:
        old_keys, old_vals = self._keys, self._vals
        size = (self._mask + 1) * 2
        self._keys = bytearray(size * DIGEST_BYTES)
        self._vals = array("I", bytes(4 * size))
        self._mask = size - 1
        for slot, value in enumerate(old_vals):
            if value:
                digest = bytes(old_keys[slot * DIGEST_BYTES : slot * DIGEST_BYTES + DIGEST_BYTES])
                new_slot = self._slot(digest)
                self._keys[new_slot * DIGEST_BYTES : new_slot * DIGEST_BYTES + DIGEST_BYTES] = (
                    digest
                )
                self._vals[new_slot] = value


class CustomerIndex:
    """An in-memory mirror of the vault's blind indexes, refreshed incrementally.

    Call ``refresh()`` before a scan: it fetches only rows newer than the last one
    seen.  Rows of erased customers are not un-learnt by ``refresh`` (the store's
    feed only grows); ``rebuild()`` starts over.
    """

    def __init__(
        self,
        source: IndexSource,
        field_kinds: Mapping[str, KindName] = DEFAULT_FIELD_KINDS,
        batch_size: int = 50_000,
    ) -> None:
        self._source = source
        self.field_kinds = dict(field_kinds)
        self._batch = batch_size
        self.rebuild(refresh=False)

    def rebuild(self, *, refresh: bool = True) -> None:
        self._tables: dict[str, DigestTable] = {}
        self._customer_ids: list[str] = []
        self._customer_numbers: dict[str, int] = {}
        self.last_id = 0
        if refresh:
            self.refresh()

    def refresh(self) -> int:
        added = 0
        while True:
            rows = self._source.fetch_since(self.last_id, self._batch)
            if not rows:
                return added
            self.add_rows(rows)
            added += len(rows)
            if len(rows) < self._batch:
                return added

    def add_rows(self, rows: Iterable[IndexRow]) -> None:
        numbers, ids = self._customer_numbers, self._customer_ids
        for row in rows:
            table = self._tables.get(row.field)
            if table is None:
                table = self._tables[row.field] = DigestTable()
            number = numbers.get(row.customer_id)
            if number is None:
                number = numbers[row.customer_id] = len(ids)
                ids.append(row.customer_id)
            table.add(row.digest, number)
            self.last_id = max(self.last_id, row.id)

    @property
    def customers(self) -> int:
        return len(self._customer_ids)

    @property
    def nbytes(self) -> int:
        return sum(t.nbytes for t in self._tables.values())

    def fields_of_kind(self, kind: KindName) -> tuple[str, ...]:
        return tuple(f for f, k in self.field_kinds.items() if k == kind and self._tables.get(f))

    def lookup(self, field: str, digest: bytes) -> Sequence[int]:
        table = self._tables.get(field)
        return table.get(digest) if table is not None else ()

    def customer_id(self, number: int) -> str:
        return self._customer_ids[number]


class ExactMatcher:
    """Hashes candidates with the vault's blind-index key and looks them up."""

    def __init__(self, index: CustomerIndex, blinder: Blinder, cache_size: int = 65_536) -> None:
        self.index = index
        self._blinder = blinder
        self._cache: dict[tuple[str, str], tuple[tuple[str, int], ...]] = {}
        self._cache_size = cache_size
        self._fields: dict[KindName, tuple[str, ...]] = {}
        self._seen = index.last_id

    def fields(self, kind: KindName) -> tuple[str, ...]:
        fields = self._fields.get(kind)
        if fields is None:
            fields = self._fields[kind] = self.index.fields_of_kind(kind)
        return fields

    def match(self, kind: KindName, canonical: str) -> tuple[tuple[str, int], ...]:
        """(field, customer number) pairs whose blind index equals this value's."""
        if self.index.last_id != self._seen:
            # The index learnt new rows: cached answers (and "no match"es) are stale.
            self._cache.clear()
            self._fields.clear()
            self._seen = self.index.last_id
        fields = self.fields(kind)
        if not fields:
            return ()
        key = (kind, canonical)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        digest = self._blinder.blind_index(kind, match_key(kind, canonical))
        result = tuple((f, n) for f in fields for n in self.index.lookup(f, digest))
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[key] = result
        return result


# Index fields that identify a customer on their own (DESIGN.md §7: a surname alone is
# no match).  Names count only beside one of these, for the same customer.
NAME_FIELDS: Final[frozenset[str]] = frozenset({"first_name", "last_name", "full_name"})


class MatchTally:
    """Distinct customers seen during one scan, per field (numbers, not ids).

    A customer is present when the text holds an identifying value of theirs (e-mail,
    phone, national id, account or customer number); a name adds the name fields of a
    customer identified so, and otherwise is only a weak hint (``weak``).
    """

    def __init__(self) -> None:
        self.by_field: dict[str, set[int]] = {}
        self.names: list[frozenset[int]] = []

    def add(self, hits: Iterable[tuple[str, int]]) -> None:
        hits = tuple(hits)
        if hits and all(f in NAME_FIELDS for f, _ in hits):
            self.names.append(frozenset(n for _, n in hits))
        for field, number in hits:
            self.by_field.setdefault(field, set()).add(number)

    def result(self, index: CustomerIndex | None) -> CustomerMatches:
        if index is None or not self.by_field:
            return CustomerMatches()
        strong: set[int] = set()
        for name, numbers in self.by_field.items():
            if name not in NAME_FIELDS:
                strong |= numbers
        weak = sum(1 for numbers in self.names if numbers.isdisjoint(strong))
        by_field = {
            name: len(numbers & strong)
            for name, numbers in self.by_field.items()
            if numbers & strong
        }
        fields: dict[str, set[str]] = {}
        for name, numbers in self.by_field.items():
            for number in numbers & strong:
                fields.setdefault(index.customer_id(number), set()).add(name)
        return CustomerMatches(
            customers=len(strong),
            by_field=by_field,
            customer_ids=frozenset(fields),
            customer_fields={c: frozenset(f) for c, f in fields.items()},
            weak=weak,
        )
