"""Parsing what a client sent: parts, header facts, what cannot be inspected."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

from privault.relay.message import parse, received_header


def _mail() -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "alice@company.example"
    mail["To"] = "Bob <bob@partner.example>, carol@x.example"
    mail["Cc"] = "dan@y.example"
    mail["Subject"] = "Quarterly"
    mail["Message-ID"] = "<m1@company.example>"
    mail.set_content("Body text")
    return mail


def test_subject_bodies_and_attachments_are_parts_and_headers_are_read() -> None:
    mail = _mail()
    mail.add_alternative("<p>Body html</p>", subtype="html")
    mail.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="list.csv")
    mail["Content-Language"] = "cs"
    parts, headers = parse(mail.as_bytes())
    kinds = [(p.kind, p.name) for p in parts.parts]
    assert kinds == [
        ("subject", "subject"),
        ("body", "body 1"),
        ("body", "body 2"),
        ("attachment", "list.csv"),
    ]
    assert headers.visible == ("bob@partner.example", "carol@x.example", "dan@y.example")
    assert headers.lang == "cs" and headers.message_id == "<m1@company.example>"
    assert parts.uninspectable == () and parts.skipped == 0


def test_encrypted_and_unreadable_parts_are_named_and_media_is_skipped() -> None:
    mail = _mail()
    mail.add_attachment(b"\x89PNG....", maintype="image", subtype="png", filename="logo.png")
    mail.add_attachment(b"%PDF-1.7", maintype="application", subtype="pdf", filename="r.pdf")
    mail.add_attachment(b"...", maintype="application", subtype="pkcs7-mime", filename="s.p7m")
    mail.add_attachment(
        b"-----BEGIN PGP MESSAGE-----\nhQ...\n-----END PGP MESSAGE-----\n",
        maintype="text",
        subtype="plain",
        filename="note.asc",
    )
    parts, _ = parse(mail.as_bytes())
    assert parts.uninspectable == ("r.pdf", "s.p7m", "note.asc")
    assert parts.skipped == 1


def test_the_received_header_is_one_clean_trace_line() -> None:
    header = received_header(
        helo="evil\r\nBcc: x@y (",
        peer="127.0.0.1",
        hostname="relay",
        tls=True,
        at=datetime(2026, 11, 22, 9, 0, tzinfo=UTC),
    )
    assert header.startswith(b"Received: from evilBcc:x@y ([127.0.0.1])\r\n")
    assert header.count(b"\r\n") == 3 and b"ESMTPS" in header
