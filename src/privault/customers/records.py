"""Turning raw values into what the store keeps: validated, sealed, blind-indexed.

Pure apart from the keyring: no database here, so creation, update and import share
one path and a row is either wholly valid or not written at all.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from privault.catalog.fields import FieldCatalog
from privault.catalog.kinds import canonical, match_key
from privault.crypto import Keyring
from privault.errors import FieldProblem, PrivaultError, RecordRejected
from privault.i18n import LANGUAGES, parse_language


class PreparedRecord(NamedTuple):
    """A validated, sealed, indexed new customer, ready to insert.  A named tuple, so that
    worker processes hand records back to the importer at the cost of a tuple."""

    customer_id: str
    public_id: str
    language: str
    wrapped_key: bytes
    key_version: int
    sealed: bytes
    indexes: tuple[tuple[str, bytes], ...]


def new_customer_ids() -> tuple[str, str]:
    """An internal id and a pseudonymous public id, unrelated to each other.

    The internal id is never shown outside the store, so it may be time-ordered (48 bits
    of milliseconds, then 80 random bits, like UUIDv7): new rows then land at the end
    of every index instead of at random pages, which keeps bulk imports fast.  The
    public id is random throughout.
    """
    millis = time.time_ns() // 1_000_000
    random = os.urandom(18)  # what secrets.token_bytes draws, without its wrapper
    return f"{millis:012x}{random[:10].hex()}", "cus_" + random[10:].hex()


def canonical_values(
    catalog: FieldCatalog, raw: Mapping[str, str | None], phone_regions: Sequence[str]
) -> dict[str, str | None]:
    """Validate every value by its field's kind; empty strings mean "no value".

    Raises ``RecordRejected`` listing every problem at once, never the values themselves.
    """
    result: dict[str, str | None] = {}
    problems: list[FieldProblem] = []
    for name, value in raw.items():
        definition = catalog.fields.get(name)
        if definition is None:
            problems.append(FieldProblem(name, "unknown field"))
            continue
        if value is None or value.strip() == "":
            result[name] = None
            continue
        try:
            result[name] = canonical(definition.kind, value, phone_regions)
        except PrivaultError as exc:
            problems.append(FieldProblem(name, str(exc)))
    if problems:
        raise RecordRejected(problems)
    return result


def blind_indexes(
    keyring: Keyring, catalog: FieldCatalog, values: Mapping[str, str | None]
) -> tuple[tuple[str, bytes], ...]:
    """Blind indexes for the searchable fields present, and for derived indexes whose
    sources are all present (``full_name`` = first and last name)."""
    out: list[tuple[str, bytes]] = []
    for name, value in values.items():
        definition = catalog.fields[name]
        if value is not None and definition.searchable:
            out.append(
                (name, keyring.blind_index(definition.kind, match_key(definition.kind, value)))
            )
    for derived in catalog.derived_indexes:
        parts = [values.get(source) for source in derived.sources]
        if all(parts):
            kind = catalog.fields[derived.sources[0]].kind
            joined = " ".join(p for p in parts if p)
            out.append((derived.name, keyring.blind_index(kind, match_key(kind, joined))))
    return tuple(out)


def prepare_new(
    keyring: Keyring,
    catalog: FieldCatalog,
    raw: Mapping[str, str | None],
    *,
    language: str | None,
    phone_regions: Sequence[str],
) -> PreparedRecord:
    if language and language.strip().lower() not in LANGUAGES:
        raise RecordRejected([FieldProblem("language", "expected one of en, cs, ur")])
    values = canonical_values(catalog, raw, phone_regions)
    present = {name: value for name, value in values.items() if value is not None}
    if not present:
        raise RecordRejected([FieldProblem("*", "the record has no values")])
    customer_id, public_id = new_customer_ids()
    wrapped, sealed = keyring.new_record(customer_id, present)
    return PreparedRecord(
        customer_id,
        public_id,
        parse_language(language),
        wrapped,
        keyring.active_version,
        sealed,
        blind_indexes(keyring, catalog, values),
    )
