"""Egress scanner: finds personal data in what leaves, and which of it is our customers'.

    scanner = Scanner(default_registry(), matcher=ExactMatcher(CustomerIndex(source), keyring))
    report = scan_paths([Path("export.csv")], scanner, recipient=Recipient(address="x@gmail.com"),
                        policy=vault.egress, asker="jana.dvorakova", purpose="...")
    report.verdict.decision   # "block"
    report.matches.customers  # how many of our customers are in it

Recognisers are presidio-style classes (``scan.recognizers``), filed under
``generic``, ``cz`` and ``pk``.  Findings never carry the matched value.
"""

from privault.scan.engine import Scanner
from privault.scan.formats import Limits
from privault.scan.matching import (
    DEFAULT_FIELD_KINDS,
    Blinder,
    CustomerIndex,
    DigestTable,
    ExactMatcher,
    IndexSource,
    MatchTally,
)
from privault.scan.model import (
    CustomerMatches,
    Decision,
    FileReport,
    Finding,
    Problem,
    Reason,
    ScanReport,
    Verdict,
)
from privault.scan.recognizers import (
    Pattern,
    Recognizer,
    Registry,
    country_recognizers,
    default_registry,
    generic_recognizers,
)
from privault.scan.service import scan_paths, scan_stream
from privault.scan.verdict import (
    Action,
    BlockHandler,
    CustomerRuling,
    EgressPolicy,
    EgressVerdict,
    FieldRuling,
    Narrow,
    Recipient,
    RecipientDirectory,
    RecipientKind,
    Ruling,
    Unruled,
    decide,
)
from privault.store.tables import IndexRow

__all__ = [
    "DEFAULT_FIELD_KINDS",
    "Action",
    "Blinder",
    "BlockHandler",
    "CustomerIndex",
    "CustomerMatches",
    "CustomerRuling",
    "Decision",
    "DigestTable",
    "EgressPolicy",
    "EgressVerdict",
    "ExactMatcher",
    "FieldRuling",
    "FileReport",
    "Finding",
    "IndexRow",
    "IndexSource",
    "Limits",
    "MatchTally",
    "Narrow",
    "Pattern",
    "Problem",
    "Reason",
    "Recipient",
    "RecipientDirectory",
    "RecipientKind",
    "Recognizer",
    "Registry",
    "Ruling",
    "ScanReport",
    "Scanner",
    "Unruled",
    "Verdict",
    "country_recognizers",
    "decide",
    "default_registry",
    "generic_recognizers",
    "scan_paths",
    "scan_stream",
]
