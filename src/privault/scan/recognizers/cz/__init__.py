"""Czech Republic."""

from privault.scan.recognizers.cz.banking import CzBankAccountRecognizer, CzPhoneRecognizer
from privault.scan.recognizers.cz.identifiers import (
    BirthNumberRecognizer,
    DicRecognizer,
    IcoRecognizer,
)

__all__ = [
    "BirthNumberRecognizer",
    "CzBankAccountRecognizer",
    "CzPhoneRecognizer",
    "DicRecognizer",
    "IcoRecognizer",
]
