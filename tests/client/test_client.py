"""``privault.client``: every method against a real server (its public names are pinned in
tests/test_public_api.py)."""

from __future__ import annotations

import asyncio

import pytest

from privault.client import AsyncClient, Client, RemoteDecision
from privault.errors import AccessDenied, InvalidInput, NotFound
from tests.api.s1_world import CONSENTING, MARKETING, SUPPORT, World


def test_sync_client_end_to_end(world: World, live: str) -> None:
    with Client(live, world.keys["ayesha.khan"]) as ayesha:
        stream = ayesha.export(MARKETING, ["first_name", "email"])
        assert stream.summary.included == 2
        assert stream.summary.excluded == {"consent_required": 2, "objected": 1}
        assert sorted(str(r.values["email"]) for r in stream) == CONSENTING
        explained = ayesha.explain(MARKETING, ["email"], action="export", customers=5)
        assert explained.effect == "conditional" and "consent_required" in explained.codes
    with Client(live, world.keys["jana.dvorakova"], lang="cs") as jana:
        with pytest.raises(AccessDenied) as refused:
            jana.export(MARKETING, ["email"])
        decision = refused.value.decision
        assert isinstance(decision, RemoteDecision)
        assert decision.codes == {"not_authorised"} and decision.explanation["lang"] == "cs"
        with pytest.raises(AccessDenied) as handover:
            jana.share(SUPPORT, ["email"], "tomas.kral")
        assert "recipient_not_authorised" in handover.value.decision.codes  # type: ignore[attr-defined]
        created = jana.create_customer(SUPPORT, {"first_name": "Nový", "email": "novy@example.cz"})
        assert created.startswith("cus_")
        assert jana.read(created, SUPPORT, ["email"]).values == {"email": "novy@example.cz"}
        jana.update_customer(created, SUPPORT, {"email": "jiny@example.cz"})
        (found,) = jana.lookup(SUPPORT, "email", "jiny@example.cz", ["first_name"])
        assert found.customer == created and found.values["first_name"] == "Nový"
        with pytest.raises(AccessDenied):
            jana.delete_customer(created, SUPPORT)  # customer service may not delete
        with pytest.raises(NotFound):
            jana.read("cus_0000000000000000", SUPPORT, ["email"])
        with pytest.raises(InvalidInput):
            jana.detokenize(SUPPORT, "tok_forged")
    with Client(live, world.keys["sana.malik"]) as sana:
        zainab = world.ids["zainab@example.org"]
        sana.grant_consent(zainab, MARKETING, channel="phone")
        assert any(d["purpose"] == MARKETING for d in sana.consent(zainab)["decisions"])
        sana.withdraw_consent(zainab, MARKETING, channel="phone")
        assert len(sana.consent_proof(zainab)["events"]) == 2
        sana.object(zainab, "marketing")
        sana.restrict(zainab, channel="paper")
        assert sana.consent(zainab)["restricted"] is True
        assert sana.verify_audit()["ok"] is True


def test_async_client(world: World, live: str) -> None:
    async def scenario() -> None:
        async with AsyncClient(live, world.keys["ayesha.khan"], lang="ur") as ayesha:
            stream = await ayesha.export(MARKETING, ["email"])
            rows = [row async for row in stream]
            assert sorted(str(r.values["email"]) for r in rows) == CONSENTING
            record = await ayesha.read(world.ids["jana@example.com"], MARKETING, ["email"])
            assert record.summary is not None and record.summary.views == {"email": "plain"}
            with pytest.raises(AccessDenied) as refused:
                await ayesha.read(world.ids["eva@example.com"], MARKETING, ["email"])
            assert "consent_required" in refused.value.decision.codes  # type: ignore[attr-defined]
            reads = await asyncio.gather(
                *(ayesha.read(world.ids[e], MARKETING, ["first_name"]) for e in CONSENTING)
            )
            assert {r.values["first_name"] for r in reads} == {"Jana", "Petr"}

    asyncio.run(scenario())


def test_find_answers_public_ids_to_the_compliance_team_only(world: World, live: str) -> None:
    with Client(live, world.keys["sana.malik"]) as sana:
        found = sana.find("email", "jana@example.com")
        assert found == [world.ids["jana@example.com"]]
        assert sana.find("phone", "+420 602 000 999") == []
        with pytest.raises(InvalidInput):
            sana.find("email", "not an address")
    with Client(live, world.keys["jana.dvorakova"]) as jana, pytest.raises(AccessDenied):
        jana.find("email", "jana@example.com")
    actions = [e.entry.action for e in world.vault.audit.entries(limit=5)]
    assert actions.count("customer.lookup") == 2  # the refusal reads nothing, looks up nothing


def test_client_scan_text_and_file(world: World, live: str) -> None:
    with Client(live, world.keys["ayesha.khan"], lang="cs") as ayesha:
        result = ayesha.scan("\n".join(CONSENTING), recipient="ayesha.khan", purpose=MARKETING)
        assert (result.decision, result.customers) == ("allow", 2)
        upload = ayesha.scan(
            "\n".join(CONSENTING).encode(), name="list.txt", external="x@gmail.example"
        )
        assert upload.decision == "block" and upload.narrow is None
        assert "unknown_recipient" in upload.codes or "no_purpose" in upload.codes

    async def run() -> str:
        async with AsyncClient(live, world.keys["jana.dvorakova"]) as jana:
            found = await jana.scan("\n".join(CONSENTING), recipient="tomas.kral", purpose=SUPPORT)
            return found.decision

    assert asyncio.run(run()) == "block"
