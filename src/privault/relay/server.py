"""The SMTP relay: a before-queue filter in front of the company's mail server.

A message is parsed, scanned against every envelope recipient (``RCPT TO``, so Bcc
counts), judged, recorded in the audit trail and only then handed upstream; the
client gets ``250`` only after the upstream accepted it.  Nothing is queued or kept.
Every failure of ours -- the vault, the scanner, the audit trail, a scan past the
timeout, the upstream unreachable -- is ``451 4.3.0`` (the sender retries), never a
``5xx`` and never a message passed unscanned.

Message content never reaches a log: log lines carry exception type names only.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import ssl
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from privault.audit import AuditEntry, Kind, Outcome, acting
from privault.relay.decider import RelayDecider, RelayVerdict
from privault.relay.message import digest, parse, received_header
from privault.relay.replies import (
    ACCEPTED,
    NOT_ALLOWED,
    TIMEOUT,
    TOO_MANY,
    UNAVAILABLE,
    UPSTREAM_DOWN,
    Judgement,
    judge,
    message,
    reply,
)
from privault.relay.upstream import Upstream, UpstreamRefused, UpstreamUnavailable

log = logging.getLogger("privault.relay")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK: Final[tuple[Network, ...]] = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("::1/128"),
)
ACTOR: Final = "relay"


@dataclass(frozen=True)
class RelayConfig:
    """What ``privault relay`` was started with (defaults as in the CLI)."""

    host: str = "127.0.0.1"
    port: int = 2525
    allow_from: tuple[Network, ...] = ()
    trusted_mta: tuple[Network, ...] = ()
    scan_timeout: float = 20.0
    max_size: int = 25 * 1024 * 1024
    max_recipients: int = 100
    command_timeout: float = 60.0
    session_timeout: float = 600.0
    hostname: str = "privault-relay"
    tls_context: ssl.SSLContext | None = field(default=None, repr=False)
    threads: int = 4


def networks(values: Sequence[str]) -> tuple[Network, ...]:
    """``--allow-from``/``--trusted-mta`` values; ``ValueError`` for a bad CIDR."""
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values)


def _within(peer: Any, nets: Sequence[Network]) -> bool:
    try:
        address = ipaddress.ip_address(str(peer[0]).split("%", 1)[0])
    except (ValueError, TypeError, IndexError):
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in net for net in nets)


class RelayHandler:
    """aiosmtpd hooks.  ``decider`` answers per recipient; ``record`` writes the audit
    entry (and raises if it cannot); ``principal_of`` maps a trusted MTA's envelope
    sender to a principal name (or ``None``); ``authenticate`` maps AUTH credentials
    to a principal name (or ``None``)."""

    def __init__(
        self,
        config: RelayConfig,
        decider: RelayDecider,
        upstream: Upstream,
        record: Callable[[AuditEntry], object],
        now: Callable[[], datetime],
        *,
        principal_of: Callable[[str], str | None] = lambda _sender: None,
        authenticate: Callable[[str, str], str | None] = lambda _user, _secret: None,
    ) -> None:
        self.config = config
        self.decider = decider
        self.upstream = upstream
        self.record = record
        self.now = now
        self.principal_of = principal_of
        self.authenticate_with = authenticate
        self.pool = ThreadPoolExecutor(config.threads, thread_name_prefix="privault-relay")

    # -- envelope --------------------------------------------------------------------

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= self.config.max_recipients:
            return reply("452", "4.5.3", [message(TOO_MANY, limit=self.config.max_recipients)])
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    def authenticator(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        """AUTH PLAIN/LOGIN (only after STARTTLS): user = principal name, password = one
        of that principal's API keys."""
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = data.login.decode("utf-8", errors="replace")
        secret = data.password.decode("utf-8", errors="replace")
        try:
            principal = self.authenticate_with(user, secret)
        except Exception as exc:  # our fault: a temporary failure, never a 5xx
            log.warning("relay: authentication unavailable (%s)", type(exc).__name__)
            return AuthResult(
                success=False, handled=False, message="454 4.7.0 " + message(UNAVAILABLE)
            )
        if principal is None:
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=principal)

    # -- the message -----------------------------------------------------------------

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        loop = asyncio.get_running_loop()
        raw = envelope.original_content or b""
        if isinstance(envelope.content, bytes) and not raw:
            raw = envelope.content
        recipients = list(envelope.rcpt_tos)
        sender = envelope.mail_from or ""
        asker, how = self._asker(session, sender)
        facts = _Facts(raw, recipients, asker, how)
        try:
            # One hop to a worker thread for parse, scan, decision and audit entry: each
            # hop between the event loop and a thread costs a GIL hand-over.
            judgement = await asyncio.wait_for(
                loop.run_in_executor(self.pool, self._check, facts), self.config.scan_timeout
            )
        except TimeoutError:
            facts.abandoned = True
            log.warning("relay: scan timed out after %ss", self.config.scan_timeout)
            await self._record_failure(loop, facts, "scan_timeout")
            return reply("451", "4.3.0", [message(TIMEOUT, facts.lang)])
        except _AuditFailed as exc:
            log.warning("relay: audit unavailable (%s)", exc)
            return reply("451", "4.3.0", [message(UNAVAILABLE, facts.lang)])
        except Exception as exc:
            log.warning("relay: scan failed (%s)", type(exc).__name__)
            await self._record_failure(loop, facts, "scan_unavailable")
            return reply("451", "4.3.0", [message(UNAVAILABLE, facts.lang)])
        if judgement.reply is not None:
            return judgement.reply
        trace = received_header(
            helo=session.host_name,
            peer=str(session.peer[0]) if session.peer else "unknown",
            hostname=self.config.hostname,
            tls=session.ssl is not None,
            at=self.now(),
        )
        try:
            await loop.run_in_executor(
                self.pool,
                self.upstream.send,
                sender,
                recipients,
                trace + raw,
                list(envelope.mail_options),
            )
        except UpstreamRefused as exc:
            return exc.reply
        except UpstreamUnavailable as exc:
            log.warning("relay: upstream unavailable (%s)", exc)
            return reply("451", "4.3.0", [message(UPSTREAM_DOWN, facts.lang)])
        return reply("250", "2.0.0", [message(ACCEPTED, facts.lang)])

    def _asker(self, session: Session, sender: str) -> tuple[str | None, str]:
        if session.authenticated and isinstance(session.auth_data, str):
            return session.auth_data, "auth"
        if session.peer and _within(session.peer, self.config.trusted_mta):
            return self.principal_of(sender), "trusted_mta"
        return None, "none"

    def _check(self, facts: _Facts) -> Judgement:
        """Parse, decide, judge and record (in a worker thread)."""
        parts, headers = parse(facts.raw)
        facts.lang, facts.message_id = headers.lang, headers.message_id
        facts.size, facts.skipped = parts.size, parts.skipped
        verdict = self.decider.decide(parts, facts.asker, facts.recipients, headers.lang)
        judgement = judge(verdict, headers.visible, headers.lang)
        if facts.abandoned:  # answered 451 meanwhile; the failure entry stands for it
            raise TimeoutError
        try:
            self._record(facts, judgement)
        except Exception as exc:
            raise _AuditFailed(type(exc).__name__) from exc
        return judgement

    # -- the audit entry -------------------------------------------------------------

    def _record(self, facts: _Facts, judgement: Judgement) -> None:
        outcome = Outcome.ALLOWED if judgement.outcome == "allow" else Outcome.DENIED
        self._write(facts, outcome, judgement.outcome, judgement.reasons, judgement.verdict)

    async def _record_failure(
        self, loop: asyncio.AbstractEventLoop, facts: _Facts, reason: str
    ) -> None:
        """Best effort: the failure itself may be the audit trail's."""
        try:
            await loop.run_in_executor(
                self.pool, self._write, facts, Outcome.FAILED, "unavailable", (reason,), None
            )
        except Exception as exc:
            log.warning("relay: audit unavailable (%s)", type(exc).__name__)

    def _write(
        self,
        facts: _Facts,
        outcome: Outcome,
        verdict_code: str,
        reasons: Sequence[str],
        verdict: RelayVerdict | None,
    ) -> None:
        recipients = facts.recipients
        domains = {r.rpartition("@")[2].lower() for r in recipients}
        counts = {
            "recipients": len(recipients),
            "recipient_domains": len(domains),
            "message_bytes": len(facts.raw),
            "scanned_bytes": facts.size,
            "skipped_parts": facts.skipped,
        }
        if verdict is not None:
            counts |= {
                "refused": len(verdict.refused),
                "external": sum(r.external for r in verdict.recipients),
                "customers": verdict.customers,
                "findings": verdict.findings,
                "uninspectable_parts": len(verdict.uninspectable),
            }
        details: dict[str, str | int | None] = {
            "verdict": verdict_code,
            "message": digest(facts.raw),
            "message_id": digest(facts.message_id.encode("utf-8")) if facts.message_id else None,
            "asker": facts.how,
            "language": facts.lang,
        }
        entry = AuditEntry(
            at=self.now(),
            kind=Kind.DECISION,
            action="relay.message",
            principal=facts.asker or ACTOR,
            outcome=outcome,
            counts=counts,
            reasons=tuple(reasons),
            details=details,
        )
        with acting(ACTOR, facts.asker):
            self.record(entry)

    def close(self) -> None:
        """After the server stopped: let running checks finish, close upstream links."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.upstream.close()


class _AuditFailed(Exception):
    """The audit entry could not be written: nothing passes (``451``)."""


@dataclass
class _Facts:
    """What one message's audit entry says, gathered as the check goes."""

    raw: bytes
    recipients: list[str]
    asker: str | None
    how: str
    lang: str = "en"
    message_id: str = ""
    size: int = 0
    skipped: int = 0
    abandoned: bool = False  # the scan timed out and the sender got 451


