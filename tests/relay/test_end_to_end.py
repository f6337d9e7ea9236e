"""A real SMTP client sends through the relay, built over a real vault with today's
scanner adapter, to a real SMTP sink (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from privault.relay import RelayConfig, Upstream
from privault.relay.scanner_adapter import ScannerDecider
from privault.relay.wiring import Relay, build_relay
from privault.runtime import Vault
from tests.incidents.receivers import free_port
from tests.relay.conftest import RawSink, raw_sink
from tests.relay.mail import message, send

CUSTOMERS = [
    {"first_name": "Jana", "last_name": "Dvořáková", "email": "jana.d@example.com"},
    {"first_name": "Zainab", "last_name": "Hussain", "email": "zainab.h@example.org"},
    {"first_name": "Oliver", "last_name": "Smith", "email": "oliver@example.net"},
]
LIST = "name,email\nJana Dvořáková,jana.d@example.com\nZainab Hussain,zainab.h@example.org\n"


@contextmanager
def relay_over(vault: Vault) -> Iterator[tuple[Relay, RawSink, int]]:
    with raw_sink() as (box, upstream):
        port = free_port()
        relay = build_relay(
            vault,
            RelayConfig(host="127.0.0.1", port=port),
            Upstream("127.0.0.1", upstream, "none", timeout=5),
        )
        relay.start()
        try:
            assert relay.decider.ready(30)
            yield relay, box, port
        finally:
            relay.stop()


def _entries(vault: Vault) -> list[dict[str, Any]]:
    """The relay's entries, oldest first, as stored."""
    stored = reversed(vault.audit.entries(limit=200))
    return [json.loads(e.body) for e in stored if e.entry.action == "relay.message"]


def _with_attachment(name: str, data: bytes, subtype: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = "alice@company.example"
    mail["To"] = "bob@partner.example"
    mail["Subject"] = "Files"
    mail.set_content("Attached.")
    mail.add_attachment(data, maintype="application", subtype=subtype, filename=name)
    return mail.as_bytes().replace(b"\n", b"\r\n")


def test_a_customer_list_is_refused_and_a_harmless_mail_arrives_unchanged(vault: Vault) -> None:
    for values in CUSTOMERS:
        vault.customers.create(values)
    with relay_over(vault) as (_relay, box, port):
        code, reply = send(port, message(body=LIST), ["friend@elsewhere.example"])
        assert code == 550, reply
        assert reply.startswith("5.7.1") and "<friend@elsewhere.example>" in reply
        assert "jana" not in reply.lower() and "zainab" not in reply.lower()

        harmless = message(subject="Lunch", body="See you at noon in the usual place.")
        code, reply = send(port, harmless, ["bob@partner.example"])
        assert code == 250, reply
    [(_, _, got)] = box.messages
    assert got.endswith(harmless) and got[: -len(harmless)].count(b"Received:") == 1
    refused, allowed = _entries(vault)
    assert refused["outcome"] == "denied" and allowed["outcome"] == "allowed"
    assert refused["counts"]["customers"] == 2 and refused["principal"] == "relay"
    assert refused["details"]["message"].startswith("sha256:")
    for entry in (refused, allowed):
        body = json.dumps(entry)
        assert "example.com" not in body and "Lunch" not in body and "Jana" not in body


def test_a_customer_may_receive_only_their_own_data(vault: Vault) -> None:
    for values in CUSTOMERS:
        vault.customers.create(values)
    own = message(to=["jana.d@example.com"], body="Dear customer, we have jana.d@example.com.")
    both = message(to=["jana.d@example.com"], body="You and zainab.h@example.org.")
    with relay_over(vault) as (_relay, box, port):
        assert send(port, own, ["jana.d@example.com"])[0] == 250
        assert send(port, both, ["jana.d@example.com"])[0] == 550
    assert len(box.messages) == 1


def test_text_like_attachments_are_scanned_and_encrypted_ones_are_554(vault: Vault) -> None:
    vault.customers.create(CUSTOMERS[0])
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("export/list.csv", LIST)
    encrypted = bytearray(packed.getvalue())
    with relay_over(vault) as (_relay, box, port):
        code, _ = send(
            port, _with_attachment("list.zip", packed.getvalue(), "zip"), ["x@y.example"]
        )
        assert code == 550
        code, _ = send(
            port, _with_attachment("report.pdf", b"%PDF-1.7 ...", "pdf"), ["x@y.example"]
        )
        assert code == 554
        # set the "encrypted" flag of the member in both headers: uninspectable
        for marker in (b"PK\x03\x04", b"PK\x01\x02"):
            at = encrypted.find(marker)
            flag = at + (6 if marker == b"PK\x03\x04" else 8)
            encrypted[flag] |= 1
        code, _ = send(
            port, _with_attachment("secret.zip", bytes(encrypted), "zip"), ["x@y.example"]
        )
        assert code == 554
    assert box.messages == []


def test_new_customers_are_learnt_incrementally_without_a_rebuild(vault: Vault) -> None:
    vault.customers.create(CUSTOMERS[0])
    mail = message(body="Contact oliver@example.net today.")
    with relay_over(vault) as (relay, box, port):
        assert send(port, mail, ["bob@partner.example"])[0] == 250
        vault.customers.create(CUSTOMERS[2])
        decider = relay.decider._decider
        assert isinstance(decider, ScannerDecider)
        decider.refresh()  # what the adapter does at most every second
        assert send(port, mail, ["bob@partner.example"])[0] == 550
    assert len(box.messages) == 1


def _docx(text: str) -> bytes:
    """A minimal Word document: its text in word/document.xml, and a logo."""
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(
            "word/document.xml",
            f"<w:document><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>",
        )
        archive.writestr("word/media/image1.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    return packed.getvalue()


def test_a_docx_is_scanned_its_logo_is_not_and_binary_attachments_are_554(vault: Vault) -> None:
    vault.customers.create(CUSTOMERS[0])
    docx = "vnd.openxmlformats-officedocument.wordprocessingml.document"
    with relay_over(vault) as (_relay, box, port):
        clean = _with_attachment("memo.docx", _docx("Minutes of the meeting"), docx)
        assert send(port, clean, ["x@y.example"])[0] == 250
        leak = _with_attachment("memo.docx", _docx("Call jana.d@example.com"), docx)
        assert send(port, leak, ["x@y.example"])[0] == 550
        binary = _with_attachment("data.bin", b"\x00\x01\x02" * 500, "octet-stream")
        assert send(port, binary, ["x@y.example"])[0] == 554
    assert len(box.messages) == 1
