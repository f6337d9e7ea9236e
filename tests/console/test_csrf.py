"""One CSRF mechanism for every form: a token is good only with the nonce in its
cookie and only for its own form; a refused submission shows the page's "form
expired" message in the reader's language, with a fresh form, and writes nothing."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie

import pytest
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from sqlalchemy import Table, func, select

from privault.audit.models import ENTRIES
from privault.console.csrf import FORM_EXPIRED, Csrf, FormExpired, GuardedForm
from privault.console.services import PageServices
from privault.crypto import Keyring
from privault.i18n import translator
from privault.incidents.models import INCIDENTS
from privault.runtime import Vault
from tests.api.s1_world import World

FORM = GuardedForm("test.form", "pv_test_csrf", "/test")
OTHER = GuardedForm("other.form", "pv_test_csrf", "/test")


def token_in(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def expired(lang: str) -> str:
    words = translator(lang).gettext(FORM_EXPIRED)
    assert lang == "en" or words != FORM_EXPIRED
    return words


def count(vault: Vault, table: Table) -> int:
    with vault.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def pages(client: TestClient) -> PageServices:
    found = client.app.state.pages  # type: ignore[attr-defined]
    assert isinstance(found, PageServices)
    return found


# -- the mechanism ----------------------------------------------------------------------


def test_a_token_is_good_only_with_its_nonce_and_for_its_form(keyring: Keyring) -> None:
    csrf = Csrf(keyring)
    token = csrf.token(FORM, "nonce-1")
    csrf.verify(FORM, {"pv_test_csrf": "nonce-1"}, token)
    refused = [
        ({}, token),  # no cookie
        ({"pv_test_csrf": "nonce-1"}, ""),  # no token
        ({"pv_test_csrf": "nonce-2"}, token),  # the token of another nonce
        ({"pv_test_csrf": "nonce-1"}, csrf.token(OTHER, "nonce-1")),  # of another form
        ({"pv_test_csrf": "nonce-1"}, token[:-1]),
        ({"pv_test_csrf": "nonce-1"}, "ž" + token[1:]),  # not ASCII: refused, not a 500
    ]
    for cookies, value in refused:
        with pytest.raises(FormExpired):
            csrf.verify(FORM, cookies, value)
    assert Csrf(keyring).token(FORM, "nonce-1") == token  # no server state


def test_each_form_shown_gets_a_strict_http_only_cookie_of_its_own(keyring: Keyring) -> None:
    csrf = Csrf(keyring)
    shown = [csrf.issue(FORM, lambda token: HTMLResponse(token)) for _ in range(2)]
    nonces = []
    for response in shown:
        cookie = SimpleCookie(response.headers["set-cookie"])["pv_test_csrf"]
        assert cookie["httponly"] and cookie["samesite"].lower() == "strict"
        assert (cookie["path"], cookie["max-age"]) == ("/test", "3600")
        csrf.verify(FORM, {"pv_test_csrf": cookie.value}, bytes(response.body).decode())
        nonces.append(cookie.value)
    assert nonces[0] != nonces[1]
    with pytest.raises(FormExpired):
        csrf.verify(FORM, {"pv_test_csrf": nonces[1]}, bytes(shown[0].body).decode())


# -- the preference centre --------------------------------------------------------------


def _preferences(client: TestClient, world: World, lang: str) -> tuple[str, str, int]:
    """A new customer's link (path), their ``customers`` id, and the notice to grant."""
    customer = world.vault.customers.create(
        {"last_name": "Csrf", "email": f"csrf.{lang}@example.com"}, language=lang
    )
    url = pages(client).links.url(customer)
    notice = pages(client).consent.notice("newsletter")
    return url[url.index("/preferences/") :], customer.id, notice.id


@pytest.mark.parametrize("lang", ["cs", "ur"])
def test_preference_centre_refuses_a_post_without_the_token(
    client: TestClient, world: World, lang: str
) -> None:
    link, customer_id, notice_id = _preferences(client, world, lang)
    assert client.get(link).status_code == 200
    audit = count(world.vault, ENTRIES)
    refused = client.post(link, data={"notice_id": str(notice_id), "action": "grant"})
    assert refused.status_code == 403
    assert expired(lang) in refused.text and f'lang="{lang}"' in refused.text
    assert pages(client).consent.proof(customer_id).events == ()
    assert count(world.vault, ENTRIES) == audit
    # The refusal is a fresh form: with its token the choice goes through.
    again = client.post(
        link,
        data={"csrf": token_in(refused.text), "notice_id": str(notice_id), "action": "grant"},
        follow_redirects=False,
    )
    assert again.status_code == 303
    assert [e.action for e in pages(client).consent.proof(customer_id).events] == ["grant"]


def test_preference_centre_refuses_the_token_of_another_nonce(
    client: TestClient, world: World
) -> None:
    link, customer_id, notice_id = _preferences(client, world, "cs")
    first = token_in(client.get(link).text)
    client.get(link)  # a second page: its nonce replaces the first in the cookie
    audit = count(world.vault, ENTRIES)
    refused = client.post(
        link, data={"csrf": first, "notice_id": str(notice_id), "action": "grant"}
    )
    assert refused.status_code == 403 and expired("cs") in refused.text
    assert pages(client).consent.proof(customer_id).events == ()
    assert count(world.vault, ENTRIES) == audit


# -- the incident report form -----------------------------------------------------------


def _report(world: World, lang: str, token: str | None) -> dict[str, str]:
    form = {
        "lang": lang,
        "api_key": world.keys["jana.dvorakova"],
        "description": "A colleague asked for the customer list.",
    }
    return form if token is None else {**form, "csrf": token}


@pytest.mark.parametrize("lang", ["en", "cs", "ur"])
def test_report_form_refuses_a_post_without_the_token(
    client: TestClient, world: World, lang: str
) -> None:
    assert client.get(f"/incidents/report?lang={lang}").status_code == 200
    audit = count(world.vault, ENTRIES)
    refused = client.post("/incidents/report", data=_report(world, lang, None))
    assert refused.status_code == 403
    assert expired(lang) in refused.text and f'lang="{lang}"' in refused.text
    assert count(world.vault, INCIDENTS) == 0
    assert count(world.vault, ENTRIES) == audit
    done = client.post("/incidents/report", data=_report(world, lang, token_in(refused.text)))
    assert done.status_code == 201
    assert count(world.vault, INCIDENTS) == 1


def test_report_form_refuses_the_token_of_another_nonce(client: TestClient, world: World) -> None:
    first = token_in(client.get("/incidents/report?lang=cs").text)
    client.get("/incidents/report?lang=cs")
    audit = count(world.vault, ENTRIES)
    refused = client.post("/incidents/report", data=_report(world, "cs", first))
    assert refused.status_code == 403 and expired("cs") in refused.text
    assert count(world.vault, INCIDENTS) == 0
    assert count(world.vault, ENTRIES) == audit


def test_a_token_of_one_form_is_refused_by_the_other(client: TestClient, world: World) -> None:
    link, _, _ = _preferences(client, world, "en")
    preferences_token = token_in(client.get(link).text)
    client.get("/incidents/report")  # both cookies are set now, each on its own path
    refused = client.post("/incidents/report", data=_report(world, "en", preferences_token))
    assert refused.status_code == 403 and expired("en") in refused.text
    assert count(world.vault, INCIDENTS) == 0
