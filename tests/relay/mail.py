"""Messages for relay tests, as the bytes a client sends (CRLF line ends)."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence


def message(
    *,
    to: Sequence[str] = ("bob@partner.example",),
    cc: Sequence[str] = (),
    subject: str = "Lunch",
    body: str = "See you at noon.",
    lang: str | None = None,
    extra: str = "",
) -> bytes:
    lines = [
        "From: Alice <alice@company.example>",
        f"To: {', '.join(to)}",
        *([f"Cc: {', '.join(cc)}"] if cc else []),
        f"Subject: {subject}",
        "Message-ID: <abc123@company.example>",
        "MIME-Version: 1.0",
        *([f"Content-Language: {lang}"] if lang else []),
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: 8bit",
    ]
    if extra:
        lines.append(extra)
    return ("\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n") + "\r\n").encode()


def send(
    port: int,
    data: bytes,
    recipients: Sequence[str],
    sender: str = "alice@company.example",
) -> tuple[int, str]:
    """(code, reply text) of the DATA command (or of the first failing command)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("client.example")
        code, text = client.mail(sender)
        if code != 250:
            return code, text.decode()
        for recipient in recipients:
            code, text = client.rcpt(recipient)
            if code != 250:
                return code, text.decode()
        try:
            code, text = client.data(data)
        except smtplib.SMTPDataError as exc:
            error = exc.smtp_error
            return exc.smtp_code, error.decode() if isinstance(error, bytes) else error
        return code, text.decode()
