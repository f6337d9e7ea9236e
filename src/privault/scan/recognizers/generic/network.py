"""IPv4 and IPv6 addresses, checked by the standard library's parser."""

from __future__ import annotations

import ipaddress

from privault.errors import N_
from privault.scan.model import IP
from privault.scan.recognizers.base import COLONS, DIGITS, Pattern, Recognizer, context_words

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"


class IpRecognizer(Recognizer):
    name = "ip_address"
    entity = IP
    triggers = frozenset({DIGITS, COLONS})
    patterns = (
        Pattern("ipv4", rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w]|\.[0-9])", 0.6),
        Pattern(
            "ipv6",
            r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:\.[0-9]{1,3}){0,3}(?![\w:]|\.[0-9])",
            0.6,
        ),
    )
    validated_score = 0.7
    context = context_words(
        en=("ip", "address", "host", "server", "client"),
        cs=("ip", "adresa", "adresy", "server"),
        ur=("آئی پی", "ایڈریس", "سرور"),
    )
    # Dotted numbers are versions as often as addresses in release notes.
    negative_context = context_words(
        en=("version", "ver", "v", "release", "build", "firmware", "update"),
        cs=("verze", "verzi", "verzí", "vydání", "sestavení", "aktualizace"),
        ur=("ورژن", "ریلیز"),
    )
    explanation = N_("IP address")

    def validate(self, text: str) -> str | None:
        if text.count(":") >= 2 and text.replace(":", "") == "":
            return None
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return None
        if address.version == 6 and text.count(":") < 3 and "::" not in text:
            return None
        return str(address)
