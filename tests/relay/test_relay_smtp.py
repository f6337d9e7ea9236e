"""The relay over SMTP with a fake decider: replies, fail-closed paths, limits, audit."""

from __future__ import annotations

import logging
import smtplib
import time

import pytest

from privault.audit import Outcome
from privault.relay.server import _within, networks
from tests.relay.conftest import FakeDecider, RawSink, raw_sink, running_relay
from tests.relay.mail import message, send


def test_a_clean_message_arrives_unchanged_but_for_one_received_header(
    sink: tuple[RawSink, int],
) -> None:
    box, upstream = sink
    data = message(body="Hello\n.leading dot stays\nbye")
    with running_relay(FakeDecider(), upstream) as relay:
        code, text = send(relay.port, data, ["bob@partner.example"])
    assert code == 250, text
    assert text.startswith("2.0.0")
    [(sender, rcpts, got)] = box.messages
    assert (sender, rcpts) == ("alice@company.example", ["bob@partner.example"])
    assert got.startswith(b"Received: from client.example ([127.0.0.1])\r\n")
    assert got.endswith(data)
    trace = got[: -len(data)]
    assert trace.count(b"Received:") == 1 and trace.count(b"\r\n") == 3
    [entry] = relay.entries
    assert entry.outcome == Outcome.ALLOWED and entry.action == "relay.message"
    assert entry.principal == "relay" and entry.details["verdict"] == "allow"


def test_a_refused_recipient_refuses_the_whole_message_naming_who_and_why(
    sink: tuple[RawSink, int],
) -> None:
    box, upstream = sink
    decider = FakeDecider(refuse={"friend@gmail.example"})
    data = message(to=["colleague@company.example"], body="CUSTOMER list", lang="cs")
    with running_relay(decider, upstream) as relay:
        code, text = send(relay.port, data, ["colleague@company.example", "friend@gmail.example"])
    assert code == 550
    assert "5.7.1" in text and "<friend@gmail.example>: refused in cs" in text
    assert "colleague@company.example" not in text
    assert box.messages == []
    [entry] = relay.entries
    assert entry.outcome == Outcome.DENIED
    assert entry.counts["refused"] == 1 and entry.counts["recipients"] == 2
    assert entry.counts["recipient_domains"] == 2 and entry.counts["customers"] == 1
    assert "no_consent_external" in entry.reasons
    body = entry.body(1)
    assert "CUSTOMER" not in body and "gmail" not in body and "abc123" not in body


def test_bcc_counts_the_envelope_recipient_is_scanned_too(sink: tuple[RawSink, int]) -> None:
    _box, upstream = sink
    decider = FakeDecider(refuse={"hidden@gmail.example"})
    data = message(to=["colleague@company.example"])
    with running_relay(decider, upstream) as relay:
        code, _ = send(relay.port, data, ["colleague@company.example", "hidden@gmail.example"])
    assert code == 550
    assert decider.calls[0][2] == ("colleague@company.example", "hidden@gmail.example")


def test_external_recipients_in_to_and_cc_disclose_each_other_but_bcc_passes(
    sink: tuple[RawSink, int],
) -> None:
    box, upstream = sink
    outside = {"a@one.example", "b@two.example"}
    with running_relay(FakeDecider(external=outside), upstream) as relay:
        code, text = send(
            relay.port, message(to=["a@one.example"], cc=["b@two.example"]), sorted(outside)
        )
        assert code == 550 and "Bcc" in text
        assert "addresses_disclosed" in relay.entries[-1].reasons
        code, _ = send(relay.port, message(to=["undisclosed-recipients:;"]), sorted(outside))
        assert code == 250
    assert len(box.messages) == 1


def test_uninspectable_content_is_554(sink: tuple[RawSink, int]) -> None:
    box, upstream = sink
    with running_relay(FakeDecider(uninspectable=("secret.zip!a.csv",)), upstream) as relay:
        code, text = send(relay.port, message(), ["bob@partner.example"])
    assert code == 554 and text.startswith("5.7.1")
    assert box.messages == [] and relay.entries[0].details["verdict"] == "uninspectable"


@pytest.mark.parametrize("fault", ["decider", "timeout", "audit", "upstream"])
def test_our_own_faults_are_451_and_nothing_passes(fault: str) -> None:
    decider = FakeDecider(
        fail=RuntimeError("vault down") if fault == "decider" else None,
        delay=1.0 if fault == "timeout" else 0.0,
    )

    def broken_audit(_entry: object) -> None:
        raise RuntimeError("audit down")

    with raw_sink() as (box, upstream):
        port = upstream + 1 if fault == "upstream" else upstream
        with running_relay(
            decider,
            port if fault != "upstream" else _closed_port(),
            record=broken_audit if fault == "audit" else None,
            scan_timeout=0.2,
        ) as relay:
            code, text = send(relay.port, message(), ["bob@partner.example"])
    assert code == 451, text
    assert text.startswith("4.3.0")
    assert box.messages == []


