"""The preference centre over HTTP (in-process): links, CSRF, refusals, languages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from privault.api.app import create_app
from privault.clock import FixedClock
from privault.consent.schemas import Notice
from privault.consent.service import ConsentService
from privault.customers.service import CustomerRef
from privault.runtime import Vault


@pytest.fixture
def client(vault: Vault, clock: FixedClock) -> Iterator[TestClient]:
    with TestClient(create_app(vault.settings, clock)) as test_client:
        yield test_client


def path(vault: Vault, customer: CustomerRef) -> str:
    url = vault.links.url(customer)
    return url[url.index("/preferences/") :]


def test_grant_then_withdraw_with_one_click_each(
    vault: Vault,
    client: TestClient,
    consent: ConsentService,
    marketing_notice: Notice,
    make_customers: Callable[..., list[CustomerRef]],
) -> None:
    (customer,) = make_customers(1, "cs")
    page = client.get(path(vault, customer))
    assert page.status_code == 200
    assert 'lang="cs"' in page.text and "Vaše volby" in page.text
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    for action in ("grant", "withdraw"):
        answer = client.post(
            path(vault, customer),
            data={"csrf": csrf, "notice_id": str(marketing_notice.id), "action": action},
            follow_redirects=False,
        )
        assert answer.status_code == 303
    events = consent.proof(customer.id).events
    assert [(e.action, e.channel, e.notice.version if e.notice else None) for e in events] == [
        ("grant", "web", 1),
        ("withdraw", "web", 1),
    ]
    assert not consent.customer_consent_state(customer.id).allows("marketing")


def test_csrf_and_bad_input_are_refused(
    vault: Vault,
    client: TestClient,
    marketing_notice: Notice,
    make_customers: Callable[..., list[CustomerRef]],
) -> None:
    (customer,) = make_customers(1)
    link = path(vault, customer)
    no_csrf = client.post(link, data={"notice_id": str(marketing_notice.id), "action": "grant"})
    assert no_csrf.status_code == 403
    page = client.get(link)
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    bad = client.post(link, data={"csrf": csrf, "notice_id": "x'; --", "action": "grant"})
    assert bad.status_code == 422
    gone = client.post(link, data={"csrf": csrf, "notice_id": "99999", "action": "grant"})
    assert gone.status_code == 409


def test_expired_and_altered_links_in_the_customers_language(
    vault: Vault,
    client: TestClient,
    clock: FixedClock,
    make_customers: Callable[..., list[CustomerRef]],
) -> None:
    (customer,) = make_customers(1, "ur")
    link = path(vault, customer)
    altered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    refused = client.get(altered)
    assert refused.status_code == 403
    assert 'dir="rtl"' in refused.text and "یہ لنک درست نہیں" in refused.text
    clock.advance(timedelta(days=vault.settings.preference_link_days, seconds=1))
    expired = client.get(link)
    assert expired.status_code == 410
    assert 'lang="ur"' in expired.text and "اس لنک کی میعاد ختم ہو چکی ہے" in expired.text
    garbage = client.get("/preferences/%00%ff..", headers={"accept-language": "cs"})
    assert garbage.status_code == 403 and "Tento odkaz není platný" in garbage.text
