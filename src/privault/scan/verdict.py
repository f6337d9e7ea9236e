"""From findings to ``allow`` / ``redact`` / ``block``, for a given asker, recipient and purpose.

Who the recipient is and who consented to what belongs to the policy engine and the
consent ledger.  The scanner (a core) does not know them: it asks an ``EgressPolicy``,
which the access slice implements over the same gate decision a read gets
(``privault.access.egress``) and the composition root builds (``vault.egress``).  The
policy answers with a ``Ruling``: per field class and per customer allow or deny with
the policy's reason codes.  ``decide`` turns the ruling and the recogniser findings
into the verdict; the policy records the verdict in the audit trail before anyone
sees it (fail closed).  A ``block`` is then handed to ``BlockHandler``s (incidents).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol

from privault.errors import N_
from privault.i18n import translator
from privault.scan.model import (
    ENTITY_NOUNS,
    FIELD_NOUNS,
    HIGH_RISK,
    CustomerMatches,
    Reason,
    ScanReport,
    Verdict,
)

RecipientKind = Literal["self", "subject", "internal", "partner", "external"]
BULK_HIGH_RISK: Final[int] = 10  # this many card numbers, IBANs... to outsiders blocks outright
EXTERNAL_KINDS: Final = frozenset({"partner", "external"})

# The ways forward a verdict may offer -- only those that can really be taken today.
# ``request_approval`` joins them once approvals exist (issue 15, item 5): it will be
# offered only for refusals an approval may lift (business need, classification).
ACTIONS: Final[dict[str, str]] = {
    "narrow": N_(
        "Send only the part that may go: the customers and fields listed under 'narrow' "
        "(a redacted copy with --redact)."
    ),
    "ask_consent": N_(
        "Ask the customers for their consent through the preference centre; those who "
        "agree can then be included."
    ),
    "state_purpose": N_("State the purpose of sending it (--purpose)."),
}
CONSENT_CODES: Final = frozenset({"consent_required", "sharing_consent_required"})
# The ground a disclosure rests on when it is not the customers' consent: the verdict
# names it (GDPR Art. 28 processors, Art. 6(1)(c) legal duties, the data subject).
BASIS_REASONS: Final[dict[str, str]] = {
    "processor": N_(
        "'%(recipient)s' processes the data for us under an Art. 28 contract: a processor, "
        "not a third party, so no consent to sharing is needed"
    ),
    "legal_obligation": N_(
        "the law requires us to disclose this to '%(recipient)s' (Art. 6(1)(c)), so no "
        "consent to sharing is needed"
    ),
    "data_subject": N_(
        "the recipient is the customer the data is about: their own data is no disclosure "
        "to a third party"
    ),
}


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who will receive the scanned content: a principal's name or an e-mail address."""

    name: str | None = None
    address: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.address or ""

    @property
    def shown(self) -> str:
        """What reports may say about the recipient: a name, or only an address's domain
        (the address may itself be a customer's)."""
        if self.name:
            return self.name
        if self.address:
            return "…@" + self.address.rpartition("@")[2] if "@" in self.address else "…"
        return ""


@dataclass(frozen=True, slots=True)
class FieldRuling:
    """One field class found in the text: may it go, and for how many of the customers."""

    field: str
    allowed: bool
    view: str | None
    released: int
    refused: int
    reasons: tuple[Reason, ...] = ()

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "field": self.field,
            "allowed": self.allowed,
            "view": self.view,
            "customers_allowed": self.released,
            "customers_denied": self.refused,
            "reasons": [{"code": r.code, "message": r.render(lang)} for r in self.reasons],
        }


@dataclass(frozen=True, slots=True)
class CustomerRuling:
    """One customer found: which of their fields may go, and why the others may not.

    ``customer`` is the public (pseudonymous) id; never a value."""

    customer: str
    allow: tuple[str, ...]
    deny: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"customer": self.customer, "allow": list(self.allow), "deny": dict(self.deny)}


@dataclass(frozen=True, slots=True)
class Ruling:
    """What the policy says about the customers found, for this asker, recipient, purpose.

    ``kind``: how the recipient was resolved; ``basis``: the ground a disclosure rests
    on when it is not consent (``processor``, ``legal_obligation``, ``data_subject``).
    """

    asker: str
    recipient: str
    kind: RecipientKind
    purpose: str | None
    policy: str = ""
    basis: str | None = None
    country: str | None = None
    fields: tuple[FieldRuling, ...] = ()
    customers: tuple[CustomerRuling, ...] = ()
    reasons: tuple[Reason, ...] = ()
    # The policy decision in words, in a given language (``policy.explain``), when the
    # policy was asked; names and codes only.
    explain: Callable[[str], Mapping[str, Any]] | None = field(
        default=None, compare=False, repr=False
    )

    @property
    def external(self) -> bool:
        return self.kind in EXTERNAL_KINDS

    def released(self) -> tuple[CustomerRuling, ...]:
        return tuple(c for c in self.customers if c.allow)


