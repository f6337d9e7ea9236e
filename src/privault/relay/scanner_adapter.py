"""The relay's ``RelayDecider`` over the scanner and the egress policy: the one module
that knows how ``privault.scan`` decides.

It scans the message once (recognisers and exact match against our customers) and puts
the customers found to the egress policy per envelope recipient -- ``vault.egress``, the
gate's decision with the consent ledger, in the relay; ``privault.scan.Unruled`` (no
principal, no consent: every recipient external) when none is given.  An asker with no
role (``None``) is ``anonymous``: unknown to the policy, so mail without customer data
passes and customer data goes nowhere the policy does not allow.  The relay records its
own audit entry per message, so the policy's ``record`` is not called here.

The exact-match index is built once, when the scanner is built, and refreshed
incrementally (only rows newer than the last seen) at most every ``refresh_every``
seconds, never rebuilt per message.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Sequence
from typing import Final

from privault.catalog.kinds import canonical_email
from privault.errors import N_, InvalidInput
from privault.i18n import format_number, translator
from privault.relay.decider import MessageParts, RecipientVerdict, RelayVerdict
from privault.scan import (
    EgressPolicy,
    FileReport,
    Limits,
    Recipient,
    Scanner,
    ScanReport,
    Unruled,
    decide,
)
from privault.scan.formats import Job, scan_member
from privault.scan.formats.text import scan_string

OWN_DATA: Final = N_(
    "the recipient is the customer the data is about (%(count)s of our customers in it): "
    "no disclosure to a third party"
)
# Media inside containers (the logo in a .docx) is not text-like, as media parts of a
# message are not: its "not text" problem does not make the container uninspectable.
MEDIA_SUFFIXES: Final[tuple[str, ...]] = (
    ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".ico",
    ".emf", ".wmf", ".mp3", ".mp4", ".wav", ".m4a", ".mov",
)  # fmt: skip


ANONYMOUS: Final = "anonymous"


class ScannerDecider:
    """Decides with the scanner and an egress policy (``vault.egress`` in the relay)."""

    def __init__(
        self,
        scanner: Scanner,
        *,
        policy: EgressPolicy | None = None,
        limits: Limits | None = None,
        refresh_every: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._scanner = scanner
        self._policy: EgressPolicy = policy if policy is not None else Unruled()
        self._limits = limits or Limits()
        self._refresh_every = refresh_every
        self._monotonic = monotonic
        self._refreshed = monotonic()
        # One scan at a time: the index may learn rows between scans, never during one.
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Learn customers added since the last refresh (incremental)."""
        matcher = self._scanner.matcher
        if matcher is not None:
            matcher.index.refresh()
        self._refreshed = self._monotonic()

    def decide(
        self,
        message: MessageParts,
        asker: str | None,
        recipients: Sequence[str],
        lang: str,
    ) -> RelayVerdict:
        with self._lock:
            if self._monotonic() - self._refreshed >= self._refresh_every:
                self.refresh()
            report = self._scan(message)
            who = asker or ANONYMOUS
            answers = tuple(self._one(report, who, address, lang) for address in recipients)
        # Whatever was not scanned completely (encrypted, binary, damaged, past the bomb
        # limits) is uninspectable: 554, never passed.
        unreadable = tuple(f.path for f in report.files if f.failed)
        return RelayVerdict(
            recipients=answers,
            customers=report.matches.customers,
            findings=report.total_findings,
            uninspectable=message.uninspectable + unreadable,
        )

    def _scan(self, message: MessageParts) -> ScanReport:
        job = Job(scanner=self._scanner, limits=self._limits)
        text = FileReport(path="message", format="eml")
        job.reports.append(text)
        for part in message.parts:
            if part.kind == "attachment":
                scan_member(job, io.BytesIO(part.data), part.name, None, 1)
            else:
                scan_string(job, part.data.decode("utf-8", errors="replace"), text, part.name)
        for file in job.reports:
            if file.path.lower().endswith(MEDIA_SUFFIXES):
                file.problems = [p for p in file.problems if p.code != "not_text"]
        matcher = self._scanner.matcher
        return ScanReport(
            files=job.reports, matches=job.tally.result(matcher.index if matcher else None)
        )

    def _one(self, report: ScanReport, asker: str, address: str, lang: str) -> RecipientVerdict:
        recipient = Recipient(address=address)
        ruling = self._policy.rule(report.matches, asker, recipient, None)
        external = ruling.external
        if self._only_their_own(report, address):
            count = report.matches.customers
            text = translator(lang).gettext(OWN_DATA) % {"count": format_number(count, lang)}
            return RecipientVerdict(address, True, external, ("own_data",), text)
        verdict = decide(report, ruling)
        return RecipientVerdict(
            address,
            verdict.decision != "block",  # "redact": personal data not of our customers
            external,
            tuple(r.code for r in verdict.reasons),
            "; ".join(r.render(lang) for r in verdict.reasons),
        )

    def _only_their_own(self, report: ScanReport, address: str) -> bool:
        """Item 8: a message to a customer holding only that customer's own data (and
        nothing unreadable) is no disclosure to a third party."""
        matcher = self._scanner.matcher
        ours = report.matches
        if matcher is None or not ours.customers or any(f.failed for f in report.files):
            return False
        try:
            canonical = canonical_email(address)
        except InvalidInput:
            return False
        theirs = {matcher.index.customer_id(n) for _, n in matcher.match("email", canonical)}
        return bool(theirs) and ours.customer_ids <= theirs
