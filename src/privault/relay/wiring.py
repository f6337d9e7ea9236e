"""A relay over an opened vault: its services come from the composition root only.

``build_relay(vault, config, upstream)`` gives a controller that listens at once; the
exact-match index (the slow part of start-up on a large vault) is built in a
background thread, and messages that arrive meanwhile wait for it within the scan
timeout.  The index is built once and refreshed incrementally afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from privault.errors import Unauthenticated
from privault.relay.decider import MessageParts, RelayDecider, RelayVerdict
from privault.relay.scanner_adapter import ScannerDecider
from privault.relay.server import RelayConfig, RelayController, RelayHandler
from privault.relay.upstream import Upstream
from privault.runtime import Vault


class NotReady(Exception):
    """The decider is still being built (or failed to build): ``451`` meanwhile."""


class Warming:
    """An ``RelayDecider`` built in a background thread; ``decide`` waits for it."""

    def __init__(self, build: Callable[[], RelayDecider], wait: float) -> None:
        self._wait = wait
        self._ready = threading.Event()
        self._decider: RelayDecider | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._build, args=(build,), name="privault-relay-index", daemon=True
        )
        self._thread.start()

    def _build(self, build: Callable[[], RelayDecider]) -> None:
        try:
            self._decider = build()
        except BaseException as exc:  # reported on every decide: fail closed
            self.error = exc
        finally:
            self._ready.set()

    def ready(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout) and self._decider is not None

    def decide(
        self, message: MessageParts, asker: str | None, recipients: Sequence[str], lang: str
    ) -> RelayVerdict:
        if not self._ready.wait(self._wait) or self._decider is None:
            raise NotReady(type(self.error).__name__ if self.error else "building")
        return self._decider.decide(message, asker, recipients, lang)


class VaultPrincipals:
    """Who the asker is, from the vault's principals and API keys."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    def of_sender(self, sender: str) -> str | None:
        """A trusted MTA's envelope sender: the principal named by the whole address
        or by its local part (``jana.dvorakova@company.cz`` -> ``jana.dvorakova``)."""
        known = self._vault.effective_policy().principals
        address = sender.strip().lower()
        for name in (address, address.partition("@")[0]):
            if name and name in known:
                return name
        return None

    def authenticate(self, user: str, secret: str) -> str | None:
        """AUTH: user = principal name, password = an API key of that principal."""
        try:
            owner = self._vault.principals.authenticate(secret)
        except Unauthenticated:
            return None
        return owner if owner == user else None


@dataclass
class Relay:
    """A built relay: the SMTP controller and the decider warming up behind it."""

    controller: RelayController
    decider: Warming

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def build_relay(vault: Vault, config: RelayConfig, upstream: Upstream) -> Relay:
    decider = Warming(
        lambda: ScannerDecider(vault.scanner(), policy=vault.egress), wait=config.scan_timeout
    )
    principals = VaultPrincipals(vault)

    handler = RelayHandler(
        config,
        decider,
        upstream,
        vault.audit.record_grouped,
        vault.clock.now,
        principal_of=principals.of_sender,
        authenticate=principals.authenticate,
    )
    return Relay(RelayController(handler), decider)
