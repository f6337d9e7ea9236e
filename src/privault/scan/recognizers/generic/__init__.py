"""Recognisers that apply whatever the country."""

from privault.scan.recognizers.generic.contact import EmailRecognizer, PhoneRecognizer
from privault.scan.recognizers.generic.dates import DateOfBirthRecognizer
from privault.scan.recognizers.generic.financial import CardRecognizer, IbanRecognizer
from privault.scan.recognizers.generic.network import IpRecognizer

__all__ = [
    "CardRecognizer",
    "DateOfBirthRecognizer",
    "EmailRecognizer",
    "IbanRecognizer",
    "IpRecognizer",
    "PhoneRecognizer",
]
