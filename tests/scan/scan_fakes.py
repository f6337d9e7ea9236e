"""An in-memory ``IndexSource``: the store's blind-index feed, without a database."""

from __future__ import annotations

from collections.abc import Sequence

from privault.catalog.kinds import KindName, canonical, match_key
from privault.crypto import Keyring
from privault.scan import IndexRow


class FakeIndexSource:
    """The store's blind-index feed, in memory (follows ``IndexSource``)."""

    def __init__(self) -> None:
        self.rows: list[IndexRow] = []

    def add(
        self, keyring: Keyring, customer_id: str, field: str, namespace: str, value: str
    ) -> None:
        kind: KindName = namespace  # type: ignore[assignment]
        digest = keyring.blind_index(namespace, match_key(kind, canonical(kind, value)))
        self.rows.append(IndexRow(len(self.rows) + 1, field, customer_id, digest))

    def fetch_since(self, after_id: int, limit: int) -> Sequence[IndexRow]:
        return [r for r in self.rows if r.id > after_id][:limit]
