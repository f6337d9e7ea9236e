"""From the bytes a client sent to what the relay scans, and back to what goes upstream.

The message is parsed only to find its parts and a few header facts; what goes
upstream is the original bytes with one ``Received:`` header in front, so a clean
message arrives exactly as it was sent (RFC 5321 §4.4).
"""

from __future__ import annotations

import email
import email.policy
import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.message import Message
from email.utils import format_datetime, getaddresses
from typing import Final

from privault.i18n import Language, negotiate
from privault.relay.decider import MessageParts, Part

# Content that cannot be read without keys we do not hold.
ENCRYPTED_TYPES: Final[frozenset[str]] = frozenset(
    {
        "multipart/encrypted",
        "application/pkcs7-mime",
        "application/x-pkcs7-mime",
        "application/pgp-encrypted",
    }
)
# No PDF text extractor is installed: a PDF cannot be inspected, so it is not passed.
NO_EXTRACTOR_TYPES: Final[frozenset[str]] = frozenset({"application/pdf"})
NO_EXTRACTOR_SUFFIXES: Final[tuple[str, ...]] = (".pdf",)
# Not text-like and holding no message content of their own: not scanned, counted.
SKIPPED_MAINTYPES: Final[frozenset[str]] = frozenset({"image", "audio", "video"})
SIGNATURE_TYPES: Final[frozenset[str]] = frozenset(
    {"application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature"}
)
PGP_ARMOUR: Final = b"-----BEGIN PGP MESSAGE-----"


@dataclass(frozen=True, slots=True)
class Headers:
    """The few header facts the relay uses; addresses stay in memory, never in logs."""

    message_id: str
    visible: tuple[str, ...]  # To and Cc addresses, lower-cased
    lang: Language


def parse(raw: bytes) -> tuple[MessageParts, Headers]:
    """The message's scannable parts and header facts.  Never raises for bad MIME: what
    cannot be parsed as parts is scanned as one text body."""
    # compat32 parses several times faster than policy.default; encoded words are
    # decoded where we read them.
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    headers = Headers(
        message_id=_header(message, "Message-ID").strip(),
        visible=tuple(
            address.lower()
            for _, address in getaddresses(
                [_decoded(v) for v in message.get_all("To", []) + message.get_all("Cc", [])]
            )
            if "@" in address
        ),
        lang=negotiate(_language(message)),
    )
    parts: list[Part] = []
    uninspectable: list[str] = []
    skipped = 0
    subject = _header(message, "Subject")
    if subject:
        parts.append(Part("subject", "subject", "text/plain", subject.encode("utf-8")))
    bodies = 0
    for number, part in enumerate(message.walk()):
        ctype = part.get_content_type()
        raw_name = part.get_filename()
        filename = _decoded(raw_name) if raw_name else None
        label = filename or f"part {number}"
        if ctype in ENCRYPTED_TYPES:
            uninspectable.append(label)
            continue
        if part.is_multipart():
            continue
        if ctype in SIGNATURE_TYPES or part.get_content_maintype() in SKIPPED_MAINTYPES:
            skipped += 1
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if PGP_ARMOUR in data:
            uninspectable.append(label)
            continue
        if ctype in NO_EXTRACTOR_TYPES or (filename or "").lower().endswith(NO_EXTRACTOR_SUFFIXES):
            uninspectable.append(label)
            continue
        if filename is None and ctype in ("text/plain", "text/html"):
            bodies += 1
            charset = part.get_content_charset() or "utf-8"
            try:
                text = data.decode(charset, errors="replace")
            except LookupError:
                text = data.decode("utf-8", errors="replace")
            parts.append(Part("body", f"body {bodies}", ctype, text.encode("utf-8")))
            continue
        parts.append(Part("attachment", filename or f"part-{number}", ctype, data))
    return MessageParts(tuple(parts), tuple(uninspectable), skipped), headers


def _decoded(value: object) -> str:
    """A header value with its encoded words (RFC 2047) decoded; never raises."""
    try:
        return str(make_header(decode_header(str(value))))
    except (ValueError, LookupError, UnicodeError, HeaderParseError):
        return str(value)


def _header(message: Message, name: str) -> str:
    value = message.get(name)
    return _decoded(value) if value is not None else ""


def _language(message: Message) -> str | None:
    """The sender's language: ``Content-Language`` of the message or of its first part
    that has one (multipart builders move it down), else ``Accept-Language``."""
    for part in message.walk():
        value = _header(part, "Content-Language")
        if value:
            return value
    return _header(message, "Accept-Language") or None


def received_header(
    *, helo: str | None, peer: str, hostname: str, tls: bool, at: datetime
) -> bytes:
    """One ``Received:`` trace line (RFC 5321 §4.4), folded, with CRLF."""
    helo_part = _token(helo) if helo else "unknown"
    protocol = "ESMTPS" if tls else "ESMTP"
    return (
        f"Received: from {helo_part} ([{_token(peer)}])\r\n"
        f"\tby {_token(hostname)} (privault relay) with {protocol};\r\n"
        f"\t{format_datetime(at)}\r\n"
    ).encode("ascii", errors="replace")


def _token(value: str) -> str:
    """A header-safe token: no spaces, no line breaks, printable ASCII only."""
    cleaned = "".join(ch for ch in value if 33 <= ord(ch) < 127 and ch not in "()[];")
    return cleaned[:255] or "unknown"


def digest(data: bytes) -> str:
    """A code for the audit trail: ``sha256:`` and the first 32 hex digits."""
    return "sha256:" + hashlib.sha256(data).hexdigest()[:32]
