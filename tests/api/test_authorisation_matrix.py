"""For every principal x purpose x field of the example policy, the API releases exactly
what the policy engine decides -- and nothing by guessing ids, borrowing another's token
or key, or claiming another identity in the body."""

from __future__ import annotations

import secrets

from fastapi.testclient import TestClient

from privault.access.gate import AccessGate
from privault.api.schemas import RecordOut
from privault.policy import CustomerFacts, Request
from tests.api.s1_world import MARKETING, SUPPORT, World, auth

FACTS = {  # what the policy's conditions see for two customers of the S1 world
    "jana@example.com": CustomerFacts(
        consents=frozenset({MARKETING}), sharing=frozenset({"parcelfast"})
    ),
    "zainab@example.org": CustomerFacts(),
}


def test_api_answers_equal_the_decisions(world: World, client: TestClient) -> None:
    gate = world.vault.gate
    policy = gate.engine.policy
    fields = sorted(world.vault.catalog.names)
    plain = {"jana@example.com": "jana@example.com", "zainab@example.org": "zainab@example.org"}
    checked = 0
    for principal in sorted(policy.principals):
        for purpose in sorted(policy.purposes):
            wide = gate.decide(Request(principal, purpose, tuple(fields), "read"))
            explained = client.post(
                "/api/v1/policy/explain",
                json={"purpose": purpose, "fields": fields},
                headers=auth(world.keys[principal]),
            ).json()["decision"]
            assert explained["effect"] == wide.effect
            assert {f["field"]: f["view"] for f in explained["fields"] if f["allowed"]} == dict(
                wide.views
            )
            # All fields at once, and just the fields the policy allows for the purpose.
            for asked in (fields, sorted(wide.views)):
                if asked:
                    checked += check_read(world, client, gate, principal, purpose, asked, plain)
    assert checked >= 15  # reads that released data; the rest were refused as decided


def check_read(
    world: World,
    client: TestClient,
    gate: AccessGate,
    principal: str,
    purpose: str,
    fields: list[str],
    plain: dict[str, str],
) -> int:
    """Read two customers; the answer must be exactly what the decision allows. Returns
    how many reads released data."""
    released = 0
    decision = gate.decide(Request(principal, purpose, tuple(fields), "read"))
    for email, facts in FACTS.items():
        expected = {
            item.field: item.view
            for item in decision.fields
            if decision.allowed  # the gate refuses a read that is only partly allowed
            and item.allowed
            and item.view is not None
            and (item.condition is None or item.condition.holds(facts))
        }
        answer = client.get(
            f"/api/v1/customers/{world.ids[email]}",
            params={"purpose": purpose, "fields": ",".join(fields)},
            headers=auth(world.keys[principal]),
        )
        label = f"{principal} / {purpose} / {email} / {len(fields)} fields"
        if not expected:
            assert answer.status_code == 403, label
            assert answer.json()["code"] == "access_denied", label
            assert "values" not in answer.json(), label
            continue
        assert answer.status_code == 200, label
        body = answer.json()
        # The read endpoint writes its JSON directly: it must be exactly a RecordOut.
        assert RecordOut.model_validate(body).model_dump() == body, label
        assert body["summary"]["views"] == expected, label
        assert set(body["values"]) == set(expected), label  # nothing more
        assert set(body["summary"]["denied"]) == set(fields) - set(expected), label
        if "email" in expected:
            value = body["values"]["email"]
            view = expected["email"]
            assert (value == plain[email]) == (view == "plain"), label
            assert value.startswith("tok_") == (view == "tokenized"), label
        released += 1
    return released


def test_single_fields_match_the_decision(world: World, client: TestClient) -> None:
    gate = world.vault.gate
    facts = FACTS["jana@example.com"]
    for principal in ("ayesha.khan", "jana.dvorakova", "tomas.kral", "parcelfast-api"):
        for purpose in (MARKETING, SUPPORT):
            for name in ("email", "phone", "iban", "national_id", "date_of_birth"):
                decision = gate.decide(Request(principal, purpose, (name,), "read"))
                item = decision.field(name)
                allowed = (
                    decision.allowed
                    and item.allowed
                    and (item.condition is None or item.condition.holds(facts))
                )
                answer = client.get(
                    f"/api/v1/customers/{world.ids['jana@example.com']}",
                    params={"purpose": purpose, "fields": name},
                    headers=auth(world.keys[principal]),
                )
                assert (answer.status_code == 200) == allowed, (principal, purpose, name)
                if allowed:
                    assert answer.json()["summary"]["views"] == {name: item.view}


