"""What goes in and out of the consent slice: validated drafts, and frozen read models.

Read models carry identifiers, purposes, times and notice texts -- never customer data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from privault.catalog.taxonomy import ancestors, covers

Action = Literal["grant", "withdraw"]
Channel = Literal["web", "phone", "paper", "api", "import"]
ACTIONS: Final[tuple[Action, ...]] = ("grant", "withdraw")
CHANNELS: Final[tuple[Channel, ...]] = ("web", "phone", "paper", "api", "import")
SHARING: Final[str] = "third_party_sharing"


class LocalizedText(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    en: str = Field(min_length=1, max_length=20_000)
    cs: str = Field(min_length=1, max_length=20_000)
    ur: str = Field(min_length=1, max_length=20_000)


class NoticeDraft(BaseModel):
    """A new notice version, as written by the compliance team (YAML or API)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    purposes: tuple[str, ...] = Field(min_length=1)
    recipient: str | None = Field(default=None, min_length=1, max_length=200)
    title: LocalizedText
    text: LocalizedText
    expiry_months: int | None = Field(default=None, ge=1, le=240)


@dataclass(frozen=True, slots=True)
class Notice:
    id: int
    key: str
    version: int
    purposes: tuple[str, ...]
    recipient: str | None
    titles: Mapping[str, str]
    texts: Mapping[str, str]
    expiry_months: int | None
    created_at: datetime
    created_by: str

    def title(self, lang: str) -> str:
        return self.titles.get(lang) or self.titles["en"]

    def text(self, lang: str) -> str:
        return self.texts.get(lang) or self.texts["en"]

    def covers(self, purpose: str) -> bool:
        return any(covers(p, purpose) for p in self.purposes)


@dataclass(frozen=True, slots=True)
class ConsentDecision:
    """One row of the derived state: the customer's latest word on a purpose."""

    purpose: str
    recipient: str | None
    status: Action
    decided_at: datetime
    expires_at: datetime | None
    notice_id: int | None
    event_id: int

    def active_at(self, at: datetime) -> bool:
        return self.status == "grant" and (self.expires_at is None or self.expires_at > at)


@dataclass(frozen=True, slots=True)
class ObjectionView:
    id: int
    purpose: str
    channel: str
    actor: str
    reason: str
    recorded_at: datetime
    lifted_at: datetime | None


@dataclass(frozen=True, slots=True)
class RestrictionView:
    id: int
    channel: str
    actor: str
    reason: str
    recorded_at: datetime
    lifted_at: datetime | None


@dataclass(frozen=True, slots=True)
class ConsentFacts:
    """Everything known about one customer's consents at ``at``: a pure value.

    ``allows`` applies exactly the rules of the SQL filters (see ``service``), so a
    decision for one customer and a filter over many never disagree.
    """

    customer_id: str
    public_id: str
    language: str
    at: datetime
    decisions: tuple[ConsentDecision, ...]
    objections: tuple[ObjectionView, ...] = field(default=())
    restrictions: tuple[RestrictionView, ...] = field(default=())

    @property
    def restricted(self) -> bool:
        return any(r.lifted_at is None or r.lifted_at > self.at for r in self.restrictions)

    def objects_to(self, purpose: str) -> bool:
        return any(
            covers(o.purpose, purpose) and (o.lifted_at is None or o.lifted_at > self.at)
            for o in self.objections
        )

    def consent_for(self, purpose: str, recipient: str | None = None) -> ConsentDecision | None:
        """The deciding row: the most specific purpose with a withdrawal or a live grant."""
        wanted = recipient or None
        rows = {d.purpose: d for d in self.decisions if d.recipient == wanted}
        for key in ancestors(purpose):
            row = rows.get(key)
            if row is None:
                continue
            if row.status == "withdraw" or row.active_at(self.at):
                return row
        return None

    def has_consent(self, purpose: str, recipient: str | None = None) -> bool:
        row = self.consent_for(purpose, recipient)
        return row is not None and row.status == "grant"

    def allows(self, purpose: str, recipient: str | None = None) -> bool:
        """Active consent, no objection covering the purpose, no restriction."""
        return (
            self.has_consent(purpose, recipient)
            and not self.objects_to(purpose)
            and not self.restricted
        )


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One consent event as proof: what was decided, how, when, and under which notice."""

    event_id: int
    action: Action
    purpose: str
    recipient: str | None
    channel: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    evidence_hash: str
    notice: Notice | None


@dataclass(frozen=True, slots=True)
class Proof:
    customer_id: str
    public_id: str
    language: str
    events: tuple[LedgerEntry, ...]
    objections: tuple[ObjectionView, ...]
    restrictions: tuple[RestrictionView, ...]


@dataclass(frozen=True, slots=True)
class ExclusionCounts:
    """How many customers a purpose reaches and why the others are excluded.

    A customer may be excluded for several reasons; each reason counts them once, so
    the reasons can add up to more than ``total - eligible``.
    """

    purpose: str
    recipient: str | None
    total: int
    eligible: int
    no_consent: int
    objection: int
    restriction: int
