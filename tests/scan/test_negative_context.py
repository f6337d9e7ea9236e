"""Recognisers that need context get it: a version in a release note is no IP address."""

from __future__ import annotations

import pytest

from privault.scan import Scanner


@pytest.mark.parametrize(
    "text",
    [
        "Verze 10.2.3.4 přináší opravy chyb.",
        "Release notes, version: 10.2.3.4",
        "Nová verze\tv 10.2.3.4 je venku.",
        "ورژن 10.2.3.4 جاری ہو گیا",
    ],
)
def test_a_version_is_no_ip_address(text: str) -> None:
    assert [f.entity for f in Scanner().analyze(text)] == []


@pytest.mark.parametrize(
    "text", ["Připojte se na 10.2.3.4.", "server 10.2.3.4", "verze serveru na IP 10.2.3.4"]
)
def test_an_address_is_still_an_address(text: str) -> None:
    assert [f.entity for f in Scanner().analyze(text)] == ["IP_ADDRESS"]
