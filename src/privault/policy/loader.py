"""Read a policy from YAML (one file or a directory of files) and validate it.

Every problem is a ``ConfigError`` naming the file, the entry (``roles[2] (marketing)
.views``) and what is wrong; unknown keys are errors.  In a directory, every
``*.yaml``/``*.yml`` file is read in name order except ``*_tests.yaml`` (test cases).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from privault.catalog.taxonomy import Taxonomy
from privault.errors import N_, ConfigError
from privault.policy.model import (
    DenyRule,
    LawfulBasis,
    Policy,
    PrincipalSpec,
    PurposeSpec,
    RecipientSpec,
    Relationship,
    RoleSpec,
    TransferMechanism,
    ViewSetting,
)
from privault.policy.request import Action

EXAMPLE_POLICY = Path(__file__).parent / "data" / "example_policy.yaml"
EXAMPLE_TESTS = Path(__file__).parent / "data" / "example_policy_tests.yaml"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Purpose(_Strict):
    key: str
    basis: LawfulBasis
    needs: list[str] = Field(min_length=1)
    compatible_with: list[str] = []
    description: str = ""


class _Role(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    purposes: list[str] = Field(min_length=1)
    actions: list[Action] = ["read"]
    views: dict[str, ViewSetting] = Field(min_length=1)
    max_customers: int = Field(ge=1)
    description: str = ""


class _Principal(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    kind: Literal["person", "service"] = "person"
    internal: bool = True
    organisation: str | None = None
    roles: list[str] = Field(min_length=1)
    description: str = ""


class _Recipient(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    roles: list[str] = Field(min_length=1)
    description: str = ""
    relationship: Relationship = "third_party"
    domains: list[str] = []
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    transfer_mechanism: TransferMechanism | None = None


class _Deny(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    principals: list[str] = []
    roles: list[str] = []
    purposes: list[str] = []
    categories: list[str] = []
    actions: list[Action] = []
    recipients: list[str] = []
    description: str = ""


class _File(_Strict):
    version: str | None = None
    purposes: list[_Purpose] = []
    roles: list[_Role] = []
    principals: list[_Principal] = []
    recipients: list[_Recipient] = []
    deny: list[_Deny] = []


@dataclass
class _Collected:
    """Entries from every file, each remembering where it came from."""

    version: tuple[str, str] | None = None
    purposes: list[tuple[str, str, _Purpose]] = field(default_factory=list)
    roles: list[tuple[str, str, _Role]] = field(default_factory=list)
    principals: list[tuple[str, str, _Principal]] = field(default_factory=list)
    recipients: list[tuple[str, str, _Recipient]] = field(default_factory=list)
    deny: list[tuple[str, str, _Deny]] = field(default_factory=list)


def _fail(path: str, entry: str, problem: str) -> ConfigError:
    return ConfigError(
        N_("Policy file %(path)s, entry %(entry)s: %(reason)s"),
        path=path,
        entry=entry,
        reason=problem,
    )


def policy_files(path: Path) -> tuple[Path, ...]:
    """The YAML files a policy path stands for (a file, or a directory's policy files)."""
    if path.is_dir():
        files = sorted(
            p
            for p in path.iterdir()
            if p.suffix in (".yaml", ".yml") and not p.stem.endswith("_tests") and p.is_file()
        )
        if not files:
            raise ConfigError(N_("Policy directory %(path)s holds no YAML files."), path=str(path))
        return tuple(files)
    if not path.is_file():
        raise ConfigError(N_("Policy file %(path)s does not exist."), path=str(path))
    return (path,)


def _entry_name(raw: Any, loc: Sequence[int | str]) -> str:
    """``roles.2.views`` -> ``roles[2] (marketing).views``, so people find the entry."""
    parts: list[str] = []
    node = raw
    for item in loc:
        if isinstance(item, int) and parts:
            label = f"{parts.pop()}[{item}]"
            node = node[item] if isinstance(node, list) and item < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("name", node.get("key")), str):
                label += f" ({node.get('name', node.get('key'))})"
            parts.append(label)
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts) or "(top level)"


def _read(path: Path) -> tuple[_File, bytes]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            N_("Cannot read policy file %(path)s: %(reason)s"),
            path=str(path),
            reason=str(exc.strerror),
        ) from None
    try:
        raw = yaml.safe_load(data) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(
            N_("Policy file %(path)s is not valid YAML: %(reason)s"),
            path=str(path),
            reason=str(exc),
        ) from None
    try:
        return _File.model_validate(raw), data
    except ValidationError as exc:
        first = exc.errors()[0]
        raise _fail(str(path), _entry_name(raw, first["loc"]), first["msg"]) from None


