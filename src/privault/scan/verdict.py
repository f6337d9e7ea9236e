"""From findings to ``allow`` / ``redact`` / ``block``, for a given recipient.

Who the recipient is and who consented to what belongs to the policy engine and
the consent ledger; the scanner asks them through ``RecipientDirectory``.  The
default directory knows nothing, so it answers as R4 and R5 demand of the
unknown: an address outside our domains is external, and nobody consented.
A ``block`` is handed to ``BlockHandler``s -- the incidents slice plugs in there.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from privault.errors import N_
from privault.scan.model import (
    ENTITY_NOUNS,
    FIELD_NOUNS,
    HIGH_RISK,
    Reason,
    ScanReport,
    Verdict,
)

RecipientKind = Literal["self", "internal", "partner", "external"]
BULK_HIGH_RISK: Final[int] = 10  # this many card numbers, IBANs... to outsiders blocks outright


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who will receive the scanned content: a principal's name or an e-mail address."""

    name: str | None = None
    address: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.address or ""


class RecipientDirectory(Protocol):
    """Answers from the policy engine and consent ledger (or a stand-in)."""

    def classify(self, recipient: Recipient) -> RecipientKind: ...

    def permitted(
        self, customer_ids: Collection[str], recipient: Recipient, purpose: str | None
    ) -> Collection[str]:
        """The customers whose data may go to ``recipient`` for ``purpose``."""
        ...


class BlockHandler(Protocol):
    """Called for every ``block`` (the incidents slice opens an incident here, R7)."""

    def on_block(
        self, report: ScanReport, recipient: Recipient | None, purpose: str | None
    ) -> None: ...


class DefaultDirectory:
    """Works without the policy engine: names are colleagues, addresses are outsiders.

    Colleagues may receive customer data for the purposes it was collected for
    (``essential.*``); any other purpose needs consent, which this stand-in has no
    record of.  Outsiders need per-customer consent to sharing: none recorded.
    """

    def __init__(self, internal_domains: Sequence[str] = (), partners: Sequence[str] = ()) -> None:
        self.internal_domains = tuple(d.lower().lstrip("@") for d in internal_domains)
        self.partners = frozenset(p.lower() for p in partners)

    def classify(self, recipient: Recipient) -> RecipientKind:
        if recipient.name is not None:
            return "partner" if recipient.name.lower() in self.partners else "internal"
        address = (recipient.address or "").lower()
        domain = address.rpartition("@")[2]
        if address in self.partners or domain in self.partners:
            return "partner"
        if domain and any(domain == d or domain.endswith("." + d) for d in self.internal_domains):
            return "internal"
        return "external"

    def permitted(
        self, customer_ids: Collection[str], recipient: Recipient, purpose: str | None
    ) -> Collection[str]:
        if (
            self.classify(recipient) in ("self", "internal")
            and purpose is not None
            and (purpose == "essential" or purpose.startswith("essential."))
        ):
            return set(customer_ids)
        return set()


def _fields_phrase(report: ScanReport) -> tuple[str, ...]:
    nouns: list[str] = []
    for field in sorted(report.matches.by_field):
        noun = FIELD_NOUNS.get(field, N_("other data"))
        if noun not in nouns:
            nouns.append(noun)
    return tuple(nouns)


def decide(
    report: ScanReport,
    recipient: Recipient | None,
    purpose: str | None,
    directory: RecipientDirectory,
) -> Verdict:
    """The verdict, with every reason that applies (most serious first)."""
    reasons: list[Reason] = []
    blocked = False
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
    if not counts:
        return Verdict(
            "block" if blocked else "allow",
            tuple(reasons) or (Reason("clean", N_("no personal data found")),),
        )
    kind: RecipientKind = directory.classify(recipient) if recipient is not None else "external"
    ours = report.matches
    if ours.customers:
        allowed = (
            set(directory.permitted(ours.customer_ids, recipient, purpose)) if recipient else set()
        )
        refused = ours.customers - len(allowed & ours.customer_ids)
        what = _fields_phrase(report)
        if refused and kind in ("external", "partner"):
            blocked = True
            template = (
                N_(
                    "contains %(what)s of %(count)s of our customers; the recipient is external "
                    "and none of them agreed to sharing"
                )
                if refused == ours.customers
                else N_(
                    "contains %(what)s of %(count)s of our customers; the recipient is external "
                    "and %(refused)s of them did not agree to sharing"
                )
            )
            reasons.append(
                Reason(
                    "no_consent_external",
                    template,
                    {"what": what, "count": ours.customers, "refused": refused},
                )
            )
        elif refused and purpose is None:
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
        elif refused:
            blocked = True
            reasons.append(
                Reason(
                    "purpose_needs_consent",
                    N_(
                        "contains %(what)s of %(count)s of our customers; %(refused)s of them "
                        "did not agree to this use of their data "
                        "(ask them through the preference centre)"
                    ),
                    {"what": what, "count": ours.customers, "refused": refused},
                )
            )
    other = sum(counts.values()) - sum(r.matched for r in report.files)
    if kind in ("external", "partner") and other > 0:
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
        else:
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
            if not blocked:
                return Verdict("redact", tuple(reasons))
    if blocked:
        return Verdict("block", tuple(reasons))
    return Verdict(
        "allow",
        tuple(reasons)
        or (
            Reason(
                "permitted",
                N_("personal data found, and the recipient may receive it for this purpose"),
            ),
        ),
    )