class EgressPolicy(Protocol):
    """The policy engine and consent ledger as the scanner needs them."""

    def rule(
        self,
        matches: CustomerMatches,
        asker: str,
        recipient: Recipient | None,
        purpose: str | None,
    ) -> Ruling:
        """Per field and per customer: may the customers' data found go?"""
        ...

    def record(self, report: ScanReport, ruling: Ruling) -> int:
        """Record the verdict (counts, names, codes -- never content); raises when the
        trail cannot be written, so no verdict is reported unrecorded."""
        ...


# Kept as the older name: the directory of recipients *is* the egress policy now.
RecipientDirectory = EgressPolicy


class BlockHandler(Protocol):
    """Called for every ``block`` (the incidents slice opens an incident here, R7)."""

    def on_block(
        self, report: ScanReport, recipient: Recipient | None, purpose: str | None
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class Narrow:
    """The releasable subset of a ``redact`` verdict: which customers, which fields."""

    customers: tuple[str, ...]
    fields: tuple[str, ...]
    withheld: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "customers": len(self.customers),
            "customer_ids": list(self.customers[:MAX_LISTED]),
            "fields": list(self.fields),
            "customers_withheld": self.withheld,
        }


MAX_LISTED: Final[int] = 1000


@dataclass(frozen=True, slots=True)
class Action:
    code: str

    def to_dict(self, lang: str = "en") -> dict[str, str]:
        return {"code": self.code, "message": translator(lang).gettext(ACTIONS[self.code])}


@dataclass(frozen=True)
class EgressVerdict(Verdict):
    """A verdict with the ruling it rests on, the releasable subset and the ways forward."""

    ruling: Ruling | None = None
    narrow: Narrow | None = None
    actions: tuple[Action, ...] = ()
    audit_seq: int = 0
    weak_names: int = 0

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        out = Verdict.to_dict(self, lang)
        ruling = self.ruling
        out.update(
            {
                "asker": ruling.asker if ruling else None,
                "purpose": ruling.purpose if ruling else None,
                "recipient": {
                    "name": ruling.recipient if ruling else "",
                    "kind": ruling.kind if ruling else "external",
                    "basis": ruling.basis if ruling else None,
                    "country": ruling.country if ruling else None,
                },
                "policy": ruling.policy if ruling else "",
                "fields": [f.to_dict(lang) for f in ruling.fields] if ruling else [],
                "customers": [c.to_dict() for c in ruling.customers[:MAX_LISTED]] if ruling else [],
                "customers_not_listed": max(0, len(ruling.customers) - MAX_LISTED) if ruling else 0,
                "narrow": self.narrow.to_dict() if self.narrow else None,
                "actions": [a.to_dict(lang) for a in self.actions],
                "explanation": dict(ruling.explain(lang))
                if ruling is not None and ruling.explain is not None
                else None,
                "possible_personal_data_weak": self.weak_names,
                "audit_seq": self.audit_seq,
            }
        )
        return out


def _fields_phrase(matches: CustomerMatches) -> tuple[str, ...]:
    nouns: list[str] = []
    for name in sorted(matches.by_field):
        noun = FIELD_NOUNS.get(name, N_("other data"))
        if noun not in nouns:
            nouns.append(noun)
    return tuple(nouns)


def _narrow(ruling: Ruling) -> Narrow | None:
    released = ruling.released()
    if not released:
        return None
    fields = sorted({f for c in released for f in c.allow})
    return Narrow(
        tuple(c.customer for c in released), tuple(fields), len(ruling.customers) - len(released)
    )