def load_policy(path: Path | None = None, taxonomy: Taxonomy | None = None) -> Policy:
    """Load and validate a policy file or directory (default: the shipped example)."""
    files = policy_files(path if path is not None else EXAMPLE_POLICY)
    taxonomy = taxonomy if taxonomy is not None else Taxonomy.load()
    digest = hashlib.sha256()
    found = _Collected()
    for file in files:
        model, data = _read(file)
        digest.update(file.name.encode() + b"\0" + data + b"\0")
        where = str(file)
        if model.version is not None:
            if found.version is not None and found.version[1] != model.version:
                raise _fail(
                    where, "version", f"conflicts with '{found.version[1]}' in {found.version[0]}"
                )
            found.version = (where, model.version)
        found.purposes += [
            (where, f"purposes[{i}] ({p.key})", p) for i, p in enumerate(model.purposes)
        ]
        found.roles += [(where, f"roles[{i}] ({r.name})", r) for i, r in enumerate(model.roles)]
        found.principals += [
            (where, f"principals[{i}] ({p.name})", p) for i, p in enumerate(model.principals)
        ]
        found.recipients += [
            (where, f"recipients[{i}] ({r.name})", r) for i, r in enumerate(model.recipients)
        ]
        found.deny += [(where, f"deny[{i}] ({d.name})", d) for i, d in enumerate(model.deny)]
    return _build(found, taxonomy, digest.hexdigest(), tuple(str(f) for f in files))


def _build(found: _Collected, taxonomy: Taxonomy, digest: str, sources: tuple[str, ...]) -> Policy:
    def uses(where: str, entry: str, keys: list[str], what: str) -> None:
        for key in keys:
            if not taxonomy.has_use(key):
                raise _fail(where, f"{entry}.{what}", f"unknown purpose (data use) '{key}'")

    def categories(where: str, entry: str, keys: list[str], what: str) -> None:
        for key in keys:
            if not taxonomy.has_category(key):
                raise _fail(where, f"{entry}.{what}", f"unknown data category '{key}'")

    purposes: dict[str, PurposeSpec] = {}
    for where, entry, p in found.purposes:
        if p.key in purposes:
            raise _fail(where, entry, "the purpose is declared twice")
        uses(where, entry, [p.key], "key")
        categories(where, entry, p.needs, "needs")
        uses(where, entry, p.compatible_with, "compatible_with")
        purposes[p.key] = PurposeSpec(
            p.key, p.basis, tuple(p.needs), tuple(p.compatible_with), p.description
        )
    roles: dict[str, RoleSpec] = {}
    for where, entry, r in found.roles:
        if r.name in roles:
            raise _fail(where, entry, "the role is defined twice")
        uses(where, entry, r.purposes, "purposes")
        categories(where, entry, list(r.views), "views")
        roles[r.name] = RoleSpec(
            r.name,
            tuple(r.purposes),
            dict(r.views),
            r.max_customers,
            tuple(r.actions),
            r.description,
        )

    def known_roles(where: str, entry: str, names: list[str]) -> None:
        for name in names:
            if name not in roles:
                raise _fail(where, f"{entry}.roles", f"unknown role '{name}'")

    recipients: dict[str, RecipientSpec] = {}
    for where, entry, rc in found.recipients:
        if rc.name in recipients:
            raise _fail(where, entry, "the recipient is defined twice")
        known_roles(where, entry, rc.roles)
        recipients[rc.name] = RecipientSpec(
            rc.name,
            tuple(rc.roles),
            rc.description,
            rc.relationship,
            tuple(d.lower().lstrip("@") for d in rc.domains),
            rc.country,
            rc.transfer_mechanism,
        )
    principals: dict[str, PrincipalSpec] = {}
    for where, entry, pr in found.principals:
        if pr.name in principals or pr.name in recipients:
            raise _fail(
                where, entry, "the name is used twice (principals and recipients share names)"
            )
        known_roles(where, entry, pr.roles)
        if pr.internal and pr.organisation is not None:
            raise _fail(where, entry, "an internal principal has no external organisation")
        if not pr.internal and pr.organisation not in recipients:
            raise _fail(
                where,
                f"{entry}.organisation",
                "an external principal must name a declared recipient",
            )
        principals[pr.name] = PrincipalSpec(
            pr.name, tuple(pr.roles), pr.internal, pr.kind, pr.organisation, pr.description
        )
    deny: list[DenyRule] = []
    for where, entry, d in found.deny:
        if any(rule.name == d.name for rule in deny):
            raise _fail(where, entry, "the deny rule is defined twice")
        for name in d.principals:
            if name not in principals:
                raise _fail(where, f"{entry}.principals", f"unknown principal '{name}'")
        known_roles(where, entry, d.roles)
        for name in d.recipients:
            if name not in recipients and name not in principals:
                raise _fail(where, f"{entry}.recipients", f"unknown recipient '{name}'")
        uses(where, entry, d.purposes, "purposes")
        categories(where, entry, d.categories, "categories")
        deny.append(
            DenyRule(
                d.name,
                tuple(d.principals),
                tuple(d.roles),
                tuple(d.purposes),
                tuple(d.categories),
                tuple(d.actions),
                tuple(d.recipients),
                d.description,
            )
        )
    version = found.version[1] if found.version is not None else "unversioned"
    return Policy(purposes, roles, principals, recipients, tuple(deny), version, digest, sources)
