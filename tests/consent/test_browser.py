"""The preference centre in a real browser (Debian chromium via Playwright) against uvicorn."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from privault.clock import FixedClock
from privault.consent.schemas import Notice
from privault.consent.service import ConsentService
from privault.customers.service import CustomerRef

from .conftest import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Never skipped: .ci/run installs Debian's chromium; a missing browser is a failure.
    assert CHROMIUM.exists(), "install Debian's chromium (apt-get install chromium)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


def test_customer_withdraws_marketing_in_the_browser(
    live_server: LiveServer,
    page: Page,
    consent: ConsentService,
    marketing_notice: Notice,
    make_customers: Callable[..., list[CustomerRef]],
) -> None:
    (customer,) = make_customers(1, "cs")
    consent.grant(customer.id, "marketing", notice=marketing_notice, channel="phone", actor="agent")
    url = live_server.app_vault.links.url(customer)
    assert url.startswith(live_server.base_url)
    response = page.goto(url)
    assert response is not None and response.status == 200
    section = page.locator("#notice-marketing")
    assert section.get_attribute("data-status") == "granted"
    section.get_by_role("button", name="Odvolat souhlas").click()
    page.wait_for_selector("#done")
    assert "Váš souhlas byl odvolán." in page.inner_text("#done")
    assert section.get_attribute("data-status") == "withdrawn"
    first_row = page.locator("#history tbody tr").first
    assert first_row.get_attribute("data-action") == "withdraw"
    assert "Verze oznámení 1" in first_row.inner_text()

    last = consent.proof(customer.id).events[-1]
    assert (last.action, last.channel, last.actor) == ("withdraw", "web", "customer")
    assert last.notice is not None and (last.notice.key, last.notice.version) == ("marketing", 1)
    assert not consent.customer_consent_state(customer.id).allows("marketing.communications.email")
    # ... and one click gives it back.
    section.get_by_role("button", name="Udělit souhlas").click()
    page.wait_for_selector("#notice-marketing[data-status=granted]")
    assert consent.customer_consent_state(customer.id).allows("marketing")


def test_urdu_is_right_to_left_and_bad_links_are_refused_in_urdu(
    live_server: LiveServer,
    page: Page,
    clock: FixedClock,
    marketing_notice: Notice,
    make_customers: Callable[..., list[CustomerRef]],
) -> None:
    (customer,) = make_customers(1, "ur")
    url = live_server.app_vault.links.url(customer)
    opened = page.goto(url)
    assert opened is not None and opened.status == 200
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert "رضامندی دیں" in page.inner_text("#notice-marketing")

    altered = url[:-4] + ("AAAA" if not url.endswith("AAAA") else "BBBB")
    refused = page.goto(altered)
    assert refused is not None and refused.status == 403
    assert page.get_attribute("html", "dir") == "rtl"
    assert "یہ لنک درست نہیں ہے" in page.inner_text("#refused")

    clock.advance(timedelta(days=live_server.settings.preference_link_days + 1))
    expired = page.goto(url)
    assert expired is not None and expired.status == 410
    assert "اس لنک کی میعاد ختم ہو چکی ہے" in page.inner_text("#refused")
