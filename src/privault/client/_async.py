"""The asynchronous client: the same methods as ``Client``, awaited."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx

from privault.client import _calls
from privault.client._errors import raise_for_problem
from privault.client._models import Explanation, Record, ScanResult, Summary

DEFAULT_TIMEOUT = httpx.Timeout(30.0, read=300.0)


class AsyncExportStream:
    """Rows of an export as they arrive; ``summary`` is known before the first row."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.summary = Summary.from_headers(response.headers)

    async def __aiter__(self) -> AsyncIterator[Record]:
        try:
            async for line in self._response.aiter_lines():
                if line:
                    data = json.loads(line)
                    if "customer" in data:
                        customer = data.pop("customer")
                        yield Record(customer, data)
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        await self._response.aclose()

    async def __aenter__(self) -> AsyncExportStream:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()


class AsyncClient:
    """``AsyncClient(base_url, api_key)``: every call states a purpose and acts as the key's owner.

    Refusals raise ``privault.errors.AccessDenied`` whose ``decision.codes`` are the
    reason codes; ``lang`` picks the language of messages and explanations.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        lang: str = "en",
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}", "Accept-Language": lang},
            timeout=timeout,
            transport=transport,
        )

    async def _send(self, call: _calls.Call) -> Any:
        response = await self._http.request(
            call.method,
            call.path,
            params=dict(call.params),
            json=call.json,
            data=None if call.data is None else dict(call.data),
            files=None if call.files is None else dict(call.files),
        )
        raise_for_problem(response)
        return response.json() if response.status_code != 204 else None

    # -- access ----------------------------------------------------------------------

    async def read(self, customer: str, purpose: str, fields: Sequence[str]) -> Record:
        return Record.from_json(await self._send(_calls.read(customer, purpose, fields)))

    async def lookup(
        self, purpose: str, by: str, value: str, fields: Sequence[str]
    ) -> list[Record]:
        data = await self._send(_calls.lookup(purpose, by, value, fields))
        return [Record.from_json(item) for item in data["results"]]

    async def find(self, by: str, value: str) -> list[str]:
        """The public ids of the customers whose ``by`` (``email`` or ``phone``) is
        ``value``; compliance team only, audited as a lookup."""
        data = await self._send(_calls.find(by, value))
        return [str(item["customer"]) for item in data]

    async def _stream(self, call: _calls.Call) -> AsyncExportStream:
        request = self._http.build_request(call.method, call.path, json=call.json)
        response = await self._http.send(request, stream=True)
        if response.status_code >= 400:
            await response.aread()
            await response.aclose()
            raise_for_problem(response)
        return AsyncExportStream(response)

    async def export(self, purpose: str, fields: Sequence[str]) -> AsyncExportStream:
        return await self._stream(_calls.export(purpose, fields))

    async def share(self, purpose: str, fields: Sequence[str], recipient: str) -> AsyncExportStream:
        return await self._stream(_calls.export(purpose, fields, recipient))

    async def detokenize(self, purpose: str, token: str) -> str | None:
        value = (await self._send(_calls.detokenize(purpose, token)))["value"]
        return None if value is None else str(value)

    # -- customers -------------------------------------------------------------------

    async def create_customer(
        self, purpose: str, values: Mapping[str, str | None], *, language: str | None = None
    ) -> str:
        created = await self._send(_calls.create_customer(purpose, values, language))
        return str(created["customer"])

    async def update_customer(
        self, customer: str, purpose: str, values: Mapping[str, str | None]
    ) -> None:
        await self._send(_calls.update_customer(customer, purpose, values))

    async def delete_customer(self, customer: str, purpose: str) -> None:
        await self._send(_calls.delete_customer(customer, purpose))

    # -- policy, consent, audit ------------------------------------------------------------

    async def explain(
        self,
        purpose: str,
        fields: Sequence[str],
        *,
        action: str = "read",
        recipient: str | None = None,
        customers: int = 1,
        principal: str | None = None,
    ) -> Explanation:
        data = await self._send(
            _calls.explain(purpose, fields, action, recipient, customers, principal)
        )
        return Explanation(data["decision"], data["explanation"])

    async def scan(
        self,
        content: str | bytes,
        *,
        name: str = "text.txt",
        recipient: str | None = None,
        external: str | None = None,
        purpose: str | None = None,
        match: bool = True,
    ) -> ScanResult:
        """Scan text (``str``) or a file's bytes before sending it to ``recipient`` (a
        principal or registered recipient) or an ``external`` address, for ``purpose``;
        the caller is the sender.  The verdict is audited on the server."""
        call = _calls.scan(content, name, recipient, external, purpose, match)
        return ScanResult(await self._send(call))

    async def consent(self, customer: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._send(_calls.consent(customer, "show"))
        return result

    async def consent_proof(self, customer: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._send(_calls.consent(customer, "proof"))
        return result

    async def grant_consent(
        self,
        customer: str,
        purpose: str,
        *,
        recipient: str | None = None,
        channel: str = "api",
        notice_key: str | None = None,
        notice_version: int | None = None,
    ) -> dict[str, Any]:
        body = _calls.drop_none(
            purpose=purpose,
            recipient=recipient,
            channel=channel,
            notice_key=notice_key,
            notice_version=notice_version,
        )
        result: dict[str, Any] = await self._send(_calls.consent(customer, "grant", body))
        return result

    async def withdraw_consent(
        self, customer: str, purpose: str, *, recipient: str | None = None, channel: str = "api"
    ) -> dict[str, Any]:
        body = _calls.drop_none(purpose=purpose, recipient=recipient, channel=channel)
        result: dict[str, Any] = await self._send(_calls.consent(customer, "withdraw", body))
        return result

    async def object(self, customer: str, purpose: str, *, channel: str = "api") -> dict[str, Any]:
        body = {"purpose": purpose, "channel": channel}
        result: dict[str, Any] = await self._send(_calls.consent(customer, "object", body))
        return result

    async def restrict(self, customer: str, *, channel: str = "api") -> dict[str, Any]:
        result: dict[str, Any] = await self._send(
            _calls.consent(customer, "restrict", {"channel": channel})
        )
        return result

    async def verify_audit(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._send(_calls.verify_audit())
        return result

    # -- lifetime --------------------------------------------------------------------

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
