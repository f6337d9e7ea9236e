"""S1 end to end over HTTP, against uvicorn on 127.0.0.1, in English, Czech and Urdu."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest

from tests.api.s1_world import CONSENTING, MARKETING, OPERATIONS, SUPPORT, World, auth

LAWFUL_PATH = {  # a phrase of the lawful way forward, per language
    "en": "hand the request to a team",
    "cs": "předejte žádost týmu",
    "ur": "اُس ٹیم کو دیں",
}
CONSENT_PATH = {"en": "preference centre", "cs": "předvoleb", "ur": "ترجیحات"}


@pytest.mark.parametrize("lang", ["en", "cs", "ur"])
def test_s1_over_http(world: World, live: str, lang: str) -> None:
    keys = world.keys
    with httpx.Client(base_url=live, timeout=30) as http:
        # 1. Marketing (ayesha.khan): only consenting customers, with who was left out, why.
        answer = http.post(
            "/api/v1/exports",
            json={"purpose": MARKETING, "fields": ["first_name", "email"], "format": "csv"},
            headers=auth(keys["ayesha.khan"], lang),
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(answer.text)))
        assert sorted(r["email"] for r in rows) == CONSENTING
        assert all(r["customer"].startswith("cus_") for r in rows)
        assert answer.headers["X-Privault-Included"] == "2"
        assert json.loads(answer.headers["X-Privault-Excluded"]) == {
            "consent_required": 2,
            "objected": 1,
        }
        explained = http.post(
            "/api/v1/policy/explain",
            json={"purpose": MARKETING, "fields": ["email"], "action": "export"},
            headers=auth(keys["ayesha.khan"], lang),
        ).json()
        assert explained["explanation"]["lang"] == lang
        assert CONSENT_PATH[lang] in json.dumps(explained["explanation"], ensure_ascii=False)

        # 2. Customer service (jana.dvorakova) exporting for marketing: refused, explained.
        refused = http.post(
            "/api/v1/exports",
            json={"purpose": MARKETING, "fields": ["email"], "format": "jsonl"},
            headers=auth(keys["jana.dvorakova"], lang),
        )
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["content-language"] == lang
        problem = refused.json()
        assert problem["code"] == "access_denied"
        assert problem["reasons"] == ["not_authorised"] and problem["rules"] == ["R3"]
        text = json.dumps(problem["explanation"], ensure_ascii=False)
        assert problem["explanation"]["lang"] == lang
        assert LAWFUL_PATH[lang] in text
        assert "@example" not in refused.text  # no customer data in a refusal

        # 3. The hand-over to the friend (tomas.kral), for a purpose Jana does have: refused.
        handover = http.post(
            "/api/v1/shares",
            json={"purpose": SUPPORT, "fields": ["email"], "recipient": "tomas.kral"},
            headers=auth(keys["jana.dvorakova"], lang),
        )
        assert handover.status_code == 403
        assert handover.json()["reasons"] == ["recipient_not_authorised"]

        # 4. The external partner (parcelfast-api) gets nothing without sharing consent.
        for email, public_id in world.ids.items():
            got = http.get(
                f"/api/v1/customers/{public_id}",
                params={"purpose": OPERATIONS, "fields": "first_name,phone"},
                headers=auth(keys["parcelfast-api"], lang),
            )
            if email == "jana@example.com":  # the one customer who agreed to the sharing
                assert got.status_code == 200, got.text
                assert got.json()["summary"]["views"] == {"first_name": "plain", "phone": "masked"}
                assert got.json()["values"]["phone"].startswith("+420 ***")
            else:
                assert got.status_code == 403, got.text
                assert "sharing_consent_required" in got.json()["reasons"]
                assert "values" not in got.json()
        partner_export = http.post(
            "/api/v1/exports",
            json={"purpose": OPERATIONS, "fields": ["first_name"]},
            headers=auth(keys["parcelfast-api"], lang),
        )
        assert partner_export.status_code == 403  # the partner's role may only read

        # 5. Every one of these is in the audit trail, and the trail verifies.
        verified = http.get("/api/v1/audit/verify", headers=auth(keys["sana.malik"], lang))
        assert verified.status_code == 200 and verified.json()["ok"] is True
        page = http.get(
            "/api/v1/audit/entries", params={"limit": 50}, headers=auth(keys["sana.malik"])
        ).json()
        seen = {
            (e["entry"]["principal"], e["entry"]["action"], e["entry"]["outcome"])
            for e in page["items"]
        }
        assert ("ayesha.khan", "export", "partial") in seen or (
            "ayesha.khan",
            "export",
            "allowed",
        ) in seen
        assert ("jana.dvorakova", "export", "denied") in seen
        assert ("jana.dvorakova", "share", "denied") in seen
        assert ("parcelfast-api", "read", "denied") in seen
        assert ("parcelfast-api", "read", "allowed") in seen
        assert ("parcelfast-api", "export", "denied") in seen
        # Entries hold names and codes, never values.
        assert "@example" not in json.dumps(page)
