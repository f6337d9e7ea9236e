"""Handing a checked message to the company's mail server, all or nothing.

Every recipient must be accepted before the data is sent, so the relay never answers
``250`` for a message the upstream took only for some recipients.  STARTTLS is
required (certificates and host name verified) unless ``tls="none"``.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
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
    host: str
    port: int
    tls: Literal["starttls", "none"] = "starttls"
    timeout: float = 30.0
    local_hostname: str | None = None
    context: ssl.SSLContext | None = field(default=None, repr=False)

    def send(
        self, sender: str, recipients: Sequence[str], data: bytes, options: Sequence[str] = ()
    ) -> None:
        try:
            with smtplib.SMTP(
                self.host, self.port, timeout=self.timeout, local_hostname=self.local_hostname
            ) as smtp:
                self._deliver(smtp, sender, recipients, data, options)
        except (UpstreamRefused, UpstreamUnavailable):
            raise
        except (OSError, smtplib.SMTPException) as exc:
            raise UpstreamUnavailable(type(exc).__name__) from None

    def _deliver(
        self,
        smtp: smtplib.SMTP,
        sender: str,
        recipients: Sequence[str],
        data: bytes,
        options: Sequence[str],
    ) -> None:
        smtp.ehlo()
        if self.tls == "starttls":
            if not smtp.has_extn("starttls"):
                raise UpstreamUnavailable("starttls_not_offered")
            smtp.starttls(context=self.context or ssl.create_default_context())
            smtp.ehlo()
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
