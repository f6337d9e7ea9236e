"""What a scan produces: findings, per-file results, customer matches, verdicts.

Nothing here ever holds a matched value.  A finding says *what* was found, *where*
(offsets and a location inside the file) and *why* (score and explanation); the
value itself stays in the scanned text.  That keeps reports, logs, exceptions and
test snapshots free of customer data (DESIGN.md §6).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from privault.errors import N_
from privault.i18n import format_number, translator

Decision = Literal["allow", "redact", "block"]

# Entity types, named as presidio names them where it has a name.
EMAIL: Final = "EMAIL_ADDRESS"
PHONE: Final = "PHONE_NUMBER"
IBAN: Final = "IBAN_CODE"
CARD: Final = "CREDIT_CARD"
IP: Final = "IP_ADDRESS"
DOB: Final = "DATE_OF_BIRTH"
CZ_BIRTH_NUMBER: Final = "CZ_BIRTH_NUMBER"
CZ_ICO: Final = "CZ_ICO"
CZ_DIC: Final = "CZ_DIC"
CZ_BANK_ACCOUNT: Final = "CZ_BANK_ACCOUNT"
PK_CNIC: Final = "PK_CNIC"
PERSON: Final = "PERSON"
CUSTOMER_NUMBER: Final = "CUSTOMER_NUMBER"

# Entities whose bulk disclosure is serious on its own, whoever the data is about.
HIGH_RISK: Final[frozenset[str]] = frozenset(
    {CARD, IBAN, CZ_BIRTH_NUMBER, PK_CNIC, CZ_BANK_ACCOUNT}
)


# Problem codes after which the content was still scanned in full.
PARTIAL_OK: Final[frozenset[str]] = frozenset({"scanned_as_text", "redaction_incomplete"})


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of personal data: type, position, confidence and why -- never the value.

    ``start``/``end`` are character offsets in the scanned text unit: the decoded
    file for plain text, the cell or string value for CSV, XLSX and JSON, whose
    position ``where`` names (``row 3, column email``).
    """

    entity: str
    start: int
    end: int
    score: float
    explanation: str
    recognizer: str
    where: str = ""
    customer_match: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 2),
            "explanation": self.explanation,
            "recognizer": self.recognizer,
            "where": self.where,
            "customer_match": self.customer_match,
        }


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a file (or part of it) was not scanned: a code and an English msgid."""

    code: str
    template: str
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, lang: str = "en") -> str:
        text = translator(lang).gettext(self.template)
        try:
            return text % self.params if self.params else text
        except (KeyError, ValueError, TypeError):
            return text


@dataclass
class FileReport:
    """Result for one file or one member of a container (``a.zip!b.eml!c.xlsx``)."""

    path: str
    format: str = "unknown"
    findings: list[Finding] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    columns: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    characters: int = 0
    findings_dropped: int = 0
    matched: int = 0  # findings that matched our customers

    @property
    def failed(self) -> bool:
        """Some of the file was not scanned (a scan that fails must not pass as clean)."""
        return any(p.code not in PARTIAL_OK for p in self.problems)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "counts": dict(sorted(self.counts.items())),
            "columns": self.columns,
            "problems": [{"code": p.code, "message": p.render(lang)} for p in self.problems],
            "findings": [f.to_dict() for f in self.findings],
            "findings_not_listed": self.findings_dropped,
        }


@dataclass(frozen=True, slots=True)
class CustomerMatches:
    """How many of *our* customers appear, and in which fields (ids stay internal)."""

    customers: int = 0
    by_field: dict[str, int] = field(default_factory=dict)
    customer_ids: frozenset[str] = field(default=frozenset(), repr=False)
    # Per customer counted, the index fields of theirs the text holds (internal ids).
    customer_fields: Mapping[str, frozenset[str]] = field(default_factory=dict, repr=False)
    # Name occurrences that matched our customers' names but no identifying value of
    # theirs: "possible personal data (weak)", never counted as customers.
    weak: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "by_field": dict(sorted(self.by_field.items())),
            "by_strength": {"identifying": self.customers, "name_only": self.weak},
        }


@dataclass(frozen=True, slots=True)
class Reason:
    """A localisable reason: machine ``code`` plus English msgid and safe parameters."""

    code: str
    template: str
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, lang: str = "en") -> str:
        tr = translator(lang)
        params: dict[str, str] = {}
        for key, value in self.params.items():
            if isinstance(value, int):
                params[key] = format_number(value, lang)
            elif isinstance(value, tuple | list):
                params[key] = ", ".join(tr.gettext(str(v)) for v in value)
            else:
                params[key] = tr.gettext(str(value))
        try:
            return tr.gettext(self.template) % params
        except (KeyError, ValueError, TypeError):
            return tr.gettext(self.template)


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    reasons: tuple[Reason, ...] = ()

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "decision": self.decision,
            "reasons": [{"code": r.code, "message": r.render(lang)} for r in self.reasons],
        }


@dataclass
class ScanReport:
    files: list[FileReport]
    matches: CustomerMatches
    verdict: Verdict | None = None

    @property
    def counts(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for report in self.files:
            total.update(report.counts)
        return total

    @property
    def total_findings(self) -> int:
        return sum(self.counts.values())

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "verdict": self.verdict.to_dict(lang) if self.verdict else None,
            "counts": dict(sorted(self.counts.items())),
            "our_customers": self.matches.to_dict(),
            "files": [f.to_dict(lang) for f in self.files],
        }


# Plural nouns used in reasons; msgids so the .po files translate them.
ENTITY_NOUNS: Final[dict[str, str]] = {
    EMAIL: N_("e-mail addresses"),
    PHONE: N_("phone numbers"),
    IBAN: N_("IBANs"),
    CARD: N_("payment card numbers"),
    IP: N_("IP addresses"),
    DOB: N_("dates of birth"),
    CZ_BIRTH_NUMBER: N_("birth numbers"),
    CZ_ICO: N_("company identification numbers"),
    CZ_DIC: N_("tax identification numbers"),
    CZ_BANK_ACCOUNT: N_("bank account numbers"),
    PK_CNIC: N_("CNIC numbers"),
    PERSON: N_("names"),
    CUSTOMER_NUMBER: N_("customer numbers"),
}

# Index fields as nouns, for "contains e-mail addresses of 1,204 of our customers".
FIELD_NOUNS: Final[dict[str, str]] = {
    "email": N_("e-mail addresses"),
    "phone": N_("phone numbers"),
    "iban": N_("IBANs"),
    "customer_number": N_("customer numbers"),
    "national_id": N_("national identification numbers"),
    "last_name": N_("names"),
    "full_name": N_("names"),
}
