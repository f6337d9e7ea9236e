"""Egress scanning over HTTP: ``POST /api/v1/scan`` with JSON text or a file upload.

The caller is the asker; the verdict is the same object ``privault scan --json`` prints,
decided through the gate's policy and the consent ledger (``vault.egress``) and recorded
in the audit trail before it is returned.  Malformed input is a 4xx problem, never 500.
"""

from __future__ import annotations

import io
import json
from typing import Any, Final, TypeVar

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from privault.api.limits import offload
from privault.api.schemas import ScanFieldsIn, ScanIn, ScanOut
from privault.api.services import ApiServices, CallerDep, Lang, Services
from privault.errors import N_, InvalidInput
from privault.scan import Recipient, scan_stream

router = APIRouter(tags=["scan"])

FORM_FIELDS: Final = ("recipient", "external", "purpose", "match")
_BODY_SCHEMA: Final[dict[str, Any]] = {
    "required": True,
    "content": {
        "application/json": {"schema": ScanIn.model_json_schema()},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "recipient": {"type": "string"},
                    "external": {"type": "string"},
                    "purpose": {"type": "string"},
                    "match": {"type": "boolean", "default": True},
                },
            }
        },
    },
}


M = TypeVar("M", bound=BaseModel)


def _validated(model: type[M], data: object) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None


def _scan(
    api: ApiServices,
    asker: str,
    name: str,
    data: bytes,
    fields: ScanFieldsIn,
    lang: str,
) -> dict[str, Any]:
    if fields.recipient and fields.external:
        raise InvalidInput(N_("Give either --recipient or --external, not both."))
    target = (
        Recipient(name=fields.recipient)
        if fields.recipient
        else Recipient(address=fields.external)
        if fields.external
        else None
    )
    vault = api.vault
    with api.scan_lock:
        scanner = vault.live_scanner() if fields.match else vault.plain_scanner
        report = scan_stream(
            name,
            io.BytesIO(data),
            scanner,
            recipient=target,
            purpose=fields.purpose,
            policy=vault.egress,
            asker=asker,
            block_handlers=[vault.block_handler(asker)],
        )
    return report.to_dict(lang)


@router.post(
    "/scan",
    response_model=ScanOut,
    summary="Scan text or a file before it leaves, and decide whether it may go",
    openapi_extra={"requestBody": _BODY_SCHEMA},
    responses={
        413: {"description": "The body is over the server's limit (problem+json)."},
    },
)
async def scan(api: Services, who: CallerDep, request: Request, lang: Lang) -> dict[str, Any]:
    """``allow``, ``redact`` (the releasable part under ``verdict.narrow``) or ``block``:
    the customers and fields found are put to the same decision a read gets, for the
    caller, this recipient and this purpose.  The verdict is audited (counts, names and
    codes; never content) before it is returned; a block opens an incident."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=len(FORM_FIELDS))
        try:  # the upload's temporary file is closed whatever happens
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise InvalidInput(N_("Upload the file to scan as the form part 'file'."))
            data = await upload.read()
            name = upload.filename or "upload"
            values = {k: v for k in FORM_FIELDS if isinstance(v := form.get(k), str) and v}
            fields = _validated(ScanFieldsIn, values)
        finally:
            await form.close()
    elif media == "application/json" or media.endswith("+json"):
        raw = await request.body()
        try:
            parsed = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput(N_("The request body is not valid JSON.")) from None
        body = _validated(ScanIn, parsed)
        data, name = body.text.encode("utf-8"), body.name
        fields = ScanFieldsIn(
            recipient=body.recipient,
            external=body.external,
            purpose=body.purpose,
            match=body.match,
        )
    else:
        raise InvalidInput(N_("Send JSON or a multipart/form-data upload with a 'file' part."))
    return await offload(api.request_timeout, _scan, api, who.principal, name, data, fields, lang)
