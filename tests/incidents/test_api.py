"""Over HTTP: anyone with a key reports (a principal with no access to customer data
too); only compliance reads the register; the web form needs its CSRF token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from privault.clock import FixedClock
from privault.incidents.workflow import Severity, Source
from privault.runtime import Vault
from tests.api.s1_world import World, auth, build_world, make_app


@pytest.fixture
def world(vault: Vault) -> World:
    return build_world(vault)


@pytest.fixture
def client(world: World, clock: FixedClock) -> Iterator[TestClient]:
    with TestClient(
        make_app(world.vault.settings, clock), raise_server_exceptions=False
    ) as test_client:
        yield test_client


def test_report_by_anyone_register_by_compliance(client: TestClient, world: World) -> None:
    # tomas.kral (product) may see no customer contact data, yet may report
    made = client.post(
        "/api/v1/incidents",
        headers=auth(world.keys["tomas.kral"]),
        json={
            "description": "I was asked to send the customer list.",
            "anonymous": True,
            "estimated_customers": 5,
        },
    )
    assert made.status_code == 201, made.text
    incident_id = made.json()["id"]
    assert (
        client.get("/api/v1/incidents", headers=auth(world.keys["tomas.kral"])).status_code == 403
    )
    admin = auth(world.keys["sana.malik"])
    shown = client.get(f"/api/v1/incidents/{incident_id}", headers=admin).json()
    assert shown["reporter"] is None and shown["anonymous"] is True
    revealed = client.get(
        f"/api/v1/incidents/{incident_id}?reveal_reporter=true", headers=admin
    ).json()
    assert revealed["reporter"] == "tomas.kral"
    moved = client.post(
        f"/api/v1/incidents/{incident_id}/transition", headers=admin, json={"status": "closed"}
    )
    assert moved.status_code == 409
    client.post(
        f"/api/v1/incidents/{incident_id}/transition",
        headers=admin,
        json={"status": "dismissed", "reason": "Refused; no data left."},
    )
    csv_text = client.get("/api/v1/incidents/register?format=csv", headers=admin).text
    assert incident_id in csv_text and "dismissed" in csv_text
    draft = client.get(
        f"/api/v1/incidents/{incident_id}/notices/authority?lang=cs", headers=admin
    ).json()
    assert draft["title"].startswith("Ohlášení porušení zabezpečení")


def test_the_report_form_in_three_languages_with_csrf(client: TestClient, world: World) -> None:
    for lang, words in (
        ("en", "Report a privacy incident"),
        ("cs", "Nahlásit incident"),
        ("ur", "رازداری سے متعلق"),
    ):
        page = client.get(f"/incidents/report?lang={lang}")
        assert page.status_code == 200 and words in page.text
    assert 'dir="rtl"' in client.get("/incidents/report?lang=ur").text
    page = client.get("/incidents/report?lang=cs")
    form = {
        "csrf": _token(page.text),
        "lang": "cs",
        "api_key": world.keys["jana.dvorakova"],
        "description": "Kolega chtěl seznam e-mailů zákazníků.",
        "customers": "1200",
        "category": ["user.contact"],
        "anonymous": "on",
    }
    forged = client.post("/incidents/report", data={**form, "csrf": "forged"})
    assert forged.status_code == 403
    form["csrf"] = _token(forged.text)  # every form shown carries a fresh token
    wrong_key = client.post("/incidents/report", data={**form, "api_key": "pv_nope"})
    assert wrong_key.status_code == 401
    form["csrf"] = _token(wrong_key.text)
    done = client.post("/incidents/report", data=form)
    assert done.status_code == 201 and "Děkujeme za oznámení" in done.text
    listed = client.get("/api/v1/incidents", headers=auth(world.keys["sana.malik"])).json()
    assert listed[0]["estimated_customers"] == 1200 and listed[0]["anonymous"] is True


def _token(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_prevented_attempt_over_http(client: TestClient, world: World, clock: FixedClock) -> None:
    """A prevented attempt has no Art. 33 draft and stays out of the breach register;
    the officer converts it with the awareness time, and records awareness (audited)."""
    result = world.vault.incidents.raise_detected(
        source=Source.SCAN_BLOCK,
        dedup_key="scan:api",
        title="customer data blocked by the egress scanner",
        description="Blocked.",
        severity=Severity.LOW,
        prevented=True,
    )
    assert result is not None
    incident_id = result[0].id
    admin = auth(world.keys["sana.malik"])
    draft = client.get(f"/api/v1/incidents/{incident_id}/notices/authority", headers=admin)
    assert draft.status_code == 422, draft.text
    assert incident_id not in client.get("/api/v1/incidents/register", headers=admin).text
    prevented = client.get("/api/v1/incidents/register?prevented=true", headers=admin).json()
    assert [r["id"] for r in prevented] == [incident_id]
    aware = (clock.now() - timedelta(hours=1)).isoformat()
    moved = client.post(
        f"/api/v1/incidents/{incident_id}/transition",
        headers=admin,
        json={"status": "reported", "aware_at": aware},
    )
    assert moved.status_code == 200, moved.text
    view = moved.json()
    assert view["nature"] == "suspected_breach" and view["clock"]["hours_left"] == 71.0
    later = (clock.now() - timedelta(minutes=30)).isoformat()
    recorded = client.post(
        f"/api/v1/incidents/{incident_id}/aware", headers=admin, json={"aware_at": later}
    )
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["clock"]["hours_left"] == 71.5
    refused = client.post(
        f"/api/v1/incidents/{incident_id}/aware",
        headers=auth(world.keys["tomas.kral"]),
        json={"aware_at": later},
    )
    assert refused.status_code == 403