def _closed_port() -> int:
    from tests.incidents.receivers import free_port

    return free_port()


def test_the_upstreams_refusal_is_passed_on(sink: tuple[RawSink, int]) -> None:
    box, upstream = sink
    box.answer = "554 5.7.0 upstream says no"
    with running_relay(FakeDecider(), upstream) as relay:
        code, text = send(relay.port, message(), ["bob@partner.example"])
    assert (code, text) == (554, "5.7.0 upstream says no")


def test_more_than_100_recipients_is_452(sink: tuple[RawSink, int]) -> None:
    _box, upstream = sink
    with running_relay(FakeDecider(), upstream) as relay:
        code, text = send(relay.port, message(), [f"r{i}@company.example" for i in range(101)])
    assert code == 452 and text.startswith("4.5.3")


def test_size_is_advertised_and_enforced(sink: tuple[RawSink, int]) -> None:
    _box, upstream = sink
    with running_relay(FakeDecider(), upstream, max_size=2048) as relay:
        with smtplib.SMTP("127.0.0.1", relay.port) as client:
            client.ehlo()
            assert client.esmtp_features["size"] == "2048"
        code, _ = send(relay.port, message(body="xxxxxxxxxx\n" * 400), ["bob@partner.example"])
    assert code == 552


def test_a_trusted_mta_names_the_asker_and_the_audit_records_both(
    sink: tuple[RawSink, int],
) -> None:
    _box, upstream = sink
    decider = FakeDecider()
    with running_relay(
        decider,
        upstream,
        trusted_mta=networks(["127.0.0.0/8"]),
        principal_of=lambda sender: sender.partition("@")[0],
    ) as relay:
        send(relay.port, message(), ["bob@partner.example"], sender="jana.dvorakova@company.cz")
    assert decider.calls[0][1] == "jana.dvorakova"
    [entry] = relay.entries
    assert entry.principal == "jana.dvorakova"
    assert entry.details["asker"] == "trusted_mta"


def test_an_untrusted_sender_is_an_asker_with_no_role(sink: tuple[RawSink, int]) -> None:
    _box, upstream = sink
    decider = FakeDecider()
    with running_relay(decider, upstream) as relay:
        send(relay.port, message(), ["bob@partner.example"], sender="jana.dvorakova@company.cz")
    assert decider.calls[0][1] is None


def test_only_loopback_and_allowed_networks_may_connect() -> None:
    assert _within(("127.0.0.1", 1), networks(["127.0.0.0/8"]))
    assert _within(("::ffff:10.1.2.3", 1), networks(["10.0.0.0/8"]))
    assert not _within(("192.0.2.7", 1), networks(["10.0.0.0/8"]))
    assert not _within(("not-an-ip", 1), networks(["0.0.0.0/0"]))


def test_an_idle_session_is_closed(sink: tuple[RawSink, int]) -> None:
    _box, upstream = sink
    with running_relay(FakeDecider(), upstream, command_timeout=0.3) as relay:
        client = smtplib.SMTP("127.0.0.1", relay.port)
        client.ehlo()
        time.sleep(0.8)
        with pytest.raises(smtplib.SMTPServerDisconnected):
            client.noop()


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("cs", "Zpráva nebyla odeslána"), ("ur", "پیغام نہیں بھیجا گیا"), (None, "was not sent")],
)
def test_replies_are_in_the_senders_language(
    sink: tuple[RawSink, int], lang: str | None, expected: str
) -> None:
    _box, upstream = sink
    with running_relay(FakeDecider(refuse={"x@y.example"}), upstream) as relay:
        code, text = send(relay.port, message(lang=lang), ["x@y.example"])
    assert code == 550 and expected in text


def test_no_content_or_address_reaches_the_logs(
    sink: tuple[RawSink, int], caplog: pytest.LogCaptureFixture
) -> None:
    _box, upstream = sink
    caplog.set_level(logging.DEBUG)
    decider = FakeDecider(refuse={"x@y.example"}, fail=None)
    with running_relay(decider, upstream) as relay:
        send(relay.port, message(body="SECRET-BODY CUSTOMER"), ["x@y.example"])
        send(relay.port, message(body="SECRET-BODY"), ["ok@y.example"])
    with running_relay(FakeDecider(fail=RuntimeError("SECRET-BODY")), upstream) as relay:
        send(relay.port, message(body="SECRET-BODY"), ["ok@y.example"])
    assert caplog.records  # the relay does log (its own warnings)
    assert "SECRET-BODY" not in caplog.text and "@y.example" not in caplog.text
