"""What the relay answers, and the one rule it adds itself (item 8: To/Cc disclosure).

Pure functions over a ``RelayVerdict``: no I/O, no clock.  Every reply text is a
gettext message in en/cs/ur; it names refused recipients, rules and counts, never a
customer value.  Status codes follow RFC 3463: ``5.7.1`` refused by policy,
``4.3.0`` our own fault (the sender retries), ``4.5.3`` too many recipients.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final, Literal

from privault.errors import N_
from privault.i18n import format_number, translator
from privault.relay.decider import RecipientVerdict, RelayVerdict

Outcome = Literal["allow", "refuse", "uninspectable", "unavailable"]

ACCEPTED: Final = N_("Message checked and accepted for delivery.")
REFUSED: Final = N_(
    "The message was not sent: %(count)s of its recipients may not receive it "
    "(customer data protection)."
)
UNINSPECTABLE: Final = N_(
    "The message was not sent: %(count)s of its parts cannot be inspected "
    "(encrypted, or a format we cannot read)."
)
DISCLOSED: Final = N_(
    "%(count)s external recipients in To or Cc would see each other's addresses; put them in Bcc"
)
TIMEOUT: Final = N_("The message could not be checked in time; please try again later.")
UNAVAILABLE: Final = N_("The privacy check is unavailable; please try again later.")
UPSTREAM_DOWN: Final = N_("The mail server could not be reached; please try again later.")
TOO_MANY: Final = N_("Too many recipients; at most %(limit)s per message.")
NOT_ALLOWED: Final = N_("This relay does not accept connections from your address.")
MAX_LINE: Final[int] = 400  # characters of one reply line (RFC 5321 allows 512 octets)


@dataclass(frozen=True, slots=True)
class Judgement:
    """The final verdict after the relay's own rule, and the SMTP reply if refused."""

    verdict: RelayVerdict
    outcome: Outcome
    reply: str | None  # None: pass the message upstream

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(sorted({code for r in self.verdict.recipients for code in r.reasons}))


def disclosure(verdict: RelayVerdict, visible: Sequence[str], lang: str = "en") -> RelayVerdict:
    """Several external addresses in To/Cc disclose each address to the others (item 8):
    every external envelope recipient who would see them is refused.  Bcc recipients
    do not appear in To/Cc, so a mailing in Bcc passes this rule.  A visible address
    that is not an envelope recipient is unknown to us, and unknown means external."""
    external = {r.address.lower() for r in verdict.recipients if r.external}
    envelope = {r.address.lower() for r in verdict.recipients}
    shown = {a.lower() for a in visible}
    exposed = {a for a in shown if a in external or a not in envelope}
    if len(exposed) < 2:
        return verdict
    text = translator(lang).gettext(DISCLOSED) % {"count": format_number(len(exposed), lang)}
    changed = tuple(
        _refuse(r, "addresses_disclosed", text) if r.external and r.address.lower() in shown else r
        for r in verdict.recipients
    )
    return replace(verdict, recipients=changed)


def _refuse(recipient: RecipientVerdict, code: str, text: str) -> RecipientVerdict:
    explanation = f"{recipient.explanation}; {text}" if not recipient.allowed else text
    return replace(
        recipient,
        allowed=False,
        reasons=(*(recipient.reasons if not recipient.allowed else ()), code),
        explanation=explanation,
    )


def judge(verdict: RelayVerdict, visible: Sequence[str], lang: str = "en") -> Judgement:
    """``uninspectable`` (554) before ``refuse`` (550) before ``allow``."""
    tr = translator(lang)
    if verdict.uninspectable:
        count = format_number(len(verdict.uninspectable), lang)
        return Judgement(
            verdict,
            "uninspectable",
            reply("554", "5.7.1", [tr.gettext(UNINSPECTABLE) % {"count": count}]),
        )
    verdict = disclosure(verdict, visible, lang)
    refused = verdict.refused
    if not refused:
        return Judgement(verdict, "allow", None)
    lines = [tr.gettext(REFUSED) % {"count": format_number(len(refused), lang)}]
    lines += [
        f"<{_safe(r.address)}>: {_safe(r.explanation or ', '.join(r.reasons))}" for r in refused
    ]
    return Judgement(verdict, "refuse", reply("550", "5.7.1", lines))


def message(msgid: str, lang: str = "en", **params: int) -> str:
    """A reply text in ``lang`` (numbers formatted for it)."""
    text = translator(lang).gettext(msgid)
    return text % {k: format_number(v, lang) for k, v in params.items()} if params else text


def reply(code: str, status: str, lines: Sequence[str]) -> str:
    """A (multi-line) SMTP reply: ``550-5.7.1 first`` ... ``550 5.7.1 last``."""
    cleaned = [_safe(line)[:MAX_LINE] for line in lines] or [""]
    out = [f"{code}-{status} {line}" for line in cleaned[:-1]]
    out.append(f"{code} {status} {cleaned[-1]}")
    return "\r\n".join(out)


def _safe(text: str) -> str:
    """One line: no CR/LF or other control characters (they would end the reply)."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
