"""Pakistan."""

from privault.scan.recognizers.pk.identifiers import CnicRecognizer, PkMobileRecognizer

__all__ = ["CnicRecognizer", "PkMobileRecognizer"]
