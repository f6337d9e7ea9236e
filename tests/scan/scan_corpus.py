"""A labelled corpus, generated from a fixed seed: messages in English, Czech and Urdu.

Every value is synthetic (Faker, or numbers built to pass their checksums) and is
recorded with its entity type and offsets, so precision and recall can be measured.
Hard negatives -- order numbers, prices, versions, times, plain dates -- are mixed
in, so precision means something.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from faker import Faker
from stdnum import iban as stdnum_iban
from stdnum import luhn

URDU_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@dataclass
class Document:
    language: str
    text: str = ""
    spans: list[tuple[str, int, int]] = field(default_factory=list)

    def add(self, piece: str, entity: str | None = None) -> None:
        if entity is not None:
            self.spans.append((entity, len(self.text), len(self.text) + len(piece)))
        self.text += piece


class Values:
    """Synthetic values that pass their real checks."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker(["en_GB", "cs_CZ"])
        self.fake.seed_instance(seed)

    def email(self) -> str:
        user = self.fake.user_name().replace(" ", "")
        return f"{user}{self.rng.randint(1, 999)}@{self.fake.free_email_domain()}"

    def cz_mobile(self, grouped: bool = True) -> str:
        prefix = self.rng.choice(
            [
                "601",
                "602",
                "603",
                "604",
                "605",
                "606",
                "607",
                "608",
                "702",
                "721",
                "724",
                "731",
                "736",
                "737",
                "773",
                "775",
                "777",
                "792",
            ]
        )
        rest = f"{self.rng.randint(0, 999999):06d}"
        return f"{prefix} {rest[:3]} {rest[3:]}" if grouped else prefix + rest

    def intl_phone(self) -> str:
        choice = self.rng.randrange(4)
        if choice == 0:
            return "+420 " + self.cz_mobile()
        if choice == 1:
            return f"+44 20 7946 {self.rng.randint(0, 999):04d}"
        if choice == 2:
            return f"+49 30 {self.rng.randint(1000000, 9999999)}"
        return f"+92 3{self.rng.randint(0, 4)}{self.rng.randint(0, 9)} {self.rng.randint(1000000, 9999999)}"  # noqa: E501 -- test data reads best on one line

    def gb_phone(self) -> str:
        return f"020 7946 {self.rng.randint(0, 999):04d}"

    def us_phone(self) -> str:
        return (
            f"({self.rng.choice(['212', '415', '312', '617'])}) 555-01{self.rng.randint(0, 99):02d}"
        )

    def pk_mobile(self, urdu: bool = False) -> str:
        number = f"03{self.rng.randint(0, 4)}{self.rng.randint(0, 9)}-{self.rng.randint(1000000, 9999999)}"  # noqa: E501 -- test data reads best on one line
        return number.translate(URDU_DIGITS) if urdu else number

    def iban(self, country: str = "CZ") -> str:
        if country == "CZ":
            bban = f"{self.rng.choice(['0800', '0100', '2010', '0300'])}{self.rng.randint(0, 10**16 - 1):016d}"  # noqa: E501 -- test data reads best on one line
        elif country == "DE":
            bban = f"{self.rng.randint(0, 10**18 - 1):018d}"
        else:
            bban = f"NWBK{self.rng.randint(0, 10**14 - 1):014d}"
        check = stdnum_iban.calc_check_digits(f"{country}00{bban}")
        compact = f"{country}{check}{bban}"
        return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))

    def card(self) -> str:
        prefix, length = self.rng.choice(
            [
                ("4", 16),
                ("51", 16),
                ("55", 16),
                ("2221", 16),
                ("2720", 16),
                ("2300", 16),
                ("34", 15),
                ("37", 15),
                ("6011", 16),
                ("4", 19),
                ("6200", 19),
                ("3530", 16),
            ]
        )
        body = prefix + "".join(
            str(self.rng.randint(0, 9)) for _ in range(length - len(prefix) - 1)
        )
        digits = body + luhn.calc_check_digit(body)
        if length == 15:
            return f"{digits[:4]} {digits[4:10]} {digits[10:]}"
        groups = [digits[i : i + 4] for i in range(0, len(digits), 4)]
        return self.rng.choice([" ", "-"]).join(groups)

    def birth_number(self, slashed: bool = True) -> str:
        while True:
            born = date(1954, 1, 1) + timedelta(days=self.rng.randint(0, 365 * 50))
            month = born.month + (50 if self.rng.random() < 0.5 else 0)
            head = f"{born.year % 100:02d}{month:02d}{born.day:02d}{self.rng.randint(0, 999):03d}"
            check = int(head) % 11
            if check == 10:
                continue
            number = head + str(check)
            if int(number) % 11 == 0:
                return f"{number[:6]}/{number[6:]}" if slashed else number

    def cnic(self, urdu: bool = False) -> str:
        value = f"{self.rng.randint(1, 7)}{self.rng.randint(0, 9999):04d}-{self.rng.randint(0, 9999999):07d}-{self.rng.randint(1, 9)}"  # noqa: E501 -- test data reads best on one line
        return value.translate(URDU_DIGITS) if urdu else value

    def dob(self) -> str:
        born = date(1950, 1, 1) + timedelta(days=self.rng.randint(0, 365 * 50))
        return self.rng.choice(
            [
                born.isoformat(),
                f"{born.day}. {born.month}. {born.year}",
                f"{born.day:02d}.{born.month:02d}.{born.year}",
            ]
        )

    def ip(self) -> str:
        if self.rng.random() < 0.7:
            return f"{self.rng.randint(11, 223)}.{self.rng.randint(0, 255)}.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"  # noqa: E501 -- test data reads best on one line
        return f"2001:db8:{self.rng.randint(0, 0xFFFF):x}::{self.rng.randint(1, 0xFFFF):x}"

    def negative(self) -> str:
        """Numbers that look a bit like personal data and are not."""
        return self.rng.choice(
            [
                f"order {self.rng.randint(10000, 99999)}",
                f"{self.rng.randint(1, 999)},{self.rng.randint(0, 99):02d} Kč",
                f"version {self.rng.randint(1, 9)}.{self.rng.randint(0, 20)}.{self.rng.randint(0, 9)}",  # noqa: E501 -- test data reads best on one line
                f"at {self.rng.randint(0, 23):02d}:{self.rng.randint(0, 59):02d}",
                f"on {self.rng.randint(1, 28)}. {self.rng.randint(1, 12)}. 2024",
                f"invoice {self.rng.randint(2020, 2025)}-{self.rng.randint(1, 9999):04d}",
                f"{self.rng.randint(1, 99)} %",
                f"tracking {self.rng.randint(10**11, 10**12 - 1)}X",
            ]
        )


