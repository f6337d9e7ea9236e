"""Generate demo customers.  Nothing here is a real person: names come from Faker's
locales and from short lists of common Pakistani names (in Urdu script and in Latin
transliteration); e-mail addresses use only the reserved ``example.*`` domains, and
phone numbers are drawn from valid national ranges at random.
"""

from __future__ import annotations

import csv
import random
import unicodedata
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Final

import phonenumbers
from faker import Faker
from stdnum import iban as stdnum_iban

COLUMNS: Final[tuple[str, ...]] = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "street",
    "city",
    "postal_code",
    "country",
    "date_of_birth",
    "customer_number",
    "company",
    "iban",
    "language",
)
URDU_FIRST: Final[tuple[str, ...]] = (
    "محمد",
    "علی",
    "فاطمہ",
    "عائشہ",
    "حسن",
    "زینب",
    "عمران",
    "سارہ",
    "بلال",
    "مریم",
    "احمد",
    "نادیہ",
    "عثمان",
    "حنا",
    "کامران",
    "ثنا",
    "فیصل",
    "رابعہ",
    "طارق",
    "صائمہ",
)
URDU_LAST: Final[tuple[str, ...]] = (
    "خان",
    "احمد",
    "ملک",
    "قریشی",
    "چوہدری",
    "شیخ",
    "رضا",
    "بٹ",
    "صدیقی",
    "حسین",
    "مرزا",
    "جعفری",
    "اعوان",
    "راجپوت",
    "ہاشمی",
)
URDU_LATIN: Final[dict[str, str]] = {
    "محمد": "muhammad",
    "علی": "ali",
    "فاطمہ": "fatima",
    "عائشہ": "ayesha",
    "حسن": "hassan",
    "زینب": "zainab",
    "عمران": "imran",
    "سارہ": "sara",
    "بلال": "bilal",
    "مریم": "maryam",
    "احمد": "ahmed",
    "نادیہ": "nadia",
    "عثمان": "usman",
    "حنا": "hina",
    "کامران": "kamran",
    "ثنا": "sana",
    "فیصل": "faisal",
    "رابعہ": "rabia",
    "طارق": "tariq",
    "صائمہ": "saima",
    "خان": "khan",
    "ملک": "malik",
    "قریشی": "qureshi",
    "چوہدری": "chaudhry",
    "شیخ": "sheikh",
    "رضا": "raza",
    "بٹ": "butt",
    "صدیقی": "siddiqui",
    "حسین": "hussain",
    "مرزا": "mirza",
    "جعفری": "jafri",
    "اعوان": "awan",
    "راجپوت": "rajput",
    "ہاشمی": "hashmi",
}
PK_CITIES: Final[tuple[str, ...]] = (
    "لاہور",
    "کراچی",
    "اسلام آباد",
    "راولپنڈی",
    "فیصل آباد",
    "ملتان",
    "پشاور",
    "Lahore",
    "Karachi",
)
PK_STREETS: Final[tuple[str, ...]] = (
    "مال روڈ",
    "جناح ایونیو",
    "Gulberg III",
    "Model Town",
    "Clifton Block 5",
)
PK_BANKS: Final[tuple[str, ...]] = ("SCBL", "HABB", "MUCB", "UNIL", "MEZN")
DOMAINS: Final[tuple[str, ...]] = ("example.com", "example.net", "example.org")


def _ascii_slug(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum()).lower()


