"""Egress through the gate: the scanner's customers and fields put to the same decision
a read gets (DESIGN.md §7).

``EgressDecider`` is the scanner's ``EgressPolicy``, built by the composition root
(``vault.egress``).  For the customers a scan found it asks the gate's compiled policy
for *this asker, this recipient, this purpose, these fields* (action ``share`` to a
colleague, else ``export``; the number of customers as the request's size), then
applies each customer's consent, objection and restriction with the same conditions
an export runs as SQL.  The
recipient is a principal (by name, or an address that is a principal's name), a
registered recipient (by name or one of its domains), the data subject (an address
that is the e-mail of the one customer the text is about), or else external and
unknown -- and an unknown recipient gets nothing (R4, R5).

Every ruling ends as an audit entry (counts, names, codes; never content) written
before the verdict is returned: if the trail cannot be written the scan fails.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, case, null, select

from privault.access.conditions import CUSTOMERS, Joined
from privault.access.gate import AccessGate
from privault.audit import AuditEntry, Kind, Outcome
from privault.errors import InvalidInput
from privault.policy import Condition, Decision, Policy, Request, explain
from privault.policy.reasons import Reason as PolicyReason
from privault.scan.model import CustomerMatches, Reason, ScanReport
from privault.scan.verdict import (
    CustomerRuling,
    FieldRuling,
    Recipient,
    RecipientKind,
    Ruling,
)

# Index field (what exact match finds) -> the catalog fields it reveals.
FIELDS_OF_INDEX: Final[Mapping[str, tuple[str, ...]]] = {
    "email": ("email",),
    "phone": ("phone",),
    "iban": ("iban",),
    "customer_number": ("customer_number",),
    "national_id": ("national_id",),
    "last_name": ("last_name",),
    "full_name": ("first_name", "last_name"),
}
# A hand-over to a colleague is a ``share`` (as the gate's hand-over is); what the asker
# keeps, or sends out of the company to a registered recipient, is an ``export``.
SHARE: Final = "share"
EXPORT: Final = "export"
AUDIT_ACTION: Final = "egress.scan"
CHUNK: Final[int] = 500
NO_PURPOSE: Final = "purpose_missing"


def scan_reason(item: PolicyReason) -> Reason:
    """A policy reason as the scanner's report carries it (code, msgid, names only)."""
    return Reason(item.code, item.message, dict(item.params))


_SAFE: Final = re.compile(r"[^\w.@-]+")
# Country-code top-level domains that are not the ISO code of their country.
_CCTLD_EXCEPTIONS: Final[Mapping[str, str]] = {"uk": "GB", "eu": "EU"}


def country_of_domain(domain: str) -> str | None:
    """Where an unknown address's domain points, by its country-code TLD (``.pk`` ->
    ``PK``); None for generic TLDs (``.com``), whose country the policy must declare."""
    tld = domain.rpartition(".")[2].lower()
    if len(tld) != 2 or not tld.isalpha():
        return None
    return _CCTLD_EXCEPTIONS.get(tld, tld.upper())


@dataclass(frozen=True, slots=True)
class ResolvedRecipient:
    """Who the recipient is to the policy: ``request`` is what the decision is asked
    for (None: the asker keeps it), ``label`` what reports and the audit trail say."""

    kind: RecipientKind
    label: str
    request: str | None
    basis: str | None = None
    country: str | None = None


def external_label(address: str) -> str:
    """An unknown address as reports may name it: its domain only (the address itself
    may be a customer's)."""
    domain = _SAFE.sub("-", address.rpartition("@")[2].strip().lower()).strip("-_.")[:100]
    return f"external:{domain}" if domain else "external"


def _failures(
    connection: Connection,
    conditions: Sequence[Condition],
    ids: Sequence[str],
    at: datetime,
) -> dict[str, tuple[str, tuple[str | None, ...]]]:
    """Per customer id: (public id, the first failing reason of each condition or None),
    by the same SQL an export filters with (``conditions.Joined``)."""
    joined = Joined(at)
    columns = []
    for index, condition in enumerate(conditions):
        whens = [(~sql, code) for code, sql in joined.clauses(condition)]
        column = case(*whens, else_=null()) if whens else null()
        columns.append(column.label(f"c{index}"))
    out: dict[str, tuple[str, tuple[str | None, ...]]] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        statement = (
            select(CUSTOMERS.c.id, CUSTOMERS.c.public_id, *columns)
            .select_from(joined.source)
            .where(CUSTOMERS.c.id.in_(chunk), CUSTOMERS.c.erased_at.is_(None))
        )
        for row in connection.execute(statement):
            out[str(row[0])] = (str(row[1]), tuple(row[2:]))
    return out


