"""What the relay needs from egress: a message's parts in, a per-recipient answer out.

The relay does not decide; it asks an ``RelayDecider``.  Today's adapter
(``privault.relay.scanner_adapter``) answers with the scanner; the gate-based egress
service will answer through the policy, the principals and the consent ledger.  Any
object with this ``decide`` plugs in: the relay only reads the fields below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

PartKind = Literal["subject", "body", "attachment"]


@dataclass(frozen=True, slots=True)
class Part:
    """One scannable piece of a message: its subject, a text body or an attachment.

    ``name`` is what people see (``subject``, ``body 1``, ``list.csv``); it is also
    what format detection looks at, so attachments keep their file names.
    """

    kind: PartKind
    name: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class MessageParts:
    """Everything of a message that is scanned, and what could not be inspected.

    ``uninspectable`` names parts that cannot be read at all (S/MIME or PGP encrypted
    content, encrypted archives, PDFs without a text extractor): such a message is
    refused with ``554 5.7.1``, never passed unscanned.  ``skipped`` counts media
    parts (images, audio, video) that are not text-like and are not scanned.
    """

    parts: tuple[Part, ...]
    uninspectable: tuple[str, ...] = ()
    skipped: int = 0

    @property
    def size(self) -> int:
        return sum(len(p.data) for p in self.parts)


@dataclass(frozen=True, slots=True)
class RecipientVerdict:
    """The answer for one envelope recipient.

    ``reasons`` are machine codes (``no_consent_external``, ``own_data``...);
    ``explanation`` is the same in the asker's language, with the rule and counts
    and never a customer value.  ``external`` says whether the recipient is outside
    the company (the relay's To/Cc disclosure rule counts those).
    """

    address: str
    allowed: bool
    external: bool
    reasons: tuple[str, ...] = ()
    explanation: str = ""


@dataclass(frozen=True, slots=True)
class RelayVerdict:
    """Per-recipient answers plus counts the audit entry records (never values)."""

    recipients: tuple[RecipientVerdict, ...]
    customers: int = 0  # distinct customers of ours found in the message
    findings: int = 0  # personal-data findings of any kind
    uninspectable: tuple[str, ...] = ()  # part names that could not be inspected

    @property
    def refused(self) -> tuple[RecipientVerdict, ...]:
        return tuple(r for r in self.recipients if not r.allowed)


class RelayDecider(Protocol):
    """May this message go to each of these recipients, sent by this asker?

    ``asker`` is a principal name (the AUTH user, or the principal a trusted MTA's
    envelope sender maps to), or ``None`` for an asker with no role.  ``lang`` is the
    language of the explanations (``en``, ``cs`` or ``ur``).  Raise for any failure
    of the vault, the scanner or the policy: the relay then answers ``451 4.3.0``
    (fail closed) and never passes the message.
    """

    def decide(
        self,
        message: MessageParts,
        asker: str | None,
        recipients: Sequence[str],
        lang: str,
    ) -> RelayVerdict: ...
