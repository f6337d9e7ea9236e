"""Run in a separate process by test_concurrency: flip one customer's consent many times."""

from __future__ import annotations

from typing import Any

from privault.audit import AuditLog
from privault.consent.service import ConsentService
from privault.runtime import open_vault
from privault.settings import Settings


def flip(settings_json: str, customer_id: str, rounds: int, start: Any, first: str) -> None:
    vault = open_vault(Settings.model_validate_json(settings_json))
    try:
        service = ConsentService(vault.engine, vault.taxonomy, vault.clock, AuditLog(vault))
        notice = service.notice("marketing")
        start.wait(timeout=60)
        action = first
        for _ in range(rounds):
            service.record(
                customer_id,
                "marketing",
                "grant" if action == "grant" else "withdraw",
                notice=notice,
                channel="api",
                actor=f"worker-{first}",
            )
            action = "withdraw" if action == "grant" else "grant"
    finally:
        vault.close()
