"""Customer field definitions: data, not code.

A ``FieldCatalog`` is an immutable snapshot: field definitions (from YAML, validated
against the taxonomy) plus each field's classification.  Classification is
``confidential`` unless a recorded verification says ``public`` (rule R5); the
verifications live in the store, and the store builds the snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from privault.catalog.kinds import KindName
from privault.catalog.taxonomy import Taxonomy
from privault.documents import load_yaml_model
from privault.errors import N_, ConfigError, UnknownKey

DEFAULT_FIELDS_FILE = Path(__file__).parent / "data" / "default_fields.yaml"
FIELD_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"

Classification = Literal["confidential", "public"]


@dataclass(frozen=True, slots=True)
class Verification:
    """Who marked a field's classification, when and why (R5)."""

    classification: Classification
    verified_by: str
    verified_at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class FieldDefinition:
    name: str
    category: str
    kind: KindName
    collected_for: tuple[str, ...]
    searchable: bool = False
    description: str = ""
    verification: Verification | None = None

    @property
    def classification(self) -> Classification:
        return self.verification.classification if self.verification else "confidential"


@dataclass(frozen=True, slots=True)
class DerivedIndex:
    """A blind index over several fields joined by a space (``full_name``)."""

    name: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class FieldCatalog:
    fields: Mapping[str, FieldDefinition]
    derived_indexes: tuple[DerivedIndex, ...] = ()
    _ordered: tuple[str, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_ordered", tuple(self.fields))

    def __iter__(self) -> Iterator[FieldDefinition]:
        return (self.fields[name] for name in self._ordered)

    def __contains__(self, name: object) -> bool:
        return name in self.fields

    def __len__(self) -> int:
        return len(self.fields)

    @property
    def names(self) -> tuple[str, ...]:
        return self._ordered

    def require(self, name: str) -> FieldDefinition:
        definition = self.fields.get(name)
        if definition is None:
            raise UnknownKey(N_("Unknown field '%(field)s'."), field=name)
        return definition

    def with_verifications(self, verifications: Mapping[str, Verification]) -> FieldCatalog:
        updated = {
            name: replace(definition, verification=verifications.get(name))
            for name, definition in self.fields.items()
        }
        return FieldCatalog(updated, self.derived_indexes)


class _FieldModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=FIELD_NAME_PATTERN)
    category: str
    kind: KindName
    collected_for: list[str] = Field(min_length=1)
    searchable: bool = False
    description: str = ""


class _DerivedModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    name: str = Field(pattern=FIELD_NAME_PATTERN)
    sources: list[str] = Field(alias="from", min_length=2)


class _FieldsFileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    fields: list[_FieldModel] = Field(min_length=1)
    derived_indexes: list[_DerivedModel] = []


def load_fields(taxonomy: Taxonomy, path: Path = DEFAULT_FIELDS_FILE) -> FieldCatalog:
    """Read and validate a fields YAML file; every key must exist in the taxonomy."""
    model = load_yaml_model(path, _FieldsFileModel)
    fields: dict[str, FieldDefinition] = {}
    for index, item in enumerate(model.fields):
        where = f"fields.{index} ({item.name})"
        if item.name in fields:
            raise ConfigError(
                N_("Fields file %(path)s, entry %(entry)s: the field is defined twice"),
                path=str(path),
                entry=where,
            )
        try:
            taxonomy.require_category(item.category)
            for purpose in item.collected_for:
                taxonomy.require_use(purpose)
        except UnknownKey as exc:
            raise ConfigError(
                N_("Fields file %(path)s, entry %(entry)s: %(reason)s"),
                path=str(path),
                entry=where,
                reason=str(exc),
            ) from None
        fields[item.name] = FieldDefinition(
            name=item.name,
            category=item.category,
            kind=item.kind,
            collected_for=tuple(item.collected_for),
            searchable=item.searchable,
            description=item.description,
        )
    derived: list[DerivedIndex] = []
    for item_d in model.derived_indexes:
        missing = [s for s in item_d.sources if s not in fields]
        if missing or item_d.name in fields:
            raise ConfigError(
                N_(
                    "Fields file %(path)s, derived index %(entry)s: unknown or clashing field names"
                ),
                path=str(path),
                entry=item_d.name,
            )
        derived.append(DerivedIndex(item_d.name, tuple(item_d.sources)))
    return FieldCatalog(fields, tuple(derived))
