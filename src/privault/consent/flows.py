"""Consent requests: the lawful path of S1.  Ask the customers who have not decided.

The compliance team names a purpose; privault selects the customers with no decision
for it (no live grant, no withdrawal, no objection, not restricted, not erased), and
for each builds a personal preference-centre link and a message in the customer's
language.  Then either

* **send**: privault e-mails each message through the configured SMTP server itself;
  the requester learns only counts; or
* **out**: privault writes a CSV for the company's mailer.  This is the one place where
  addresses leave the vault, because a mailer cannot send without them; the file is
  created owner-only (0600), never overwrites anything, and holds only what the mailer
  needs (address, language, subject, body).  Whoever runs this must hand the file to
  the mailer and delete it; the command output itself shows counts only.

Addresses are decrypted through ``CustomerService.fetch_many`` (library-internal) and
never logged, printed or put in an exception.
"""

from __future__ import annotations

import contextlib
import csv
import os
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from babel.dates import format_date

from privault.consent.links import LinkSigner
from privault.consent.schemas import Notice
from privault.consent.service import ConsentService
from privault.customers.service import CustomerRef
from privault.errors import N_, ConfigError, InvalidInput, StoreError
from privault.i18n import parse_language, translator
from privault.runtime import Vault
from privault.settings import Settings

ADDRESS_FIELD = "email"

SUBJECT = N_("Your choice: %(title)s")
BODY = N_(
    "Hello,\n"
    "\n"
    "we would like to ask for your permission: %(title)s\n"
    "\n"
    "%(text)s\n"
    "\n"
    "You can give or refuse your consent with one click on this personal link, "
    "valid until %(valid_until)s:\n"
    "%(link)s\n"
    "\n"
    "If you do nothing, we will not use your data for this purpose.\n"
)


class Mailer(Protocol):
    """What we need of ``smtplib.SMTP``; tests may pass a fake."""

    def send_message(self, msg: EmailMessage) -> object: ...

    def quit(self) -> object: ...


@dataclass(frozen=True, slots=True)
class ConsentMessage:
    customer: CustomerRef
    language: str
    subject: str
    body: str
    link: str


@dataclass(frozen=True, slots=True)
class RequestOutcome:
    """What the requester sees: counts, never an address."""

    purpose: str
    recipient: str | None
    notice_key: str
    notice_version: int
    selected: int
    sent: int
    written: int
    no_address: int
    failed: int
    by_language: dict[str, int]


def link_signer(vault: Vault) -> LinkSigner:
    return LinkSigner(
        vault.keyring,
        vault.clock,
        vault.settings.public_base_url,
        vault.settings.preference_link_days,
    )


def compose(customer: CustomerRef, notice: Notice, signer: LinkSigner) -> ConsentMessage:
    lang = parse_language(customer.language)
    gettext = translator(lang).gettext
    valid_until = format_date(signer.expires_at().date(), format="long", locale=lang)
    link = signer.url(customer, lang)
    title = notice.title(lang)
    return ConsentMessage(
        customer=customer,
        language=lang,
        subject=gettext(SUBJECT) % {"title": title},
        body=gettext(BODY)
        % {"title": title, "text": notice.text(lang), "valid_until": valid_until, "link": link},
        link=link,
    )


def _smtp(settings: Settings) -> Mailer:
    if not settings.smtp_host or not settings.smtp_from:
        raise ConfigError(
            N_("Sending needs an SMTP server: set PRIVAULT_SMTP_HOST and PRIVAULT_SMTP_FROM.")
        )
    try:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
        if settings.smtp_starttls:
            client.starttls()
        if settings.smtp_username and settings.smtp_password is not None:
            client.login(settings.smtp_username, settings.smtp_password.get_secret_value())
    except (OSError, smtplib.SMTPException) as exc:
        raise StoreError(
            N_("Cannot use the SMTP server (%(reason)s)."), reason=type(exc).__name__
        ) from None
    return client


def _open_private(path: Path) -> int:
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InvalidInput(
            N_("The file %(path)s exists already; choose a new name."), path=str(path)
        ) from None
    except OSError as exc:
        raise InvalidInput(
            N_("Cannot create %(path)s: %(reason)s"), path=str(path), reason=exc.strerror
        ) from None


def request_consent(
    vault: Vault,
    purpose: str,
    recipient: str | None = None,
    *,
    send: bool = False,
    out: Path | None = None,
    mailer_factory: Callable[[Settings], Mailer] = _smtp,
) -> RequestOutcome:
    """Ask every undecided customer about ``purpose``; see the module docstring."""
    if send == (out is not None):
        raise InvalidInput(N_("Choose one: --send, or --out FILE.csv for the mailer."))
    service = ConsentService.from_vault(vault)
    wanted = service.check_purpose(purpose, recipient)
    notice = service.notice_for(purpose, wanted)
    vault.catalog.require(ADDRESS_FIELD)
    customers = service.undecided(purpose, wanted)
    signer = link_signer(vault)
    by_id = {c.id: c for c in customers}
    counts = {"sent": 0, "written": 0, "no_address": 0, "failed": 0}
    by_language: dict[str, int] = {}

    def addressed() -> list[tuple[ConsentMessage, str]]:
        found: list[tuple[ConsentMessage, str]] = []
        seen: set[str] = set()
        for customer_id, values in vault.customers.fetch_many(list(by_id), [ADDRESS_FIELD]):
            seen.add(customer_id)
            address = values.get(ADDRESS_FIELD)
            if not address:
                counts["no_address"] += 1
                continue
            message = compose(by_id[customer_id], notice, signer)
            by_language[message.language] = by_language.get(message.language, 0) + 1
            found.append((message, address))
        counts["no_address"] += len(set(by_id) - seen)
        return found

    if send:
        items = addressed()
        mailer = mailer_factory(vault.settings) if items else None
        try:
            for message, address in items:
                email = EmailMessage()
                email["From"] = vault.settings.smtp_from or ""
                email["To"] = address
                email["Subject"] = message.subject
                email.set_content(message.body)  # resets Content-* headers: language after
                email["Content-Language"] = message.language
                try:
                    assert mailer is not None
                    mailer.send_message(email)
                    counts["sent"] += 1
                except (OSError, smtplib.SMTPException):
                    counts["failed"] += 1
        finally:
            if mailer is not None:
                with contextlib.suppress(OSError, smtplib.SMTPException):
                    mailer.quit()
    else:
        assert out is not None
        descriptor = _open_private(out)
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["email", "language", "subject", "body", "link"])
            for message, address in addressed():
                writer.writerow(
                    [address, message.language, message.subject, message.body, message.link]
                )
                counts["written"] += 1
    return RequestOutcome(
        purpose=purpose,
        recipient=wanted,
        notice_key=notice.key,
        notice_version=notice.version,
        selected=len(customers),
        by_language=by_language,
        **counts,
    )
