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


# How an external recipient stands to the customers' data (GDPR Art. 4(9)-(10), 28):
# a processor acting for us under an Art. 28 contract and a recipient the law requires
# us to disclose to are no third parties, so sharing with them needs no consent; a
# third party does (R4).
Relationship = Literal["third_party", "processor", "legal_obligation"]
RELATIONSHIPS: Final[tuple[Relationship, ...]] = ("third_party", "processor", "legal_obligation")
# Chapter V tools for a transfer outside the EEA.
TransferMechanism = Literal["adequacy", "scc", "bcr", "derogation"]
TRANSFER_MECHANISMS: Final[tuple[TransferMechanism, ...]] = ("adequacy", "scc", "bcr", "derogation")
# The EEA, where personal data moves freely (ISO 3166-1 alpha-2).
EEA: Final[frozenset[str]] = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
        "IS",
        "LI",
        "NO",
    ]
)
# Countries with an EU adequacy decision (Art. 45) as of 2026; the policy may say more.
ADEQUATE: Final[frozenset[str]] = frozenset(
    ["AD", "AR", "CA", "FO", "GG", "IL", "IM", "JP", "JE", "NZ", "KR", "CH", "GB", "UY"]
)


@dataclass(frozen=True, slots=True)
class RecipientSpec:
    """An external party (partner company).  Its roles bound what it may receive.

    ``domains``: mail domains that are this recipient; ``country``: where it receives the
    data; ``transfer_mechanism``: the Chapter V tool for a country outside the EEA with
    no adequacy decision (without one the transfer is refused).
    """

    name: str
    roles: tuple[str, ...]
    description: str = ""
    relationship: Relationship = "third_party"
    domains: tuple[str, ...] = ()
    country: str | None = None
    transfer_mechanism: TransferMechanism | None = None

    @property
    def transfer_needs_tool(self) -> bool:
        """A third country without adequacy and without a recorded tool (Art. 44-46)."""
        return (
            self.country is not None
            and self.country not in EEA
            and self.country not in ADEQUATE
            and self.transfer_mechanism is None
        )


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
