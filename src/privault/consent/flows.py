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
import secrets
import smtplib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from babel.dates import format_date

from privault.audit import AuditEntry, AuditLog, Kind, Outcome
from privault.consent.links import LinkSigner
from privault.consent.schemas import Notice
from privault.consent.service import ConsentService
from privault.customers.service import CustomerRef, CustomerService
from privault.errors import N_, ConfigError, InvalidInput, StoreError
from privault.i18n import parse_language, translator
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


def smtp_mailer(settings: Settings) -> Mailer:
    """A connected SMTP client from the settings (the one mail path of privault)."""
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


def customer_addresses(
    customers: CustomerService, customer_ids: Sequence[str]
) -> tuple[dict[str, str], int]:
    """The e-mail addresses of the customers that have one (decrypted through the store,
    library-internal), and how many have none -- erased customers included."""
    found = {
        customer_id: str(values[ADDRESS_FIELD])
        for customer_id, values in customers.fetch_many(customer_ids, [ADDRESS_FIELD])
        if values.get(ADDRESS_FIELD)
    }
    return found, len(set(customer_ids)) - len(found)


@dataclass(frozen=True, slots=True)
class Letter:
    """One e-mail to one customer, in the customer's language."""

    address: str
    subject: str
    body: str
    language: str


def send_letters(
    settings: Settings,
    letters: Iterable[Letter],
    mailer_factory: Callable[[Settings], Mailer] = smtp_mailer,
) -> tuple[list[str], int]:
    """Send each letter; the SMTP connection opens with the first and always closes.

    Returns the languages of the letters sent and how many could not be sent.
    """
    sent: list[str] = []
    failed = 0
    mailer: Mailer | None = None
    try:
        for letter in letters:
            email = EmailMessage()
            email["From"] = settings.smtp_from or ""
            email["To"] = letter.address
            email["Subject"] = letter.subject
            email.set_content(letter.body)  # resets Content-* headers: language after
            email["Content-Language"] = letter.language
            if mailer is None:
                mailer = mailer_factory(settings)
            try:
                mailer.send_message(email)
                sent.append(letter.language)
            except (OSError, smtplib.SMTPException):
                failed += 1
    finally:
        if mailer is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                mailer.quit()
    return sent, failed


@dataclass(frozen=True)
class _RequestAudit:
    """The audit entry of a consent request: addresses left the vault (to the SMTP
    server, or in a file for the mailer) -- counts only."""

    log: AuditLog
    actor: str
    purpose: str
    recipient: str | None
    notice: str

    def record(self, channel: str, counts: dict[str, int]) -> None:
        self.log.record(
            AuditEntry(
                at=self.log.clock.now(),
                kind=Kind.CONSENT,
                action="consent.request",
                principal=self.actor,
                outcome=Outcome.SUCCEEDED,
                purpose=self.purpose,
                fields=(ADDRESS_FIELD,),
                counts=counts,
                details={"channel": channel, "notice": self.notice},
            )
        )


def _write_then_record(out: Path, rows: list[list[str]], record: Callable[[], None]) -> None:
    """Write ``rows`` under a temporary name, record the audit entry, and only then give
    the file its name: no entry, no file (fail closed); an existing file is never
    overwritten."""
    if out.exists():
        raise InvalidInput(
            N_("The file %(path)s exists already; choose a new name."), path=str(out)
        )
    temporary = out.with_name(f".{out.name}.{secrets.token_hex(6)}.partial")
    descriptor = _open_private(temporary)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["email", "language", "subject", "body", "link"])
            writer.writerows(rows)
        record()
        os.link(temporary, out)  # fails if ``out`` appeared meanwhile: never overwrite
    except FileExistsError:
        raise InvalidInput(
            N_("The file %(path)s exists already; choose a new name."), path=str(out)
        ) from None
    finally:
        temporary.unlink(missing_ok=True)


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
    consent: ConsentService,
    signer: LinkSigner,
    customers: CustomerService,
    settings: Settings,
    purpose: str,
    recipient: str | None = None,
    *,
    actor: str,
    send: bool = False,
    out: Path | None = None,
    mailer_factory: Callable[[Settings], Mailer] = smtp_mailer,
) -> RequestOutcome:
    """Ask every undecided customer about ``purpose``; see the module docstring.

    ``settings`` give the SMTP server (for ``send``); ``signer`` makes the links.
    """
    if send == (out is not None):
        raise InvalidInput(N_("Choose one: --send, or --out FILE.csv for the mailer."))
    wanted = consent.check_purpose(purpose, recipient)
    notice = consent.notice_for(purpose, wanted)
    customers.catalog.require(ADDRESS_FIELD)
    undecided = consent.undecided(purpose, wanted)
    by_id = {c.id: c for c in undecided}
    counts = {"sent": 0, "written": 0, "no_address": 0, "failed": 0}
    by_language: dict[str, int] = {}

    addresses, counts["no_address"] = customer_addresses(customers, list(by_id))
    messages = [
        (compose(by_id[customer_id], notice, signer), address)
        for customer_id, address in addresses.items()
    ]
    for message, _address in messages:
        by_language[message.language] = by_language.get(message.language, 0) + 1
    audit = _RequestAudit(consent.audit, actor, purpose, wanted, notice.key)
    if send:
        # Recorded before the first message leaves: no entry, no mail.
        audit.record("send", {"addresses": len(messages), "no_address": counts["no_address"]})
        sent, counts["failed"] = send_letters(
            settings,
            (Letter(a, m.subject, m.body, m.language) for m, a in messages),
            mailer_factory,
        )
        counts["sent"] = len(sent)
    else:
        assert out is not None
        rows = [
            [address, message.language, message.subject, message.body, message.link]
            for message, address in messages
        ]
        counts["written"] = len(rows)
        _write_then_record(out, rows, lambda: audit.record("out", counts))
    return RequestOutcome(
        purpose=purpose,
        recipient=wanted,
        notice_key=notice.key,
        notice_version=notice.version,
        selected=len(undecided),
        by_language=by_language,
        **counts,
    )
