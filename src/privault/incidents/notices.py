"""Drafts of the notices the law asks for, and sending the customers' one.

``authority_notice`` drafts the notification to the supervisory authority with every
item of GDPR Art. 33(3) -- (a) the nature of the breach with the categories and
approximate numbers of people and records, (b) the contact point, (c) the likely
consequences, (d) the measures taken or proposed -- plus the times, the phase
(Art. 33(4): initial, supplementary, final) and, when late, the reasons for the delay
(Art. 33(1)).  English, and Czech for the Czech authority (ÚOOÚ).  Free-text parts
(description, consequences, measures) appear as the compliance team wrote them.

``customer_notice`` drafts the Art. 34 message in a customer's language from
standard sentences (so every language reads natively), and ``send_customer_notices``
sends it to the affected customers known to the incident through the consent slice's
SMTP path.  Addresses are decrypted only to send and never logged or returned.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from privault.consent.flows import Letter, Mailer, customer_addresses, send_letters, smtp_mailer
from privault.errors import N_, InvalidInput, NotFound
from privault.i18n import format_number, parse_language, translator
from privault.incidents.schemas import IncidentView
from privault.incidents.service import IncidentService
from privault.incidents.workflow import RISK_LABELS, Risk, Source
from privault.settings import Settings

Phase = Literal["initial", "supplementary", "final"]
PHASES: Final[tuple[Phase, ...]] = ("initial", "supplementary", "final")
ART_33_3: Final[tuple[str, ...]] = (
    "nature",
    "subjects",
    "records",
    "contact",
    "consequences",
    "measures",
)

AUTHORITY_TITLE: Final = N_(
    "Notification of a personal data breach to the supervisory authority (Article 33 GDPR)"
)
AUTHORITY_ADDRESSEE: Final = N_(
    "To: Office for Personal Data Protection (ÚOOÚ), Pplk. Sochora 27, 170 00 Prague 7"
)
HEADINGS: Final[dict[str, str]] = {
    "controller": N_("Controller"),
    "reference": N_("Our reference"),
    "phase": N_("Phase of the notification (Art. 33(4))"),
    "timing": N_("Time line"),
    "nature": N_("Nature of the personal data breach (Art. 33(3)(a))"),
    "subjects": N_("Categories and approximate number of data subjects concerned"),
    "records": N_("Categories and approximate number of personal data records concerned"),
    "contact": N_(
        "Name and contact details of the data protection officer or other contact point "
        "(Art. 33(3)(b))"
    ),
    "consequences": N_("Likely consequences of the personal data breach (Art. 33(3)(c))"),
    "measures": N_(
        "Measures taken or proposed to address the breach, including measures to mitigate "
        "its possible adverse effects (Art. 33(3)(d))"
    ),
    "risk": N_("Assessment of the risk to data subjects"),
    "delay": N_("Reasons for the delay (Art. 33(1))"),
}
PHASE_TEXT: Final[dict[str, str]] = {
    "initial": N_(
        "Initial notification. Not all information is available yet; we will provide "
        "further information without undue delay as it becomes available."
    ),
    "supplementary": N_(
        "Supplementary notification no. %(number)s to our notification of %(first)s."
    ),
    "final": N_("Final notification; it completes our previous notifications."),
}
TIMING: Final = N_(
    "We became aware of the breach on %(aware)s. The deadline for this notification "
    "(72 hours) is %(deadline)s. This notification is dated %(now)s."
)
UNKNOWN: Final = N_("Not yet known; we will supplement this information (Art. 33(4)).")
SUBJECTS_TEXT: Final = N_("Customers of the controller: approximately %(count)s people.")
RECORDS_TEXT: Final = N_("%(categories)s: approximately %(count)s records.")
SOURCE_NATURE: Final[dict[Source, str]] = {
    Source.REPORT: N_("Breach of confidentiality reported by an employee."),
    Source.SCAN_BLOCK: N_(
        "Attempted disclosure of customers' personal data to a recipient not entitled to "
        "receive it; the transfer was detected and stopped by our outgoing data scanner."
    ),
    Source.VOLUME: N_(
        "Possible unauthorised access: an account read or exported far more customer "
        "records than it usually does."
    ),
    Source.DENIED_BURST: N_(
        "Possible attempt at unauthorised access: an account was repeatedly refused access "
        "to customer data."
    ),
    Source.AUDIT_VERIFY: N_(
        "Breach of integrity: the tamper-evident record of access to customer data failed "
        "verification."
    ),
    Source.KEY_POLICY_CHANGE: N_(
        "Possible breach of confidentiality: encryption keys or the access policy were "
        "changed by an account not authorised to do so."
    ),
}
PERSONAL_DATA: Final = N_("personal data")
CATEGORY_NOUNS: Final[dict[str, str]] = {
    "user.name": N_("names"),
    "user.contact.email": N_("e-mail addresses"),
    "user.contact.phone_number": N_("phone numbers"),
    "user.contact.address": N_("postal addresses"),
    "user.contact": N_("contact details"),
    "user.financial": N_("financial data"),
    "user.financial.bank_account": N_("bank account numbers"),
    "user.unique_id": N_("customer numbers"),
    "user.government_id": N_("national identification numbers"),
    "user.demographic.date_of_birth": N_("dates of birth"),
    "user": PERSONAL_DATA,
}

CUSTOMER_SUBJECT: Final = N_("Important information about your personal data")
CUSTOMER_BODY: Final = N_(
    "Hello,\n"
    "\n"
    "we are writing to let you know about a security incident that concerns your "
    "personal data held by %(controller)s.\n"
    "\n"
    "What happened: %(nature)s\n"
    "\n"
    "Which of your data it concerns: %(categories)s.\n"
    "\n"
    "What it may mean for you: someone who should not have your data may contact you or "
    "try to use it. Be careful with unexpected messages and calls that ask for passwords, "
    "payments or further personal information; we will never ask you for your password.\n"
    "\n"
    "What we have done: we stopped the incident, informed the Office for Personal Data "
    "Protection and are taking measures so that it does not happen again.\n"
    "\n"
    "If you have any questions, please contact %(contact)s.\n"
    "\n"
    "We apologise for this incident.\n"
)
CUSTOMER_NATURE: Final[dict[Source, str]] = {
    Source.SCAN_BLOCK: N_(
        "some of your data was about to be sent to a recipient who was not entitled to it."
    ),
}
CUSTOMER_NATURE_DEFAULT: Final = N_(
    "some of your data may have been seen or obtained by someone not entitled to it."
)
CONTACT_FALLBACK: Final = N_("our data protection officer")


def _category_names(categories: tuple[str, ...], lang: str) -> str:
    gettext = translator(lang).gettext
    names: list[str] = []
    for key in categories:
        best = max(
            (k for k in CATEGORY_NOUNS if key == k or key.startswith(k + ".")),
            key=len,
            default=None,
        )
        name = gettext(CATEGORY_NOUNS[best]) if best else key
        if name not in names:
            names.append(name)
    return ", ".join(names)


def _contact(settings: Settings) -> str:
    parts = [
        settings.incident_contact_name,
        settings.incident_contact_email,
        settings.incident_contact_phone,
    ]
    return ", ".join(p for p in parts if p)


def _when(value: Any) -> str:
    return str(value.strftime("%Y-%m-%d %H:%M UTC"))


@dataclass(frozen=True, slots=True)
class Section:
    code: str
    heading: str
    text: str


@dataclass(frozen=True, slots=True)
class AuthorityNotice:
    incident: str
    lang: str
    phase: Phase
    number: int
    title: str
    sections: tuple[Section, ...] = field(default_factory=tuple)

    def section(self, code: str) -> Section:
        for item in self.sections:
            if item.code == code:
                return item
        raise KeyError(code)

    def text(self) -> str:
        lines = [self.title, ""]
        for item in self.sections:
            lines += [item.heading, item.text, ""]
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "incident": self.incident,
            "lang": self.lang,
            "phase": self.phase,
            "number": self.number,
            "title": self.title,
            "sections": [
                {"code": s.code, "heading": s.heading, "text": s.text} for s in self.sections
            ],
            "text": self.text(),
        }


def authority_notice(
    service: IncidentService,
    incident_id: str,
    *,
    lang: str = "en",
    phase: Phase = "initial",
    actor: str | None = None,
) -> AuthorityNotice:
    """Draft the Art. 33 notification; with ``actor``, the draft is noted in the timeline
    (phases are numbered from the drafts recorded before)."""
    if phase not in PHASES:
        raise InvalidInput(
            N_("Unknown phase '%(phase)s'; use initial, supplementary or final."), phase=phase
        )
    lang = parse_language(lang)
    gettext = translator(lang).gettext
    view = service.get(incident_id)
    service.require_breach(view)  # a prevented attempt has no Art. 33 draft
    settings = service.settings
    earlier = [e for e in service.timeline(incident_id) if e.kind == "authority_draft"]
    number = len(earlier) + 1
    first = earlier[0].at if earlier else view.authority_notified_at
    now = service.clock.now()
    unknown = gettext(UNKNOWN)

    def heading(code: str) -> str:
        return gettext(HEADINGS[code])

    def amount(value: int | None) -> str:
        return format_number(value, lang) if value is not None else "?"

    categories = _category_names(view.categories, lang)
    phase_text = gettext(PHASE_TEXT[phase]) % {
        "number": number - 1 or 1,
        "first": _when(first) if first else "-",
    }
    nature = " ".join(t for t in (gettext(SOURCE_NATURE[view.source]), view.description) if t)
    subjects = (
        gettext(SUBJECTS_TEXT) % {"count": amount(view.estimated_customers)}
        if view.estimated_customers is not None
        else unknown
    )
    records = (
        gettext(RECORDS_TEXT)
        % {
            "categories": categories or unknown,
            "count": amount(
                view.estimated_records
                if view.estimated_records is not None
                else view.estimated_customers
            ),
        }
        if categories or view.estimated_records is not None
        else unknown
    )
    sections = [
        Section("controller", heading("controller"), settings.incident_controller_name or unknown),
        Section("reference", heading("reference"), view.id),
        Section("phase", heading("phase"), phase_text),
        Section(
            "timing",
            heading("timing"),
            gettext(TIMING)
            % {
                "aware": _when(view.aware_at),
                "deadline": _when(view.clock.deadline),
                "now": _when(now),
            },
        ),
        Section("nature", heading("nature"), nature),
        Section("subjects", heading("subjects"), subjects),
        Section("records", heading("records"), records),
        Section("contact", heading("contact"), _contact(settings) or unknown),
        Section("consequences", heading("consequences"), view.consequences or unknown),
        Section("measures", heading("measures"), view.measures or unknown),
        Section("risk", heading("risk"), gettext(RISK_LABELS[view.risk])),
    ]
    late = view.clock.overdue or (
        view.authority_notified_at is not None and view.authority_notified_at > view.clock.deadline
    )
    if late:
        sections.append(Section("delay", heading("delay"), view.late_reason or unknown))
    notice = AuthorityNotice(
        incident=view.id,
        lang=lang,
        phase=phase,
        number=number,
        title=gettext(AUTHORITY_TITLE) + "\n" + gettext(AUTHORITY_ADDRESSEE),
        sections=tuple(sections),
    )
    if actor is not None:
        service.record(
            incident_id,
            "authority_draft",
            N_("Authority notification drafted."),
            actor=actor,
            data={"phase": phase, "number": number, "lang": lang},
            audit=True,
        )
    return notice


@dataclass(frozen=True, slots=True)
class CustomerNotice:
    lang: str
    subject: str
    body: str

    def as_json(self) -> dict[str, Any]:
        return {"lang": self.lang, "subject": self.subject, "body": self.body}


def customer_notice(service: IncidentService, view: IncidentView, lang: str) -> CustomerNotice:
    """The Art. 34 message in ``lang`` (standard sentences: native in every language)."""
    service.require_breach(view)
    lang = parse_language(lang)
    gettext = translator(lang).gettext
    settings = service.settings
    body = gettext(CUSTOMER_BODY) % {
        "controller": settings.incident_controller_name or "privault",
        "nature": gettext(CUSTOMER_NATURE.get(view.source, CUSTOMER_NATURE_DEFAULT)),
        "categories": _category_names(view.categories, lang) or gettext(PERSONAL_DATA),
        "contact": _contact(settings) or gettext(CONTACT_FALLBACK),
    }
    return CustomerNotice(lang, gettext(CUSTOMER_SUBJECT), body)


@dataclass(frozen=True, slots=True)
class SendOutcome:
    selected: int
    sent: int
    no_address: int
    failed: int
    by_language: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {
            "selected": self.selected,
            "sent": self.sent,
            "no_address": self.no_address,
            "failed": self.failed,
            "by_language": dict(self.by_language),
        }


def send_customer_notices(
    service: IncidentService,
    incident_id: str,
    *,
    actor: str,
    mailer_factory: Callable[[Settings], Mailer] = smtp_mailer,
) -> SendOutcome:
    """E-mail the Art. 34 notice to every affected customer the incident knows, each in
    their language, through the consent slice's SMTP path.  Counts only come back."""
    view = service.get(incident_id)
    service.require_breach(view)
    if view.risk is not Risk.HIGH:
        raise InvalidInput(
            N_(
                "Customers are told when the risk is assessed as high "
                "(GDPR Art. 34); assess the risk first."
            )
        )
    ids = service.customer_ids(incident_id)
    if not ids:
        raise InvalidInput(
            N_(
                "The incident names no affected customers to notify; "
                "use the draft (draft-notice --customers) with your mailer."
            )
        )
    refs = {}
    for customer_id in ids:
        with contextlib.suppress(NotFound):
            refs[customer_id] = service.customers.get(customer_id)
    addresses, no_address = customer_addresses(service.customers, list(refs))
    no_address += len(set(ids) - set(refs))  # ids the store no longer knows
    notices: dict[str, CustomerNotice] = {}

    def letter(customer_id: str, address: str) -> Letter:
        lang = parse_language(refs[customer_id].language)
        notice = notices.get(lang) or customer_notice(service, view, lang)
        notices[lang] = notice
        return Letter(address, notice.subject, notice.body, lang)

    sent, failed = send_letters(
        service.settings, (letter(c, a) for c, a in addresses.items()), mailer_factory
    )
    by_language: dict[str, int] = {}
    for lang in sent:
        by_language[lang] = by_language.get(lang, 0) + 1
    counts = {"sent": len(sent), "no_address": no_address, "failed": failed}
    outcome = SendOutcome(len(ids), by_language=by_language, **counts)
    service.record(
        incident_id,
        "customers_notified",
        N_("Customers notified."),
        actor=actor,
        data=outcome.as_json(),
        audit=True,
        values={"customers_notified_at": service.clock.now()} if outcome.sent else None,
    )
    return outcome