class DemoGenerator:
    def __init__(self, seed: int = 2026) -> None:
        self.random = random.Random(seed)  # noqa: S311 -- reproducible demo data, not secrets
        self.fakers = {loc: Faker(loc) for loc in ("cs_CZ", "en_GB", "en_PK")}
        for offset, faker in enumerate(self.fakers.values()):
            faker.seed_instance(seed + offset)
        self._serial = 0

    def customers(self, count: int) -> Iterator[dict[str, str]]:
        for _ in range(count):
            roll = self.random.random()
            if roll < 0.45:
                yield self._czech()
            elif roll < 0.75:
                yield self._pakistani()
            else:
                yield self._english()

    def _common(self, first_latin: str, last_latin: str) -> dict[str, str]:
        self._serial += 1
        local = f"{_ascii_slug(first_latin)}.{_ascii_slug(last_latin)}{self._serial}"
        born = date(1940, 1, 1) + timedelta(days=self.random.randrange(0, 65 * 365))
        return {
            "email": f"{local}@{self.random.choice(DOMAINS)}",
            "date_of_birth": born.isoformat(),
            "customer_number": f"C-{self._serial:07d}",
        }

    def _phone(self, pattern: str, ranges: tuple[int, int, int]) -> str:
        """A random number in a mobile range that ``phonenumbers`` accepts as valid."""
        while True:
            a, b, rest = (self.random.randrange(limit) for limit in ranges)
            candidate = pattern.format(a, b, f"{rest:07d}")
            if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
                return candidate

    def _czech(self) -> dict[str, str]:
        fake = self.fakers["cs_CZ"]
        female = self.random.random() < 0.5
        first = fake.first_name_female() if female else fake.first_name_male()
        last = fake.last_name_female() if female else fake.last_name_male()
        prefix = self.random.choice(("601", "602", "603", "604", "605", "702", "731", "777"))
        return {
            "first_name": first,
            "last_name": last,
            **self._common(first, last),
            "phone": f"+420 {prefix} {self.random.randrange(100, 999)} "
            f"{self.random.randrange(100, 999)}",
            "street": fake.street_address(),
            "city": fake.city(),
            "postal_code": fake.postcode(),
            "country": "CZ",
            "company": fake.company() if self.random.random() < 0.3 else "",
            "iban": fake.iban(),
            "language": "cs",
        }

    def _pakistani(self) -> dict[str, str]:
        urdu = self.random.random() < 0.5
        if urdu:
            first, last = self.random.choice(URDU_FIRST), self.random.choice(URDU_LAST)
            first_latin, last_latin = URDU_LATIN[first], URDU_LATIN[last]
        else:
            fake = self.fakers["en_PK"]
            first = first_latin = fake.first_name()
            last = last_latin = fake.last_name()
        bank = self.random.choice(PK_BANKS)
        digits = "".join(str(self.random.randrange(10)) for _ in range(16))
        iban = "PK00" + bank + digits
        iban = iban[:2] + stdnum_iban.calc_check_digits(iban) + iban[4:]
        return {
            "first_name": first,
            "last_name": last,
            **self._common(first_latin, last_latin),
            "phone": self._phone("+92 3{}{} {}", (5, 10, 10_000_000)),
            "street": f"{self.random.randrange(1, 300)} {self.random.choice(PK_STREETS)}",
            "city": self.random.choice(PK_CITIES),
            "postal_code": f"{self.random.randrange(10000, 99999)}",
            "country": "PK",
            "company": "",
            "iban": iban,
            "language": "ur",
        }

    def _english(self) -> dict[str, str]:
        fake = self.fakers["en_GB"]
        first, last = fake.first_name(), fake.last_name()
        return {
            "first_name": first,
            "last_name": last,
            **self._common(first, last),
            "phone": self._phone("+44 7{}{} {}", (10, 10, 10_000_000)),
            "street": fake.street_address().replace("\n", ", "),
            "city": fake.city(),
            "postal_code": fake.postcode(),
            "country": "GB",
            "company": fake.company() if self.random.random() < 0.3 else "",
            "iban": fake.iban(),
            "language": "en",
        }


def write_csv(path: Path, count: int, seed: int = 2026) -> Path:
    """Write ``count`` demo customers as a CSV that ``privault customers import`` reads."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in DemoGenerator(seed).customers(count):
            writer.writerow(row)
    return path