class RelaySMTP(SMTP):
    """aiosmtpd's SMTP with a peer check before the greeting and a session limit."""

    def __init__(self, handler: RelayHandler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._relay = handler

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        first = self.transport is None
        super().connection_made(transport)
        if first:
            limit = self._relay.config.session_timeout
            self.loop.call_later(limit, transport.close)

    async def _handle_client(self) -> None:
        assert self.session is not None
        allowed = (*LOOPBACK, *self._relay.config.allow_from, *self._relay.config.trusted_mta)
        if not _within(self.session.peer, allowed):
            log.warning("relay: connection refused (address not allowed)")
            await self.push(reply("554", "5.7.1", [message(NOT_ALLOWED)]))
            assert self.transport is not None
            self.transport.close()
            return
        await super()._handle_client()


class RelayController(Controller):
    """Runs the relay on its own event loop in a thread (the CLI and tests alike)."""

    def __init__(self, handler: RelayHandler) -> None:
        # aiosmtpd logs message lines and AUTH exchanges at DEBUG and addresses at INFO:
        # the relay's own logger says what operators need, without content.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        config = handler.config
        kwargs: dict[str, Any] = {
            "data_size_limit": config.max_size,
            "enable_SMTPUTF8": True,
            "timeout": config.command_timeout,
            "ident": "privault relay",
        }
        if config.tls_context is not None:
            kwargs |= {
                "tls_context": config.tls_context,
                "authenticator": handler.authenticator,
                "auth_require_tls": True,
            }
        super().__init__(
            handler,
            hostname=config.host,
            port=config.port,
            server_hostname=config.hostname,
            ready_timeout=10.0,
            **kwargs,
        )
        self.relay = handler

    def factory(self) -> RelaySMTP:
        return RelaySMTP(self.relay, **self.SMTP_kwargs)

    def stop(self, no_assert: bool = False) -> None:
        super().stop(no_assert=no_assert)
        self.relay.close()