Template = tuple[str, ...]  # alternating literal text and "{entity:generator}" slots

TEMPLATES: dict[str, list[str]] = {
    "en": [
        "Hi, please update the contact for the account: e-mail {EMAIL_ADDRESS:email}, phone {PHONE_NUMBER:intl_phone}.",  # noqa: E501 -- test data reads best on one line
        "The customer was born on {DATE_OF_BIRTH:dob} and pays by card {CREDIT_CARD:card}.",
        "Refund to IBAN {IBAN_CODE:iban} please, reference {NEG:negative}.",
        "Call me on {PHONE_NUMBER:gb_phone} or {PHONE_NUMBER:us_phone} after the meeting {NEG:negative}.",  # noqa: E501 -- test data reads best on one line
        "Login from {IP_ADDRESS:ip} flagged; the user's mail is {EMAIL_ADDRESS:email}.",
        "German office: IBAN {IBAN_CODE:iban_de}, tel. {PHONE_NUMBER:intl_phone}.",
        "Nothing personal here, just {NEG:negative} and {NEG:negative}.",
    ],
    "cs": [
        "Dobrý den, zákazník má rodné číslo {CZ_BIRTH_NUMBER:birth_number} a telefon {PHONE_NUMBER:cz_mobile}.",  # noqa: E501 -- test data reads best on one line
        "Platbu pošlete na účet {IBAN_CODE:iban}, e-mail pro fakturu {EMAIL_ADDRESS:email}.",
        "Klientka, narozena {DATE_OF_BIRTH:dob}, zaplatila kartou {CREDIT_CARD:card}.",
        "Zavolejte mu na číslo {PHONE_NUMBER:cz_mobile} nebo {PHONE_NUMBER:intl_phone}, objednávka {NEG:negative}.",  # noqa: E501 -- test data reads best on one line
        "Firma má IČO {CZ_ICO:ico} a DIČ {CZ_DIC:dic}; přihlášení z {IP_ADDRESS:ip}.",
        "Rodné číslo: {CZ_BIRTH_NUMBER:birth_number_plain}, částka {NEG:negative}.",
        "Schůzka {NEG:negative}, cena {NEG:negative}.",
    ],
    "ur": [
        "براہ کرم گاہک کا موبائل نمبر {PHONE_NUMBER:pk_mobile} اپ ڈیٹ کریں۔",
        "گاہک کا شناختی کارڈ نمبر {PK_CNIC:cnic} ہے اور ای میل {EMAIL_ADDRESS:email} ہے۔",
        "فون {PHONE_NUMBER:pk_mobile_urdu} پر رابطہ کریں، حوالہ {NEG:negative}۔",
        "قومی شناختی کارڈ: {PK_CNIC:cnic_urdu}، تاریخ پیدائش {DATE_OF_BIRTH:dob}۔",
        "ادائیگی کارڈ {CREDIT_CARD:card} سے ہوئی، آئی بین {IBAN_CODE:iban_gb}۔",
        "آج کی میٹنگ {NEG:negative} پر ہے۔",
    ],
}


def _generators(values: Values) -> dict[str, Callable[[], str]]:
    return {
        "email": values.email,
        "intl_phone": values.intl_phone,
        "gb_phone": values.gb_phone,
        "us_phone": values.us_phone,
        "cz_mobile": values.cz_mobile,
        "dob": values.dob,
        "card": values.card,
        "iban": values.iban,
        "iban_de": lambda: values.iban("DE"),
        "iban_gb": lambda: values.iban("GB"),
        "ip": values.ip,
        "negative": values.negative,
        "birth_number": values.birth_number,
        "birth_number_plain": lambda: values.birth_number(slashed=False),
        "pk_mobile": values.pk_mobile,
        "pk_mobile_urdu": lambda: values.pk_mobile(urdu=True),
        "cnic": values.cnic,
        "cnic_urdu": lambda: values.cnic(urdu=True),
        "ico": lambda: "25596641",
        "dic": lambda: "CZ25596641",
    }


def build_corpus(seed: int = 7, per_language: int = 120) -> list[Document]:
    values = Values(seed)
    generators = _generators(values)
    documents: list[Document] = []
    for language, templates in TEMPLATES.items():
        for _ in range(per_language):
            doc = Document(language)
            for template in values.rng.sample(templates, k=3):
                _fill(doc, template, generators)
                doc.add("\n")
            documents.append(doc)
    return documents


def _fill(doc: Document, template: str, generators: dict[str, Callable[[], str]]) -> None:
    rest = template
    while "{" in rest:
        before, _, slot = rest.partition("{")
        spec, _, rest = slot.partition("}")
        entity, _, generator = spec.partition(":")
        doc.add(before)
        doc.add(generators[generator](), None if entity == "NEG" else entity)
    doc.add(rest)
