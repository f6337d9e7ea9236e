"""Reads, look-ups, exports, hand-overs and detokenization: all through the access gate.

Every endpoint states a purpose; the gate decides, records the decision in the audit
trail and only then decrypts the fields allowed.  Exports stream (CSV or JSON Lines)
from a server-side cursor; their summary -- how many customers were included and how
many were left out for which reason -- is final before the first row and travels in
the response headers.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Final

import anyio
from fastapi import APIRouter, Path, Query
from fastapi.responses import Response, StreamingResponse

from privault.access.gate import ExportResult, Summary
from privault.access.rows import Record
from privault.api.limits import offload
from privault.api.schemas import (
    DetokenizeIn,
    DetokenizeOut,
    ExportIn,
    LookupIn,
    LookupOut,
    RecordOut,
    ShareIn,
    SummaryOut,
)
from privault.api.services import CallerDep, Services

router = APIRouter(tags=["access"])

ROWS_PER_CHUNK: Final[int] = 2000
FIELDS_PATTERN: Final = r"^[a-z][a-z0-9_]{0,63}(,[a-z][a-z0-9_]{0,63}){0,63}$"
PURPOSE_PATTERN: Final = r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$"
PUBLIC_ID_PATTERN: Final = r"^cus_[0-9a-f]{16}$"
PURPOSE_MAX_LENGTH: Final = 128
FIELDS_MAX_LENGTH: Final = 4200
MEDIA: Final = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}

CustomerPath = Annotated[
    str, Path(pattern=PUBLIC_ID_PATTERN, description="The customer's public id (cus_...).")
]
PurposeQuery = Annotated[
    str,
    Query(
        pattern=PURPOSE_PATTERN,
        max_length=PURPOSE_MAX_LENGTH,
        description="Why you need the data: a purpose declared in the policy.",
        examples=["essential.service.operations.support"],
    ),
]
FieldsQuery = Annotated[
    str,
    Query(
        pattern=FIELDS_PATTERN,
        max_length=FIELDS_MAX_LENGTH,
        description="Comma-separated field names.",
        examples=["first_name,email"],
    ),
]


def summary_out(summary: Summary) -> SummaryOut:
    return SummaryOut.model_validate(summary.as_dict())


def record_out(record: Record, summary: Summary) -> RecordOut:
    return RecordOut(
        customer=record.customer, values=dict(record.values), summary=summary_out(summary)
    )


def record_response(record: Record, summary: Summary) -> Response:
    """``RecordOut`` as JSON, written directly: the hottest endpoint skips building and
    re-validating a pydantic model for a shape the gate already guarantees
    (the authorisation matrix test checks every answer is exactly a ``RecordOut``)."""
    body = {
        "customer": record.customer,
        "values": dict(record.values),
        "summary": summary.as_dict(),
    }
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        media_type="application/json",
    )


@router.get(
    "/customers/{customer}",
    response_model=RecordOut,
    summary="Read one customer's fields for a purpose",
    # Well-formed requests with a recently accepted key are answered by
    # ``privault.api.direct.DirectRead`` with this same function's parts.
    responses={403: {"description": "Refused by policy (problem+json with reasons)."}},
)
async def read_customer(
    api: Services,
    who: CallerDep,
    customer: CustomerPath,
    purpose: PurposeQuery,
    fields: FieldsQuery,
) -> Response:
    names = list(dict.fromkeys(fields.split(",")))
    result = await api.read(who.principal, purpose, customer, names)
    return record_response(result.record, result.summary)


@router.post("/customers/lookup", response_model=LookupOut, summary="Find customers by a field")
async def lookup(api: Services, who: CallerDep, body: LookupIn) -> LookupOut:
    results = await offload(
        api.request_timeout,
        api.gate.lookup,
        who.principal,
        body.purpose,
        body.by,
        body.value,
        list(dict.fromkeys(body.fields)),
    )
    return LookupOut(results=[record_out(r.record, r.summary) for r in results])


@router.post(
    "/detokenize", response_model=DetokenizeOut, summary="Turn a token back into its value"
)
async def detokenize(api: Services, who: CallerDep, body: DetokenizeIn) -> DetokenizeOut:
    result = await offload(
        api.request_timeout, api.gate.detokenize, who.principal, body.purpose, body.token
    )
    ((name, value),) = result.record.values.items()
    return DetokenizeOut(
        customer=result.record.customer,
        field=name,
        value=value,
        summary=summary_out(result.summary),
    )


def _headers(summary: Summary) -> dict[str, str]:
    def compact(value: object) -> str:
        return json.dumps(value, separators=(",", ":"), sort_keys=True)

    return {
        "X-Privault-Effect": summary.effect,
        "X-Privault-Policy": summary.policy,
        "X-Privault-Included": str(summary.included),
        "X-Privault-Excluded": compact(dict(summary.excluded)),
        "X-Privault-Views": compact(dict(summary.views)),
        "X-Privault-Denied": compact({k: list(v) for k, v in summary.denied.items()}),
        "X-Privault-Audit-Seq": str(summary.audit_seq),
        "Cache-Control": "no-store",
    }


class _Encoder:
    """Rows to bytes, a chunk at a time, in the chosen format."""

    def __init__(self, result: ExportResult, fmt: str, summary_line: bool) -> None:
        self.rows: Iterator[Record] = result.rows
        self.fields = result.fields
        self.fmt = fmt
        self.summary = result.summary if summary_line and fmt == "jsonl" else None
        self.started = False
        self.done = False

    def next_chunk(self) -> bytes | None:
        if self.done:
            return None
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n") if self.fmt == "csv" else None
        if not self.started:
            self.started = True
            if writer is not None:
                writer.writerow(["customer", *self.fields])
        dumps = json.dumps
        for count, record in enumerate(self.rows, 1):
            values = record.values
            if writer is not None:
                writer.writerow([record.customer, *(values.get(f) or "" for f in self.fields)])
            else:
                out.write(dumps({"customer": record.customer, **values}, ensure_ascii=False))
                out.write("\n")
            if count >= ROWS_PER_CHUNK:
                return out.getvalue().encode()
        self.done = True
        if self.summary is not None:
            out.write(dumps({"summary": self.summary.as_dict()}, ensure_ascii=False) + "\n")
        text = out.getvalue()
        return text.encode() if text else None

    def close(self) -> None:
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()


async def _stream(encoder: _Encoder) -> AsyncIterator[bytes]:
    try:
        while True:
            chunk = await anyio.to_thread.run_sync(encoder.next_chunk)
            if chunk is None:
                return
            yield chunk
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(encoder.close)


def _streamed(result: ExportResult, body: ExportIn) -> StreamingResponse:
    encoder = _Encoder(result, body.format, body.summary_line)
    return StreamingResponse(
        _stream(encoder), media_type=MEDIA[body.format], headers=_headers(result.summary)
    )


EXPORT_RESPONSES: Final[dict[int | str, dict[str, object]]] = {
    200: {
        "description": "The rows, streamed; the summary is in the X-Privault-* headers.",
        "content": {"text/csv": {}, "application/x-ndjson": {}},
    },
    403: {"description": "Refused by policy (problem+json with reasons and explanation)."},
}


@router.post("/exports", summary="Export many customers (streamed)", responses=EXPORT_RESPONSES)
async def export(api: Services, who: CallerDep, body: ExportIn) -> StreamingResponse:
    result = await offload(
        api.request_timeout,
        api.gate.export,
        who.principal,
        body.purpose,
        list(dict.fromkeys(body.fields)),
    )
    return _streamed(result, body)


@router.post(
    "/shares", summary="Hand customers' data over to a recipient", responses=EXPORT_RESPONSES
)
async def share(api: Services, who: CallerDep, body: ShareIn) -> StreamingResponse:
    result = await offload(
        api.request_timeout,
        api.gate.export,
        who.principal,
        body.purpose,
        list(dict.fromkeys(body.fields)),
        recipient=body.recipient,
        action="share",
    )
    return _streamed(result, body)