def _explainer(decision: Decision) -> Callable[[str], Mapping[str, Any]]:
    return lambda lang: explain(decision, lang).as_dict()


class EgressDecider:
    """The scanner's questions answered by the gate's policy and the consent ledger."""

    def __init__(self, gate: AccessGate) -> None:
        self.gate = gate

    @property
    def policy(self) -> Policy:
        return self.gate.engine.policy

    # -- who receives it ---------------------------------------------------------------

    def resolve(
        self, recipient: Recipient | None, asker: str, matches: CustomerMatches
    ) -> ResolvedRecipient:
        if recipient is None or not recipient.label.strip():
            return ResolvedRecipient("external", "external", "external")
        policy = self.policy
        if recipient.name is not None:
            name = recipient.name.strip()
            label = _SAFE.sub("-", name).strip("-_.")[:100] or "external"
            return self._named(name, asker) or ResolvedRecipient("external", label, label)
        address = (recipient.address or "").strip().lower()
        named = self._named(address, asker)
        if named is not None:
            return named
        domain = address.rpartition("@")[2]
        for spec in policy.recipients.values():
            if domain and any(domain == d or domain.endswith("." + d) for d in spec.domains):
                return self._registered(spec.name)
        if matches.customers == 1 and "@" in address:
            try:
                owners = {ref.id for ref in self.gate.customers.find("email", address)}
            except InvalidInput:
                owners = set()
            if owners & matches.customer_ids:
                return ResolvedRecipient("subject", "data-subject", None, "data_subject")
        label = external_label(address)
        return ResolvedRecipient("external", label, label, None, country_of_domain(domain))

    def _named(self, name: str, asker: str) -> ResolvedRecipient | None:
        policy = self.policy
        spec = policy.principals.get(name)
        if spec is not None:
            if name == asker:
                return ResolvedRecipient("self", name, None)
            if spec.internal:
                return ResolvedRecipient("internal", name, name)
            organisation = policy.recipients.get(spec.organisation or "")
            return ResolvedRecipient(
                "partner",
                name,
                name,
                organisation.relationship if organisation else None,
                organisation.country if organisation else None,
            )
        if name in policy.recipients:
            return self._registered(name)
        return None

    def _registered(self, name: str) -> ResolvedRecipient:
        spec = self.policy.recipients[name]
        return ResolvedRecipient("partner", name, name, spec.relationship, spec.country)

    # -- the ruling --------------------------------------------------------------------

    def rule(
        self,
        matches: CustomerMatches,
        asker: str,
        recipient: Recipient | None,
        purpose: str | None,
    ) -> Ruling:
        who = self.resolve(recipient, asker, matches)
        basis = who.basis if who.basis != "third_party" else None
        base = Ruling(
            asker=asker,
            recipient=who.label,
            kind=who.kind,
            purpose=purpose,
            policy=self.gate.engine.policy.label,
            basis=basis,
            country=who.country,
        )
        if not matches.customers:
            return base
        per_customer = {
            customer: tuple(
                sorted({f for index in found for f in FIELDS_OF_INDEX.get(index, (index,))})
            )
            for customer, found in matches.customer_fields.items()
        }
        fields = tuple(sorted({f for names in per_customer.values() for f in names}))
        ids = sorted(per_customer)
        if purpose is None:
            return self._all_denied(base, per_customer, ids, fields, NO_PURPOSE)
        if who.kind == "subject":
            # A customer's own data sent to the customer is no disclosure to anyone
            # else: only their objection to this use stops it.
            condition = Condition(not_objected=purpose)
            decision = None
            conditions: dict[str, Condition] = dict.fromkeys(fields, condition)
            views: dict[str, str | None] = dict.fromkeys(fields, "plain")
            denied: dict[str, tuple[PolicyReason, ...]] = {}
        else:
            action = SHARE if who.kind == "internal" else EXPORT
            request = Request(asker, purpose, fields, action, who.request, len(ids))
            decision = self.gate.decide(request)
            conditions = {
                f.field: f.condition or Condition()
                for f in decision.fields
                if f.allowed and f.condition is not None
            }
            views = {f.field: f.view for f in decision.fields if f.allowed}
            denied = {f.field: f.reasons for f in decision.fields if not f.allowed}
        distinct = list(dict.fromkeys(conditions.values()))
        with self.gate.db.connect() as connection:
            failures = _failures(connection, distinct, ids, self.gate.clock.now())
        customers: list[CustomerRuling] = []
        released: Counter[str] = Counter()
        refused: Counter[str] = Counter()
        for customer in ids:
            row = failures.get(customer)
            if row is None:
                continue  # erased since the index was read: nothing of theirs is held
            public_id, codes = row
            allow: list[str] = []
            deny: dict[str, str] = {}
            for name in per_customer[customer]:
                if name in denied:
                    deny[name] = denied[name][0].code if denied[name] else "denied"
                elif name in conditions:
                    code = codes[distinct.index(conditions[name])]
                    if code is None:
                        allow.append(name)
                    else:
                        deny[name] = str(code)
                else:
                    deny[name] = "unknown_field"
            for name in allow:
                released[name] += 1
            for name in deny:
                refused[name] += 1
            customers.append(CustomerRuling(public_id, tuple(allow), deny))
        rulings = tuple(
            FieldRuling(
                name,
                name not in denied,
                views.get(name),
                released[name],
                refused[name],
                tuple(scan_reason(r) for r in self._reasons(decision, name, denied)),
            )
            for name in fields
        )
        request_reasons = tuple(scan_reason(r) for r in decision.reasons) if decision else ()
        return replace(
            base,
            purpose=purpose,
            fields=rulings,
            customers=tuple(customers),
            reasons=request_reasons,
            explain=None if decision is None else _explainer(decision),
        )

    @staticmethod
    def _reasons(
        decision: Decision | None, name: str, denied: Mapping[str, tuple[PolicyReason, ...]]
    ) -> tuple[PolicyReason, ...]:
        if name in denied:
            return denied[name]
        if decision is None:
            return ()
        return decision.field(name).reasons

    def _all_denied(
        self,
        base: Ruling,
        per_customer: Mapping[str, tuple[str, ...]],
        ids: Sequence[str],
        fields: tuple[str, ...],
        code: str,
    ) -> Ruling:
        with self.gate.db.connect() as connection:
            public = _failures(connection, (), ids, self.gate.clock.now())
        customers = tuple(
            CustomerRuling(public[c][0], (), dict.fromkeys(per_customer[c], code))
            for c in ids
            if c in public
        )
        rulings = tuple(FieldRuling(f, False, None, 0, len(customers)) for f in fields)
        return replace(base, fields=rulings, customers=customers)

    # -- the record --------------------------------------------------------------------

    def record(self, report: ScanReport, ruling: Ruling) -> int:
        verdict = report.verdict
        decision = verdict.decision if verdict is not None else "block"
        outcome = {
            "allow": Outcome.ALLOWED,
            "redact": Outcome.PARTIAL,
            "block": Outcome.DENIED,
        }[decision]
        catalog = self.gate.catalog
        fields = tuple(f.field for f in ruling.fields if f.field in catalog)
        excluded: Counter[str] = Counter()
        for customer in ruling.customers:
            for code in set(customer.deny.values()):
                excluded[f"excluded.{code}"] += 1
        codes = {r.code for r in verdict.reasons} if verdict is not None else set()
        codes |= {r.code for f in ruling.fields for r in f.reasons}
        entry = AuditEntry(
            at=self.gate.clock.now(),
            kind=Kind.DECISION,
            action=AUDIT_ACTION,
            principal=ruling.asker,
            outcome=outcome,
            purpose=ruling.purpose,
            recipient=ruling.recipient,
            fields=fields,
            categories=tuple(catalog.fields[f].category for f in fields),
            subjects=tuple(c.customer for c in ruling.customers[:1000]),
            counts={
                "files": len(report.files),
                "findings": report.total_findings,
                "customers": report.matches.customers,
                "released": len(ruling.released()),
                "weak_names": report.matches.weak,
                **dict(excluded.most_common(40)),
            },
            reasons=tuple(sorted(codes))[:64],
            details={
                "decision": decision,
                "recipient_kind": ruling.kind,
                "basis": ruling.basis,
                "policy": ruling.policy.replace("@", ":") or "unversioned",
            },
        )
        return self.gate.audit.record_grouped(entry).seq
