"""Exact data match and S1: our customers' e-mail list, sent outside, is blocked."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from faker import Faker

from privault.crypto import Keyring
from privault.scan import (
    CustomerIndex,
    CustomerMatches,
    DigestTable,
    ExactMatcher,
    Recipient,
    Scanner,
    ScanReport,
    Unruled,
    scan_paths,
)
from tests.scan.scan_fakes import FakeIndexSource


def _vault(keyring: Keyring, count: int) -> tuple[FakeIndexSource, list[dict[str, str]]]:
    fake = Faker("cs_CZ")
    fake.seed_instance(11)
    source = FakeIndexSource()
    people = []
    for n in range(count):
        first, last = fake.first_name(), fake.last_name()
        person = {
            "id": f"cus_{n:05d}",
            "first": first,
            "last": last,
            "email": f"{first}.{last}{n}@example.net".lower(),
            "phone": f"+420777{n:06d}",
        }
        people.append(person)
        source.add(keyring, person["id"], "email", "email", person["email"])
        source.add(keyring, person["id"], "phone", "phone", person["phone"])
        source.add(keyring, person["id"], "last_name", "name", last)
        source.add(keyring, person["id"], "full_name", "name", f"{first} {last}")
    return source, people


class Incidents:
    def __init__(self) -> None:
        self.opened: list[ScanReport] = []

    def on_block(
        self, report: ScanReport, recipient: Recipient | None, purpose: str | None
    ) -> None:
        self.opened.append(report)


def test_s1_customer_email_list_to_outsider_is_blocked_with_count(
    keyring: Keyring, tmp_path: Path
) -> None:
    source, people = _vault(keyring, 300)
    index = CustomerIndex(source)
    assert index.refresh() == 1200
    export = tmp_path / "customers_for_service.csv"
    with export.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email"])
        writer.writerows([[p["email"]] for p in people[:204]])
        writer.writerow(["someone.else@example.org"])
    scanner = Scanner(matcher=ExactMatcher(index, keyring))
    incidents = Incidents()
    report = scan_paths(
        [export],
        scanner,
        recipient=Recipient(address="friend@gmail.com"),
        purpose="marketing.communications.email",
        block_handlers=[incidents],
    )
    assert report.verdict is not None and report.verdict.decision == "block"
    assert report.matches.customers == 204
    assert report.matches.by_field == {"email": 204}
    assert report.files[0].columns == {"email": "EMAIL_ADDRESS"}
    message = report.verdict.reasons[0].render("en")
    assert "e-mail addresses of 204 of our customers" in message
    assert report.verdict.reasons[0].code == "external_refused"
    assert "204" in report.verdict.reasons[0].render("cs")
    assert incidents.opened == [report]
    dumped = str(report.to_dict())
    assert people[0]["email"] not in dumped and "cus_" not in dumped
    # Without a vault nobody is known and nobody consented: a colleague's name is no
    # better than an outsider's (the real decision is vault.egress, tests/scan/test_egress_gate.py).
    internal = scan_paths(
        [export], scanner, recipient=Recipient(name="friend"), purpose="essential.service"
    )
    assert internal.verdict is not None and internal.verdict.decision == "block"


def test_names_phones_in_free_text_and_incremental_refresh(keyring: Keyring) -> None:
    source, people = _vault(keyring, 50)
    index = CustomerIndex(source, batch_size=7)
    index.refresh()
    scanner = Scanner(matcher=ExactMatcher(index, keyring))
    text = (
        f"Dear team, {people[3]['first']} {people[3]['last']} called from "
        f"+420 777 000 003 about the order. Also Praha Hlavní nádraží."
    )
    findings = scanner.analyze(text)
    assert {(f.entity, f.customer_match) for f in findings} == {
        ("PERSON", True),
        ("PHONE_NUMBER", True),
    }
    source.add(keyring, "cus_new", "email", "email", "new.person@example.net")
    assert index.refresh() == 1
    fresh = Scanner(matcher=ExactMatcher(index, keyring))
    assert fresh.analyze("write to New.Person@Example.net")[0].customer_match


def test_digest_table_is_a_multimap_that_grows() -> None:
    table = DigestTable()
    digests = [i.to_bytes(16, "little") for i in range(5000)]
    for i, digest in enumerate(digests):
        table.add(digest, i)
    table.add(digests[0], 99)
    table.add(digests[0], 99)
    assert sorted(table.get(digests[0])) == [0, 99]
    assert list(table.get(digests[4999])) == [4999]
    assert table.get(b"\xff" * 16) == ()
    assert len(table) == 5000


def test_the_stand_in_policy_releases_no_customer() -> None:
    matches = CustomerMatches(2, {"email": 2}, frozenset({"c1", "c2"}), {})
    ruling = Unruled().rule(matches, "someone", Recipient(address="a@gmail.com"), "essential")
    assert ruling.kind == "external" and ruling.recipient == "…@gmail.com"
    assert not ruling.released()


def test_report_json_is_free_of_values(keyring: Keyring) -> None:
    report = Scanner().analyze("IBAN CZ65 0800 0000 1920 0014 5399")
    assert report and "0800" not in io.StringIO(str([f.to_dict() for f in report])).read()
