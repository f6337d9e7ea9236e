"""The demo's story: acceptance case S1 (DESIGN.md §1) played through the access gate.

A marketing notice is published; some demo customers agreed to it (recorded with the
notice version and channel), a few objected to marketing.  Then:

1. the marketing colleague exports e-mails for marketing -- only customers who agreed
   are included, and the others are counted by reason;
2. the ten-year customer-service employee asks for the same list for marketing --
   refused, with the rule and the lawful way forward;
3. she tries to hand the service list over to her friend in another team -- refused,
   because the friend has no business need;
4. the audit trail holds every one of these decisions and verifies.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from privault.access.gate import AccessGate
from privault.audit import AuditLog
from privault.consent.schemas import NoticeDraft
from privault.consent.service import ConsentService
from privault.errors import AccessDenied
from privault.policy import explain
from privault.runtime import Vault

MARKETING = "marketing.communications.email"
SERVICE = "essential.service.operations.support"
NOTICE_TITLE = {
    "en": "News and offers by e-mail",
    "cs": "Novinky a nabídky e-mailem",
    "ur": "ای میل کے ذریعے خبریں اور پیشکشیں",
}
NOTICE_TEXT = {
    "en": "We would like to send you news about our services and occasional offers by "
    "e-mail. You can withdraw this consent at any time in the preference centre.",
    "cs": "Rádi bychom vám e-mailem posílali novinky o našich službách a občas nějakou "
    "nabídku. Souhlas můžete kdykoli odvolat v centru předvoleb.",
    "ur": "ہم آپ کو ای میل کے ذریعے اپنی خدمات کی خبریں اور کبھی کبھار پیشکشیں بھیجنا چاہتے "
    "ہیں۔ آپ یہ رضامندی کسی بھی وقت ترجیحات کے مرکز میں جا کر واپس لے سکتے ہیں۔",
}


@dataclass(frozen=True, slots=True)
class SeedReport:
    consented: int
    objected: int


def seed_consents(
    vault: Vault, *, share: float = 0.35, objecting: float = 0.03, seed: int = 2026
) -> SeedReport:
    """Record that some customers agreed to marketing e-mails and a few objected."""
    consent = ConsentService(vault.engine, vault.taxonomy, vault.clock, AuditLog(vault))
    notice = consent.add_notice(
        NoticeDraft(key="newsletter", purposes=(MARKETING,), title=NOTICE_TITLE, text=NOTICE_TEXT),
        created_by="demo",
    )
    chooser = random.Random(seed)  # noqa: S311 -- reproducible demo data, not secrets
    consented = objected = 0
    after: str | None = None
    while True:
        page = vault.customers.page(limit=1000, after=after)
        if not page:
            break
        for ref in page:
            roll = chooser.random()
            if roll < share:
                consent.grant(ref.id, MARKETING, notice=notice, channel="import", actor="demo")
                consented += 1
            elif roll < share + objecting:
                consent.object(ref.id, "marketing", channel="phone", actor="demo")
                objected += 1
        after = page[-1].id
    return SeedReport(consented, objected)


def _refusal(gate: AccessGate, lang: str, **kwargs: Any) -> dict[str, Any]:
    try:
        gate.export(**kwargs)
    except AccessDenied as exc:
        decision = exc.decision
        return {
            "refused": True,
            "reasons": sorted(decision.codes),  # type: ignore[attr-defined]
            "explanation": explain(decision, lang).text(),  # type: ignore[arg-type]
        }
    return {"refused": False}


def play_s1(vault: Vault, lang: str = "en") -> dict[str, Any]:
    """Run S1's four steps and return what each person would see (counts, no data)."""
    gate = AccessGate(vault)
    export = gate.export("ayesha.khan", MARKETING, ["first_name", "email"])
    rows = sum(1 for _ in export.rows)
    return {
        "marketing_export": {
            "principal": "ayesha.khan",
            "included": export.summary.included,
            "rows": rows,
            "excluded": dict(export.summary.excluded),
        },
        "customer_service_asks_for_marketing": _refusal(
            gate, lang, principal="jana.dvorakova", purpose=MARKETING, fields=["email"]
        ),
        "hand_over_to_friend": _refusal(
            gate,
            lang,
            principal="jana.dvorakova",
            purpose=SERVICE,
            fields=["email"],
            recipient="tomas.kral",
            action="share",
        ),
        "audit": {"ok": gate.audit.verify().ok, "entries": gate.audit.head()[0]},
    }
