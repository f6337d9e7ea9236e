"""Handing a checked message to the company's mail server, all or nothing.

Every recipient must be accepted before the data is sent, so the relay never answers
``250`` for a message the upstream took only for some recipients.  STARTTLS is
required (certificates and host name verified) unless ``tls="none"``.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal


class UpstreamUnavailable(Exception):
    """The upstream could not be reached or spoke no usable SMTP: ``451`` to the sender."""


class UpstreamRefused(Exception):
    """The upstream answered with an error: the sender gets the upstream's reply."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(code)
        self.code = code
        self.text = text

    @property
    def reply(self) -> str:
        first = " ".join(self.text.split())[:400]
        return f"{self.code} {first}"


@dataclass(frozen=True)
class Upstream:
    """The mail server.  Each relay thread keeps one connection open and reuses it; a
    connection found closed before a message is replaced once."""

    host: str
    port: int
    tls: Literal["starttls", "none"] = "starttls"
    timeout: float = 30.0
    local_hostname: str | None = None
    context: ssl.SSLContext | None = field(default=None, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False, compare=False)
    _open: set[smtplib.SMTP] = field(default_factory=set, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def send(
        self, sender: str, recipients: Sequence[str], data: bytes, options: Sequence[str] = ()
    ) -> None:
        smtp: smtplib.SMTP | None = getattr(self._local, "smtp", None)
        try:
            if smtp is not None:
                try:
                    smtp.rset()  # still there?  A stale connection is replaced below
                except (OSError, smtplib.SMTPException):
                    self._drop(smtp)
                    smtp = None
            if smtp is None:
                smtp = self._connect()
            self._deliver(smtp, sender, recipients, data, options)
        except UpstreamRefused:
            raise
        except UpstreamUnavailable:
            self._drop(smtp)
            raise
        except (OSError, smtplib.SMTPException) as exc:
            self._drop(smtp)
            raise UpstreamUnavailable(type(exc).__name__) from None

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(
            self.host, self.port, timeout=self.timeout, local_hostname=self.local_hostname
        )
        self._local.smtp = smtp
        with self._lock:
            self._open.add(smtp)
        try:
            smtp.ehlo()
            if self.tls == "starttls":
                if not smtp.has_extn("starttls"):
                    raise UpstreamUnavailable("starttls_not_offered")
                smtp.starttls(context=self.context or ssl.create_default_context())
                smtp.ehlo()
        except BaseException:
            self._drop(smtp)
            raise
        return smtp

    def _drop(self, smtp: smtplib.SMTP | None) -> None:
        self._local.smtp = None
        if smtp is not None:
            with self._lock:
                self._open.discard(smtp)
            with contextlib.suppress(OSError, smtplib.SMTPException):
                smtp.close()

    def close(self) -> None:
        """Close every open connection (``QUIT``); call when no message is in flight."""
        with self._lock:
            connections = list(self._open)
            self._open.clear()
        for smtp in connections:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                smtp.quit()
            smtp.close()

    def _deliver(
        self,
        smtp: smtplib.SMTP,
        sender: str,
        recipients: Sequence[str],
        data: bytes,
        options: Sequence[str],
    ) -> None:
        wanted = [o for o in options if o.upper() in ("BODY=8BITMIME", "SMTPUTF8")]
        usable = [
            o for o in wanted if smtp.has_extn("8bitmime" if o.upper().startswith("BODY") else o)
        ]
        code, text = smtp.mail(sender, usable)
        if code != 250:
            self._refused(smtp, code, text)
        for recipient in recipients:
            code, text = smtp.rcpt(recipient)
            if code not in (250, 251):
                self._refused(smtp, code, text)
        code, text = smtp.data(data)
        if code != 250:
            raise UpstreamRefused(code, text.decode("utf-8", errors="replace"))

    @staticmethod
    def _refused(smtp: smtplib.SMTP, code: int, text: bytes) -> None:
        with contextlib.suppress(smtplib.SMTPException):
            smtp.rset()
        if code < 400:
            raise UpstreamUnavailable(f"unexpected_{code}")
        raise UpstreamRefused(code, text.decode("utf-8", errors="replace"))
