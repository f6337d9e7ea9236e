"""The relay's own rule (To/Cc disclosure) and its replies, without a server."""

from __future__ import annotations

from privault.relay import RecipientVerdict, RelayVerdict
from privault.relay.replies import disclosure, judge, reply


def verdict(*recipients: RecipientVerdict, uninspectable: tuple[str, ...] = ()) -> RelayVerdict:
    return RelayVerdict(recipients=recipients, uninspectable=uninspectable)


def ok(address: str, external: bool = True) -> RecipientVerdict:
    return RecipientVerdict(address, True, external, ("clean",))


def test_two_external_addresses_in_to_and_cc_are_a_disclosure() -> None:
    judged = judge(verdict(ok("a@x.example"), ok("b@y.example")), ["a@x.example", "B@Y.example"])
    assert judged.outcome == "refuse"
    assert {r.address for r in judged.verdict.refused} == {"a@x.example", "b@y.example"}
    assert judged.reasons == ("addresses_disclosed",)
    assert judged.reply is not None and judged.reply.startswith("550-5.7.1 ")
    assert judged.reply.splitlines()[-1].startswith("550 5.7.1 <")


def test_bcc_internal_and_single_recipients_are_no_disclosure() -> None:
    bcc = verdict(ok("a@x.example"), ok("b@y.example"))
    assert judge(bcc, []).outcome == "allow"
    assert judge(bcc, ["a@x.example"]).outcome == "allow"
    internal = verdict(ok("a@x.example"), ok("c@company.example", external=False))
    assert judge(internal, ["a@x.example", "c@company.example"]).outcome == "allow"


def test_an_address_shown_but_not_an_envelope_recipient_counts_as_external() -> None:
    judged = disclosure(verdict(ok("a@x.example")), ["a@x.example", "someone@else.example"])
    assert judged.refused[0].reasons == ("addresses_disclosed",)


def test_a_refusal_keeps_its_own_reasons_when_disclosure_adds_one() -> None:
    refused = RecipientVerdict("a@x.example", False, True, ("no_consent_external",), "no consent")
    judged = disclosure(verdict(refused, ok("b@y.example")), ["a@x.example", "b@y.example"])
    assert judged.refused[0].reasons == ("no_consent_external", "addresses_disclosed")
    assert judged.refused[0].explanation.startswith("no consent; ")


def test_uninspectable_wins_over_everything() -> None:
    judged = judge(verdict(ok("a@x.example"), uninspectable=("a.zip!b.csv",)), [])
    assert judged.outcome == "uninspectable"
    assert judged.reply is not None and judged.reply.startswith("554 5.7.1 ")


def test_reply_lines_cannot_be_broken_by_what_they_quote() -> None:
    text = reply("550", "5.7.1", ["one\r\n250 OK injected", "two"])
    assert text == "550-5.7.1 one 250 OK injected\r\n550 5.7.1 two"