def test_guessed_ids_and_wrong_purposes_release_nothing(world: World, client: TestClient) -> None:
    ayesha = auth(world.keys["ayesha.khan"])
    guessed = client.get(
        f"/api/v1/customers/cus_{secrets.token_hex(8)}",
        params={"purpose": MARKETING, "fields": "email"},
        headers=ayesha,
    )
    assert guessed.status_code == 404 and guessed.json()["code"] == "not_found"
    internal = client.get(
        f"/api/v1/customers/{secrets.token_hex(16)}",
        params={"purpose": MARKETING, "fields": "email"},
        headers=ayesha,
    )
    assert internal.status_code == 422  # only public ids are accepted
    # A purpose the caller's role is not granted: refused, even for a consenting customer.
    mismatch = client.get(
        f"/api/v1/customers/{world.ids['jana@example.com']}",
        params={"purpose": SUPPORT, "fields": "email"},
        headers=ayesha,
    )
    assert mismatch.status_code == 403 and "not_authorised" in mismatch.json()["reasons"]
    unknown = client.get(
        f"/api/v1/customers/{world.ids['jana@example.com']}",
        params={"purpose": "marketing.made_up", "fields": "email"},
        headers=ayesha,
    )
    assert unknown.status_code in (403, 422) and "@example" not in unknown.text


def test_tokens_only_turn_back_for_a_principal_allowed_plain(
    world: World, client: TestClient
) -> None:
    analytics = auth(world.keys["analytics-pipeline"])
    read = client.get(
        f"/api/v1/customers/{world.ids['zainab@example.org']}",
        params={"purpose": "analytics.reporting", "fields": "customer_number,country"},
        headers=analytics,
    )
    assert read.status_code == 200, read.text
    token = read.json()["values"]["customer_number"]
    assert token.startswith("tok_")

    def turn_back(principal: str, purpose: str, value: str = token) -> int:
        answer = client.post(
            "/api/v1/detokenize",
            json={"purpose": purpose, "token": value},
            headers=auth(world.keys[principal]),
        )
        if answer.status_code == 200:
            assert answer.json()["value"] == "C-100200"
        else:
            assert "C-100200" not in answer.text
        return int(answer.status_code)

    assert turn_back("analytics-pipeline", "analytics.reporting") == 403  # tokenized view only
    assert turn_back("ayesha.khan", MARKETING) == 403
    assert turn_back("jana.dvorakova", MARKETING) == 403  # right person, wrong purpose
    assert turn_back("jana.dvorakova", SUPPORT) == 200
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert turn_back("jana.dvorakova", SUPPORT, forged) == 422


def test_the_principal_is_always_the_keys_owner(world: World, client: TestClient) -> None:
    jana = auth(world.keys["jana.dvorakova"])
    claim = client.post(
        "/api/v1/exports",
        json={"purpose": MARKETING, "fields": ["email"], "principal": "ayesha.khan"},
        headers=jana,
    )
    assert claim.status_code == 422  # no body member can name an identity
    other = client.post(
        "/api/v1/policy/explain",
        json={"principal": "ayesha.khan", "purpose": MARKETING, "fields": ["email"]},
        headers=jana,
    )
    assert other.status_code == 403 and other.json()["code"] == "admin_required"
    for headers in (
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic " + world.keys["ayesha.khan"]},
        {"Authorization": "Bearer " + world.keys["ayesha.khan"][:-2] + "xx"},
    ):
        denied = client.post(
            "/api/v1/exports", json={"purpose": MARKETING, "fields": ["email"]}, headers=headers
        )
        assert denied.status_code == 401, headers
        assert denied.headers["www-authenticate"].startswith("Bearer")


def test_admin_endpoints_are_for_compliance_only(world: World, client: TestClient) -> None:
    for principal in world.keys:
        answer = client.get("/api/v1/audit/verify", headers=auth(world.keys[principal]))
        assert (answer.status_code == 200) == (principal == "sana.malik"), principal
    sana = auth(world.keys["sana.malik"])
    listed = client.get("/api/v1/principals", params={"limit": 3}, headers=sana).json()
    assert len(listed["items"]) == 3 and listed["next_after"] is not None
    rest = client.get(
        "/api/v1/principals", params={"limit": 100, "after": listed["next_after"]}, headers=sana
    ).json()
    assert rest["next_after"] is None
    names = [p["name"] for p in listed["items"] + rest["items"]]
    assert names == sorted(world.keys)
    # Add, rotate and revoke: the old key stops working at once.
    added = client.post(
        "/api/v1/principals",
        json={"name": "eva.novak", "roles": ["customer_service"]},
        headers=sana,
    )
    assert added.status_code == 201, added.text
    eva = auth(added.json()["api_key"])
    ok = client.get(
        f"/api/v1/customers/{world.ids['eva@example.com']}",
        params={"purpose": SUPPORT, "fields": "email"},
        headers=eva,
    )
    assert ok.status_code == 200, ok.text
    rotated = client.post("/api/v1/principals/eva.novak/rotate", headers=sana).json()
    again = client.get(
        f"/api/v1/customers/{world.ids['eva@example.com']}",
        params={"purpose": SUPPORT, "fields": "email"},
        headers=eva,
    )
    assert again.status_code == 401
    revoked = client.delete(f"/api/v1/keys/{rotated['key_id']}", headers=sana)
    assert revoked.status_code == 204
    assert client.get("/api/v1/audit/verify", headers=sana).json()["ok"] is True
