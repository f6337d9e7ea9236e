"""Relays on 127.0.0.1 in a thread, a raw SMTP sink behind them, and a fake decider that
follows ``privault.relay.RelayDecider``."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from privault.audit import AuditEntry
from privault.relay import (
    MessageParts,
    RecipientVerdict,
    RelayConfig,
    RelayController,
    RelayHandler,
    RelayVerdict,
    Upstream,
)
from tests.incidents.receivers import free_port, serving

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@dataclass
class RawSink:
    """What the upstream got: (mail_from, rcpt_tos, exact bytes) per message."""

    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    answer: str = "250 OK"
    keep: bool = True  # False: count nothing, keep nothing (benchmarks)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.keep and self.answer.startswith("250"):
            self.messages.append(
                (envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
            )
        return self.answer


@contextmanager
def raw_sink() -> Iterator[tuple[RawSink, int]]:
    sink = RawSink()
    with serving(sink) as port:
        yield sink, port


@dataclass
class FakeDecider:
    """Refuses recipients listed in ``refuse``; counts a customer per ``CUSTOMER`` word."""

    refuse: set[str] = field(default_factory=set)
    external: set[str] = field(default_factory=set)
    uninspectable: tuple[str, ...] = ()
    delay: float = 0.0
    fail: Exception | None = None
    calls: list[tuple[MessageParts, str | None, tuple[str, ...], str]] = field(default_factory=list)

    def decide(
        self, message: MessageParts, asker: str | None, recipients: Sequence[str], lang: str
    ) -> RelayVerdict:
        self.calls.append((message, asker, tuple(recipients), lang))
        if self.delay:
            time.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        text = b" ".join(p.data for p in message.parts)
        return RelayVerdict(
            recipients=tuple(
                RecipientVerdict(
                    address=r,
                    allowed=r not in self.refuse,
                    external=r in self.external or r in self.refuse,
                    reasons=("no_consent_external",) if r in self.refuse else ("clean",),
                    explanation=f"refused in {lang}" if r in self.refuse else "",
                )
                for r in recipients
            ),
            customers=text.count(b"CUSTOMER"),
            findings=text.count(b"CUSTOMER"),
            uninspectable=self.uninspectable,
        )


@dataclass
class Running:
    port: int
    handler: RelayHandler
    entries: list[AuditEntry]


@contextmanager
def running_relay(
    decider: Any,
    upstream_port: int,
    *,
    record: Callable[[AuditEntry], object] | None = None,
    principal_of: Callable[[str], str | None] = lambda _s: None,
    **config: Any,
) -> Iterator[Running]:
    entries: list[AuditEntry] = []
    port = free_port()
    handler = RelayHandler(
        RelayConfig(host="127.0.0.1", port=port, **config),
        decider,
        Upstream("127.0.0.1", upstream_port, "none", timeout=5),
        record or entries.append,
        lambda: NOW,
        principal_of=principal_of,
    )
    controller = RelayController(handler)
    controller.start()
    try:
        yield Running(port, handler, entries)
    finally:
        controller.stop()


@pytest.fixture
def sink() -> Iterator[tuple[RawSink, int]]:
    with raw_sink() as pair:
        yield pair
