"""STARTTLS in and out: AUTH only after STARTTLS, principals by API key; the upstream's
certificate is verified."""

from __future__ import annotations

import smtplib
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from privault.relay import (
    RelayConfig,
    RelayController,
    RelayHandler,
    Upstream,
    UpstreamUnavailable,
)
from tests.incidents.receivers import free_port
from tests.relay.conftest import NOW, FakeDecider, RawSink
from tests.relay.mail import message


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def tls_relay(certificate: tuple[Path, Path]) -> Iterator[tuple[int, FakeDecider, RawSink]]:
    sink, sink_port = RawSink(), free_port()
    upstream = Controller(sink, hostname="127.0.0.1", port=sink_port)
    upstream.start()
    decider = FakeDecider()
    port = free_port()
    handler = RelayHandler(
        RelayConfig(host="127.0.0.1", port=port, tls_context=_server_context(certificate)),
        decider,
        Upstream("127.0.0.1", sink_port, "none"),
        lambda _entry: None,
        lambda: NOW,
        authenticate=lambda user, secret: user if secret == "pv_good" else None,
    )
    relay = RelayController(handler)
    relay.start()
    try:
        yield port, decider, sink
    finally:
        relay.stop()
        upstream.stop()


def _client_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def test_auth_is_offered_only_after_starttls_and_names_the_asker(
    tls_relay: tuple[int, FakeDecider, RawSink], certificate: tuple[Path, Path]
) -> None:
    port, decider, sink = tls_relay
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.ehlo()
        assert client.has_extn("starttls") and not client.has_extn("auth")
        with pytest.raises(smtplib.SMTPException):
            client.login("jana.dvorakova", "pv_good")
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.starttls(context=_client_context(certificate))
        client.ehlo()
        assert client.has_extn("auth")
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login("jana.dvorakova", "pv_wrong")
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.starttls(context=_client_context(certificate))
        client.login("jana.dvorakova", "pv_good")
        client.sendmail("jana@company.example", ["bob@partner.example"], message())
    assert decider.calls[0][1] == "jana.dvorakova"
    [(_, _, got)] = sink.messages
    assert b"with ESMTPS" in got.split(b"\r\n\r\n", 1)[0]


def test_the_upstreams_certificate_is_verified(certificate: tuple[Path, Path]) -> None:
    """A mail server whose certificate the system does not trust gets nothing: 451."""
    sink, sink_port = RawSink(), free_port()
    upstream = Controller(
        sink, hostname="127.0.0.1", port=sink_port, tls_context=_server_context(certificate)
    )
    upstream.start()
    try:
        untrusted = Upstream("127.0.0.1", sink_port, "starttls", timeout=5)
        with pytest.raises(UpstreamUnavailable):
            untrusted.send("a@company.example", ["b@partner.example"], message())
        trusted = Upstream(
            "127.0.0.1",
            sink_port,
            "starttls",
            timeout=5,
            context=_client_context(certificate),
        )
        trusted.send("a@company.example", ["b@partner.example"], message())
        trusted.close()
    finally:
        upstream.stop()
    assert len(sink.messages) == 1


def test_an_upstream_without_starttls_is_refused_unless_none(sink: tuple[RawSink, int]) -> None:
    box, port = sink
    with pytest.raises(Exception) as raised:
        Upstream("127.0.0.1", port, "starttls", timeout=5).send(
            "a@b.example", ["c@d.example"], b"x"
        )
    assert type(raised.value).__name__ == "UpstreamUnavailable"
    assert box.messages == []
