"""The privault Python client, for applications: ``Client`` (sync) and ``AsyncClient``.

    from privault.client import Client
    with Client("https://vault.example", api_key) as vault:
        record = vault.read("cus_...", "essential.service.operations.support", ["email"])
        for row in vault.export("marketing.communications.email", ["first_name", "email"]):
            ...

Every call states a purpose and acts as the owner of the API key.  Failures raise
``privault.errors`` exceptions (see ``privault.client._errors``); a refusal is
``AccessDenied`` whose ``decision`` is a ``RemoteDecision`` with the reason codes and
the explanation in the language asked for (``lang=``).
"""

from privault.client._async import AsyncClient, AsyncExportStream
from privault.client._errors import RemoteDecision
from privault.client._models import Explanation, Record, ScanResult, Summary
from privault.client._sync import Client, ExportStream

__all__ = [
    "AsyncClient",
    "AsyncExportStream",
    "Client",
    "Explanation",
    "ExportStream",
    "Record",
    "RemoteDecision",
    "ScanResult",
    "Summary",
]
