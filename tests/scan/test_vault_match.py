"""Exact match against a real vault (SQLite and PostgreSQL): blind indexes only."""

from __future__ import annotations

from pathlib import Path

from privault.runtime import Vault
from privault.scan import CustomerIndex, ExactMatcher, Recipient, Scanner, scan_paths


def test_a_file_with_our_customers_is_recognised_and_blocked_for_an_outsider(
    vault: Vault, tmp_path: Path
) -> None:
    ours = [
        {"first_name": "Jana", "last_name": "Dvořáková", "email": "jana.d@example.com"},
        {
            "first_name": "Zainab",
            "last_name": "Hussain",
            "email": "zainab.h@example.org",
            "phone": "+92 300 1234567",
        },
        {"first_name": "Oliver", "last_name": "Smith", "email": "oliver@example.net"},
    ]
    for values in ours:
        vault.customers.create(values)
    index = CustomerIndex(vault.customers)
    index.refresh()
    assert index.customers == 3
    exported = tmp_path / "list.csv"
    exported.write_text(
        "name,email,phone\n"
        "Jana Dvořáková,JANA.D@example.com,\n"
        "Zainab Hussain,zainab.h@example.org,0300 1234567\n"
        "Not Ours,stranger@example.com,\n",
        encoding="utf-8",
    )
    scanner = Scanner(matcher=ExactMatcher(index, vault.keyring))
    report = scan_paths(
        [exported], scanner, recipient=Recipient(address="friend@elsewhere.example")
    )
    assert report.matches.customers == 2
    assert report.verdict is not None and report.verdict.decision == "block"
    text = repr(report)
    assert "jana.d@example.com" not in text.lower() and "1234567" not in text

    # a new customer is picked up by an incremental refresh, without a rebuild
    vault.customers.create({"last_name": "Malik", "email": "stranger@example.com"})
    assert index.refresh() >= 1
    report = scan_paths(
        [exported], scanner, recipient=Recipient(address="friend@elsewhere.example")
    )
    assert report.matches.customers == 3
