"""The authority notice draft has every Art. 33(3) item, in English and Czech, in phases;
the customer notice is drafted in the customer's language."""

from __future__ import annotations

import pytest

from privault.incidents.notices import ART_33_3, authority_notice, customer_notice
from privault.incidents.service import IncidentService
from privault.incidents.workflow import Risk, Status
from tests.incidents.conftest import Factory


@pytest.fixture
def assessed(make_service: Factory) -> tuple[IncidentService, str]:
    service = make_service(
        notifier=False,
        incident_controller_name="Example s.r.o., IČO 12345678",
        incident_contact_name="Sana Malik (DPO)",
        incident_contact_email="dpo@company.example",
    )
    view = service.report(
        reporter="jana.dvorakova",
        description="A customer list was e-mailed to a former colleague outside the company.",
        categories=["user.contact.email", "user.name"],
        estimated_customers=1204,
        estimated_records=2408,
    )
    service.transition(view.id, Status.TRIAGED, actor="sana.malik")
    service.assess(
        view.id,
        actor="sana.malik",
        risk=Risk.HIGH,
        consequences="Unsolicited marketing; possible phishing.",
        measures="The recipient confirmed deletion; exports now need approval.",
    )
    return service, view.id


@pytest.mark.parametrize("lang", ["en", "cs"])
def test_authority_notice_has_every_art_33_3_item(
    assessed: tuple[IncidentService, str], lang: str
) -> None:
    service, incident_id = assessed
    notice = authority_notice(service, incident_id, lang=lang, actor="sana.malik")
    for code in ART_33_3:
        section = notice.section(code)
        assert section.heading and section.text, code
    text = notice.text()
    assert "1,204" in text or "1\xa0204" in text  # approximate number of people
    assert "2,408" in text or "2\xa0408" in text  # approximate number of records
    assert "Sana Malik (DPO)" in text and "dpo@company.example" in text  # contact point
    assert "phishing" in text  # likely consequences
    assert "deletion" in text  # measures taken
    assert "Example s.r.o." in text
    if lang == "cs":
        assert "Ohlášení porušení zabezpečení osobních údajů" in text
        assert "Úřad pro ochranu osobních údajů" in text
        assert "e-mailové adresy" in text
        assert "čl. 33 odst. 3" in text
    else:
        assert "Office for Personal Data Protection" in text
        assert "e-mail addresses" in text


def test_notices_in_phases(assessed: tuple[IncidentService, str]) -> None:
    service, incident_id = assessed
    first = authority_notice(service, incident_id, phase="initial", actor="sana.malik")
    assert "further information" in first.section("phase").text
    second = authority_notice(
        service, incident_id, lang="cs", phase="supplementary", actor="sana.malik"
    )
    assert second.number == 2 and "č. 1" in second.section("phase").text
    drafts = [e for e in service.timeline(incident_id) if e.kind == "authority_draft"]
    assert [d.data["phase"] for d in drafts] == ["initial", "supplementary"]


def test_late_notice_states_the_reasons_for_delay(
    assessed: tuple[IncidentService, str], clock: object
) -> None:
    from datetime import timedelta

    from privault.clock import FixedClock

    assert isinstance(clock, FixedClock)
    service, incident_id = assessed
    clock.advance(timedelta(hours=90))
    service.transition(
        incident_id, Status.NOTIFIED, actor="sana.malik", reason="Forensics took longer."
    )
    notice = authority_notice(service, incident_id, lang="cs")
    assert notice.section("delay").text == "Forensics took longer."


@pytest.mark.parametrize(
    ("lang", "phrase"),
    [
        ("en", "Important information about your personal data"),
        ("cs", "Důležitá informace o vašich osobních údajích"),
        ("ur", "آپ کے ذاتی ڈیٹا کے بارے میں اہم معلومات"),
    ],
)
def test_customer_notice_in_the_customers_language(
    assessed: tuple[IncidentService, str], lang: str, phrase: str
) -> None:
    service, incident_id = assessed
    notice = customer_notice(service, service.get(incident_id), lang)
    assert notice.subject == phrase
    assert "dpo@company.example" in notice.body
