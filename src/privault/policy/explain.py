"""Decisions in words, in the asker's language (English, Czech, Urdu).

Every sentence is a gettext msgid; the reasons supply the rule and the way forward.
Only names and counts are interpolated, never customer data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from privault.errors import N_
from privault.i18n import direction, parse_language, translator
from privault.policy.decision import Decision, Effect

EFFECT_MESSAGES: Final[dict[Effect, str]] = {
    "allow": N_("Allowed."),
    "conditional": N_("Allowed, but only for the customers who meet the conditions below."),
    "partial": N_("Partly allowed: some fields are refused."),
    "deny": N_("Refused."),
}
FIELD_MESSAGES: Final[dict[str | None, str]] = {
    "plain": N_("%(field)s: allowed in plain text"),
    "masked": N_("%(field)s: allowed, masked"),
    "tokenized": N_("%(field)s: allowed, replaced by a token"),
    None: N_("%(field)s: refused"),
}
CONDITIONS_HEADING: Final = N_("only for customers who meet every condition:")
REQUEST_LINE: Final = N_("Request by %(principal)s for the purpose '%(purpose)s' (%(action)s).")
HANDOVER_LINE: Final = N_("Recipient: %(recipient)s.")


@dataclass(frozen=True, slots=True)
class FieldExplanation:
    field: str
    headline: str
    conditional: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Explanation:
    """A decision rendered for people; ``direction`` tells a UI how to lay it out."""

    lang: str
    direction: Literal["ltr", "rtl"]
    request: str
    summary: str
    notes: tuple[str, ...]
    fields: tuple[FieldExplanation, ...]

    def text(self) -> str:
        lines = [self.request, self.summary, *(f"! {note}" for note in self.notes)]
        for item in self.fields:
            lines.append(f"  {item.headline}")
            if item.conditional:
                lines.append(f"    {translator(self.lang).gettext(CONDITIONS_HEADING)}")
            lines.extend(f"    - {text}" for text in item.reasons)
        return "\n".join(lines)

    def as_dict(self) -> dict[str, object]:
        return {
            "lang": self.lang,
            "direction": self.direction,
            "request": self.request,
            "summary": self.summary,
            "notes": list(self.notes),
            "fields": [
                {
                    "field": f.field,
                    "headline": f.headline,
                    "conditional": f.conditional,
                    "reasons": list(f.reasons),
                }
                for f in self.fields
            ],
        }


def explain(decision: Decision, lang: str = "en") -> Explanation:
    """Render ``decision`` in ``lang`` (unknown languages fall back to English)."""
    language = parse_language(lang)
    gettext = translator(language).gettext
    request = decision.request
    head = gettext(REQUEST_LINE) % {
        "principal": request.principal,
        "purpose": request.purpose,
        "action": request.action,
    }
    if request.recipient is not None and request.recipient != request.principal:
        head += " " + gettext(HANDOVER_LINE) % {"recipient": request.recipient}
    fields = tuple(
        FieldExplanation(
            item.field,
            gettext(FIELD_MESSAGES[item.view if item.allowed else None]) % {"field": item.field},
            item.conditional,
            tuple(r.render(language) for r in item.reasons),
        )
        for item in decision.fields
    )
    return Explanation(
        language,
        direction(language),
        head,
        gettext(EFFECT_MESSAGES[decision.effect]),
        tuple(r.render(language) for r in decision.reasons),
        fields,
    )
