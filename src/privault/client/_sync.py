"""The synchronous client."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx

from privault.client import _calls
from privault.client._errors import raise_for_problem
from privault.client._models import Explanation, Record, ScanResult, Summary

DEFAULT_TIMEOUT = httpx.Timeout(30.0, read=300.0)


class ExportStream:
    """Rows of an export as they arrive; ``summary`` is known before the first row."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.summary = Summary.from_headers(response.headers)

    def __iter__(self) -> Iterator[Record]:
        try:
            for line in self._response.iter_lines():
                if line:
                    data = json.loads(line)
                    if "customer" in data:
                        customer = data.pop("customer")
                        yield Record(customer, data)
        finally:
            self.close()

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> ExportStream:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class Client:
    """``Client(base_url, api_key)``: every call states a purpose and acts as the key's owner.

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
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}", "Accept-Language": lang},
            timeout=timeout,
            transport=transport,
        )

    def _send(self, call: _calls.Call) -> Any:
        response = self._http.request(
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

    def read(self, customer: str, purpose: str, fields: Sequence[str]) -> Record:
        return Record.from_json(self._send(_calls.read(customer, purpose, fields)))

    def lookup(self, purpose: str, by: str, value: str, fields: Sequence[str]) -> list[Record]:
        data = self._send(_calls.lookup(purpose, by, value, fields))
        return [Record.from_json(item) for item in data["results"]]

    def find(self, by: str, value: str) -> list[str]:
        """The public ids of the customers whose ``by`` (``email`` or ``phone``) is
        ``value``; compliance team only, audited as a lookup."""
        data = self._send(_calls.find(by, value))
        return [str(item["customer"]) for item in data]

    def _stream(self, call: _calls.Call) -> ExportStream:
        request = self._http.build_request(call.method, call.path, json=call.json)
        response = self._http.send(request, stream=True)
        if response.status_code >= 400:
            response.read()
            response.close()
            raise_for_problem(response)
        return ExportStream(response)

    def export(self, purpose: str, fields: Sequence[str]) -> ExportStream:
        return self._stream(_calls.export(purpose, fields))

    def share(self, purpose: str, fields: Sequence[str], recipient: str) -> ExportStream:
        return self._stream(_calls.export(purpose, fields, recipient))

    def detokenize(self, purpose: str, token: str) -> str | None:
        value = self._send(_calls.detokenize(purpose, token))["value"]
        return None if value is None else str(value)

    # -- customers -------------------------------------------------------------------

    def create_customer(
        self, purpose: str, values: Mapping[str, str | None], *, language: str | None = None
    ) -> str:
        return str(self._send(_calls.create_customer(purpose, values, language))["customer"])

    def update_customer(
        self, customer: str, purpose: str, values: Mapping[str, str | None]
    ) -> None:
        self._send(_calls.update_customer(customer, purpose, values))

    def delete_customer(self, customer: str, purpose: str) -> None:
        self._send(_calls.delete_customer(customer, purpose))

    # -- policy, consent, audit ------------------------------------------------------------

    def explain(
        self,
        purpose: str,
        fields: Sequence[str],
        *,
        action: str = "read",
        recipient: str | None = None,
        customers: int = 1,
        principal: str | None = None,
    ) -> Explanation:
        data = self._send(_calls.explain(purpose, fields, action, recipient, customers, principal))
        return Explanation(data["decision"], data["explanation"])

    def scan(
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
        return ScanResult(self._send(call))

    def consent(self, customer: str) -> dict[str, Any]:
        result: dict[str, Any] = self._send(_calls.consent(customer, "show"))
        return result

    def consent_proof(self, customer: str) -> dict[str, Any]:
        result: dict[str, Any] = self._send(_calls.consent(customer, "proof"))
        return result

    def grant_consent(
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
        result: dict[str, Any] = self._send(_calls.consent(customer, "grant", body))
        return result

    def withdraw_consent(
        self, customer: str, purpose: str, *, recipient: str | None = None, channel: str = "api"
    ) -> dict[str, Any]:
        body = _calls.drop_none(purpose=purpose, recipient=recipient, channel=channel)
        result: dict[str, Any] = self._send(_calls.consent(customer, "withdraw", body))
        return result

    def object(self, customer: str, purpose: str, *, channel: str = "api") -> dict[str, Any]:
        body = {"purpose": purpose, "channel": channel}
        result: dict[str, Any] = self._send(_calls.consent(customer, "object", body))
        return result

    def restrict(self, customer: str, *, channel: str = "api") -> dict[str, Any]:
        result: dict[str, Any] = self._send(
            _calls.consent(customer, "restrict", {"channel": channel})
        )
        return result

    def verify_audit(self) -> dict[str, Any]:
        result: dict[str, Any] = self._send(_calls.verify_audit())
        return result

    # -- lifetime --------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
