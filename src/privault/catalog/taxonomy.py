"""The Fides taxonomy of data categories and data uses (purposes), plus extensions.

Keys are dotted and hierarchical: ``user.contact`` covers ``user.contact.email``.
The default taxonomy ships as data (``data/fides_taxonomy.yaml``, CC BY 4.0, with
attribution); organisations add their own keys in YAML files of the same shape::

    data_categories:
      - key: user.contact.email.work
        name: Work e-mail
        parent: user.contact.email
    data_uses:
      - key: marketing.communications.newsletter
        name: Newsletter
        parent: marketing.communications
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from privault.documents import load_yaml_model
from privault.errors import N_, ConfigError, UnknownKey

DEFAULT_TAXONOMY_FILE = Path(__file__).parent / "data" / "fides_taxonomy.yaml"

Kind = Literal["data_category", "data_use"]


def covers(parent: str, child: str) -> bool:
    """True when ``parent`` is ``child`` or one of its ancestors (dotted-key hierarchy)."""
    return child == parent or child.startswith(parent + ".")


def ancestors(key: str) -> tuple[str, ...]:
    """``a.b.c`` -> (``a.b.c``, ``a.b``, ``a``): the key and every ancestor, nearest first."""
    parts = key.split(".")
    return tuple(".".join(parts[:i]) for i in range(len(parts), 0, -1))


@dataclass(frozen=True, slots=True)
class TaxonomyEntry:
    key: str
    name: str
    description: str
    parent: str | None


class _EntryModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str
    name: str
    description: str = ""
    parent: str | None = None


class _FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    data_categories: list[_EntryModel] = []
    data_uses: list[_EntryModel] = []


class Taxonomy:
    """An immutable view of the data categories and data uses known to this deployment."""

    def __init__(
        self, categories: Mapping[str, TaxonomyEntry], uses: Mapping[str, TaxonomyEntry]
    ) -> None:
        self._entries: dict[Kind, dict[str, TaxonomyEntry]] = {
            "data_category": dict(categories),
            "data_use": dict(uses),
        }

    @property
    def categories(self) -> Mapping[str, TaxonomyEntry]:
        return self._entries["data_category"]

    @property
    def uses(self) -> Mapping[str, TaxonomyEntry]:
        return self._entries["data_use"]

    def has_category(self, key: str) -> bool:
        return key in self._entries["data_category"]

    def has_use(self, key: str) -> bool:
        return key in self._entries["data_use"]

    def require_category(self, key: str) -> TaxonomyEntry:
        return self._require("data_category", key)

    def require_use(self, key: str) -> TaxonomyEntry:
        return self._require("data_use", key)

    def _require(self, kind: Kind, key: str) -> TaxonomyEntry:
        entries = self._entries[kind]
        entry = entries.get(key)
        if entry is not None:
            return entry
        close = difflib.get_close_matches(key, list(entries), n=3, cutoff=0.6)
        hint = ", ".join(close) if close else "-"
        if kind == "data_category":
            raise UnknownKey(
                N_("Unknown data category '%(key)s' (did you mean: %(hint)s?)"), key=key, hint=hint
            )
        raise UnknownKey(
            N_("Unknown purpose (data use) '%(key)s' (did you mean: %(hint)s?)"), key=key, hint=hint
        )

    @classmethod
    def load(cls, extensions: Iterable[Path] = ()) -> Taxonomy:
        """The default taxonomy plus the organisation's extension files, validated."""
        base = _load_default()
        categories = dict(base.categories)
        uses = dict(base.uses)
        for path in extensions:
            _merge_file(path, categories, uses)
        return cls(categories, uses)


@lru_cache(maxsize=1)
def _load_default() -> Taxonomy:
    categories: dict[str, TaxonomyEntry] = {}
    uses: dict[str, TaxonomyEntry] = {}
    _merge_file(DEFAULT_TAXONOMY_FILE, categories, uses)
    return Taxonomy(categories, uses)


def _merge_file(
    path: Path, categories: dict[str, TaxonomyEntry], uses: dict[str, TaxonomyEntry]
) -> None:
    model = load_yaml_model(path, _FileModel)
    for target, entries in ((categories, model.data_categories), (uses, model.data_uses)):
        for entry in entries:
            if entry.key in target:
                raise ConfigError(
                    N_("Taxonomy file %(path)s: key '%(key)s' is defined twice"),
                    path=str(path),
                    key=entry.key,
                )
            if entry.parent is not None and entry.parent not in target:
                raise ConfigError(
                    N_("Taxonomy file %(path)s: key '%(key)s' has unknown parent '%(parent)s'"),
                    path=str(path),
                    key=entry.key,
                    parent=entry.parent,
                )
            if entry.parent is not None and not entry.key.startswith(entry.parent + "."):
                raise ConfigError(
                    N_("Taxonomy file %(path)s: key '%(key)s' must start with '%(parent)s.'"),
                    path=str(path),
                    key=entry.key,
                    parent=entry.parent,
                )
            target[entry.key] = TaxonomyEntry(
                entry.key, entry.name, entry.description, entry.parent
            )
