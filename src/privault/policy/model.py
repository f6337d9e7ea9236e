"""The policy as validated data: purposes, roles, principals, recipients, deny rules.

These are what the loader produces and the engine compiles.  Tests build variants of
a policy with ``dataclasses.replace`` (drop a grant, add a deny rule) and recompile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from privault.policy.request import Action

LawfulBasis = Literal[
    "consent",
    "contract",
    "legal_obligation",
    "legitimate_interest",
    "vital_interest",
    "public_task",
]
LAWFUL_BASES: Final[tuple[LawfulBasis, ...]] = (
    "consent",
    "contract",
    "legal_obligation",
    "legitimate_interest",
    "vital_interest",
    "public_task",
)
# A view entry may also be "none": it carves a narrower category out of a broader grant.
ViewSetting = Literal["plain", "masked", "tokenized", "none"]


@dataclass(frozen=True, slots=True)
class PurposeSpec:
    """A declared purpose.  ``needs``: categories it needs (R3 need to know).

    ``compatible_with``: collection purposes whose data this purpose may use without
    fresh consent (GDPR Art. 6(4)); data collected for a purpose covered by one of them
    is compatible.
    """

    key: str
    basis: LawfulBasis
    needs: tuple[str, ...]
    compatible_with: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True)
class RoleSpec:
    """Granted purposes (a grant covers descendant purposes), actions, views and a limit."""

    name: str
    purposes: tuple[str, ...]
    views: Mapping[str, ViewSetting]
    max_customers: int
    actions: tuple[Action, ...] = ("read",)
    description: str = ""


@dataclass(frozen=True, slots=True)
class PrincipalSpec:
    """A person or service.  External principals belong to an external ``organisation``."""

    name: str
    roles: tuple[str, ...]
    internal: bool = True
    kind: Literal["person", "service"] = "person"
    organisation: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class RecipientSpec:
    """An external party (partner company).  Its roles bound what it may receive."""

    name: str
    roles: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True, slots=True)
class DenyRule:
    """An explicit prohibition.  Empty selectors match everything; set ones must all match.

    ``roles`` matches when the principal acts in any of them; ``purposes`` and
    ``categories`` match hierarchically; ``recipients`` matches the recipient's name or
    the external organisation involved.
    """

    name: str
    principals: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    purposes: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    actions: tuple[Action, ...] = ()
    recipients: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Policy:
    """A whole validated policy.  ``version`` is the author's label, ``digest`` the content's."""

    purposes: Mapping[str, PurposeSpec]
    roles: Mapping[str, RoleSpec]
    principals: Mapping[str, PrincipalSpec]
    recipients: Mapping[str, RecipientSpec]
    deny: tuple[DenyRule, ...] = ()
    version: str = "unversioned"
    digest: str = ""
    sources: tuple[str, ...] = field(default=(), compare=False)

    @property
    def label(self) -> str:
        return f"{self.version}@{self.digest[:12]}" if self.digest else self.version

    def declared_purpose(self, key: str) -> PurposeSpec | None:
        """The declaration of ``key`` or of its nearest declared ancestor, if any."""
        parts = key.split(".")
        for end in range(len(parts), 0, -1):
            spec = self.purposes.get(".".join(parts[:end]))
            if spec is not None:
                return spec
        return None
