"""The recogniser registry: which recognisers a scanner runs, filed by country.

``default_registry()`` gives the generic recognisers plus the Czech and Pakistani
ones; ``Registry(generic_recognizers())`` gives only the generic ones (what the
benchmark's "generic" figure measures).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from privault.catalog.kinds import DEFAULT_PHONE_REGIONS
from privault.scan.recognizers.base import Pattern, Recognizer
from privault.scan.recognizers.cz import (
    BirthNumberRecognizer,
    CzBankAccountRecognizer,
    CzPhoneRecognizer,
    DicRecognizer,
    IcoRecognizer,
)
from privault.scan.recognizers.generic import (
    CardRecognizer,
    DateOfBirthRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
)
from privault.scan.recognizers.pk import CnicRecognizer, PkMobileRecognizer

__all__ = [
    "Pattern",
    "Recognizer",
    "Registry",
    "country_recognizers",
    "default_registry",
    "generic_recognizers",
]


class Registry:
    """An ordered, named set of recognisers."""

    def __init__(self, recognizers: Iterable[Recognizer] = ()) -> None:
        self._items: dict[str, Recognizer] = {}
        for recognizer in recognizers:
            self.add(recognizer)

    def add(self, recognizer: Recognizer) -> None:
        self._items[recognizer.name] = recognizer

    def remove(self, name: str) -> None:
        self._items.pop(name, None)

    def __iter__(self) -> Iterator[Recognizer]:
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    @property
    def entities(self) -> frozenset[str]:
        return frozenset(r.entity for r in self)


def generic_recognizers(phone_regions: Sequence[str] = DEFAULT_PHONE_REGIONS) -> list[Recognizer]:
    return [
        EmailRecognizer(),
        PhoneRecognizer(tuple(phone_regions)),
        IbanRecognizer(),
        CardRecognizer(),
        IpRecognizer(),
        DateOfBirthRecognizer(),
    ]


def country_recognizers(country: str) -> list[Recognizer]:
    if country == "cz":
        return [
            BirthNumberRecognizer(),
            IcoRecognizer(),
            DicRecognizer(),
            CzBankAccountRecognizer(),
            CzPhoneRecognizer(),
        ]
    if country == "pk":
        return [CnicRecognizer(), PkMobileRecognizer()]
    return []


def default_registry(
    phone_regions: Sequence[str] = DEFAULT_PHONE_REGIONS, countries: Sequence[str] = ("cz", "pk")
) -> Registry:
    recognizers = generic_recognizers(phone_regions)
    for country in countries:
        recognizers += country_recognizers(country)
    return Registry(recognizers)