def decide(report: ScanReport, ruling: Ruling) -> EgressVerdict:
    """The verdict, with every reason that applies (most serious first)."""
    reasons: list[Reason] = []
    blocked = False
    partial = False
    failed = sum(1 for f in report.files if f.failed)
    if failed:
        blocked = True  # fail closed: what we could not read we cannot call clean (R2, R5)
        reasons.append(
            Reason(
                "not_scanned",
                N_("%(count)s files could not be scanned completely, so they cannot be released"),
                {"count": failed},
            )
        )
    counts = report.counts
    ours = report.matches
    weak = ours.weak
    narrow: Narrow | None = None
    actions: list[str] = []
    if ours.customers:
        what = _fields_phrase(ours)
        released = ruling.released()
        complete = [c for c in released if not c.deny]  # customers whose every found field may go
        codes = {code for c in ruling.customers for code in c.deny.values()}
        codes |= {r.code for r in ruling.reasons}
        if ruling.purpose is None:
            blocked = True
            reasons.append(
                Reason(
                    "no_purpose",
                    N_(
                        "contains %(what)s of %(count)s of our customers; "
                        "state the purpose of sending it (--purpose)"
                    ),
                    {"what": what, "count": ours.customers},
                )
            )
            actions.append("state_purpose")
        elif len(complete) == ours.customers:
            reasons.append(
                Reason(
                    "permitted",
                    N_(
                        "contains %(what)s of %(count)s of our customers; the policy allows "
                        "this recipient to receive them for this purpose"
                    ),
                    {"what": what, "count": ours.customers},
                )
            )
        else:
            refused = ours.customers - len(complete)
            template = (
                N_(
                    "contains %(what)s of %(count)s of our customers; the policy does not "
                    "allow this recipient to receive it for this purpose"
                )
                if not released
                else N_(
                    "contains %(what)s of %(count)s of our customers; for %(refused)s of them "
                    "the policy does not allow all of it to go to this recipient"
                )
            )
            reasons.append(
                Reason(
                    "external_refused" if ruling.external else "policy_refused",
                    template,
                    {"what": what, "count": ours.customers, "refused": refused},
                )
            )
            reasons.extend(ruling.reasons)
            if released:
                partial = True
                actions.append("narrow")
            else:
                blocked = True
            if codes & CONSENT_CODES:
                actions.append("ask_consent")
    if ruling.basis in BASIS_REASONS and ours.customers and ruling.released():
        reasons.append(
            Reason(
                f"basis_{ruling.basis}",
                BASIS_REASONS[ruling.basis],
                {"recipient": ruling.recipient},
            )
        )
    if weak:
        reasons.append(
            Reason(
                "possible_personal_data_weak",
                N_(
                    "possible personal data (weak): %(count)s names that alone do not "
                    "identify one of our customers"
                ),
                {"count": weak},
            )
        )
    other = sum(counts.values()) - sum(r.matched for r in report.files)
    if ruling.external and other > 0:
        risky = sum(n for entity, n in counts.items() if entity in HIGH_RISK)
        nouns = tuple(ENTITY_NOUNS.get(e, e) for e, _ in counts.most_common())
        if risky >= BULK_HIGH_RISK:
            blocked = True
            reasons.append(
                Reason(
                    "bulk_sensitive",
                    N_(
                        "contains %(count)s card, bank or national identification numbers; "
                        "the recipient is external"
                    ),
                    {"count": risky},
                )
            )
        elif ruling.kind != "subject":
            partial = True
            actions.append("narrow")
            reasons.append(
                Reason(
                    "personal_data_external",
                    N_(
                        "contains personal data (%(what)s) and the recipient is external; "
                        "send a redacted copy"
                    ),
                    {"what": nouns},
                )
            )
    if not counts and not failed:
        reasons.append(Reason("clean", N_("no personal data found")))
    decision: Literal["allow", "redact", "block"] = (
        "block" if blocked else "redact" if partial else "allow"
    )
    if decision == "redact":
        narrow = _narrow(ruling) or Narrow((), (), len(ruling.customers))
    return EgressVerdict(
        decision,
        tuple(reasons),
        ruling=ruling,
        narrow=narrow,
        actions=tuple(Action(a) for a in dict.fromkeys(actions)),
        weak_names=weak,
    )


@dataclass(frozen=True, slots=True)
class Unruled:
    """An ``EgressPolicy`` for scans without a vault (tests, benchmarks): it knows no
    principal and no consent, so every recipient is external and no customer's data
    may go.  It records nothing; the shells always use ``vault.egress``."""

    asker: str = "anonymous"
    recorded: list[int] = field(default_factory=list)

    def rule(
        self,
        matches: CustomerMatches,
        asker: str,
        recipient: Recipient | None,
        purpose: str | None,
    ) -> Ruling:
        return Ruling(
            asker=asker,
            recipient=recipient.shown if recipient else "",
            kind="external",
            purpose=purpose,
        )

    def record(self, report: ScanReport, ruling: Ruling) -> int:
        return 0
