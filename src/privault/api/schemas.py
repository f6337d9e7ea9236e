"""Request and response bodies of the REST API (``/api/v1``): the one home of each.

Inputs are strict (unknown members are refused, names and keys have patterns and
bounds) so that a malformed request is a 422 before any library call.  Outputs carry
pseudonymous customer ids (``cus_...``), names and codes; customer values appear only
in the answers of reads, lookups, detokenizations and exports, in their views.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Purpose = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$", max_length=128)
]
Name = Annotated[str, StringConstraints(pattern=r"^[^\W_][\w.@-]{0,127}$")]
PublicId = Annotated[str, StringConstraints(pattern=r"^cus_[0-9a-f]{16}$")]
Channel = Literal["web", "phone", "paper", "api", "import"]
Fields = Annotated[list[FieldName], Field(min_length=1, max_length=64)]
Value = Annotated[str, StringConstraints(max_length=4096)]

CUSTOMER_EXAMPLE = "cus_3f9a1c0d5e7b2a64"
SUMMARY_EXAMPLE: dict[str, Any] = {
    "effect": "partial",
    "policy": "2026-12-01@1a2b3c4d5e6f",
    "views": {"email": "plain", "date_of_birth": "masked"},
    "denied": {"iban": ["no_business_need"]},
    "included": 1,
    "excluded": {},
    "audit_seq": 4242,
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FindIn(Strict):
    """One searchable value: ``email`` or ``phone`` (in the body, never in a URL)."""

    email: Value | None = None
    phone: Value | None = None


class FoundOut(BaseModel):
    customer: PublicId


# -- answers -----------------------------------------------------------------------------


class SummaryOut(BaseModel):
    """The decision behind an answer: the view per field released, the reasons per
    field refused, and for many customers how many were included or left out, why."""

    model_config = ConfigDict(json_schema_extra={"examples": [SUMMARY_EXAMPLE]})
    effect: str
    policy: str
    views: dict[str, str]
    denied: dict[str, list[str]]
    included: int
    excluded: dict[str, int]
    audit_seq: int


class RecordOut(BaseModel):
    """One customer: the pseudonymous id, and each released field in its view."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer": CUSTOMER_EXAMPLE,
                    "values": {"email": "jana@example.com", "date_of_birth": "1984-**-**"},
                    "summary": SUMMARY_EXAMPLE,
                }
            ]
        }
    )
    customer: str
    values: dict[str, str | None]
    summary: SummaryOut


class LookupOut(BaseModel):
    results: list[RecordOut]


class DetokenizeOut(BaseModel):
    customer: str
    field: str
    value: str | None
    summary: SummaryOut


class CustomerCreatedOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"customer": CUSTOMER_EXAMPLE, "language": "cs"}]}
    )
    customer: str
    language: str


# -- reads and exports ---------------------------------------------------------------------


class LookupIn(Strict):
    """Find customers by a searchable field.  The value travels in the body, never in
    the URL, so it stays out of access logs."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "purpose": "essential.service.operations.support",
                    "by": "email",
                    "value": "jana@example.com",
                    "fields": ["first_name", "phone"],
                }
            ]
        },
    )
    purpose: Purpose
    by: FieldName
    value: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    fields: Fields


class ExportIn(Strict):
    """Many customers at once, streamed.  The policy's condition (consent, objection,
    restriction) runs inside the database query; the summary is in the response headers
    ``X-Privault-Included`` and ``X-Privault-Excluded`` (JSON), and with
    ``summary_line`` also as a last JSON Lines record ``{"summary": ...}``."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "purpose": "marketing.communications.email",
                    "fields": ["first_name", "email"],
                    "format": "csv",
                }
            ]
        },
    )
    purpose: Purpose
    fields: Fields
    format: Literal["csv", "jsonl"] = "jsonl"
    summary_line: bool = False


class ShareIn(ExportIn):
    """An export handed over to ``recipient``: another principal (whose roles count too)
    or a registered external recipient (each customer's sharing consent is needed)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "purpose": "essential.service.operations",
                    "fields": ["first_name", "last_name", "city"],
                    "recipient": "parcelfast",
                    "format": "jsonl",
                }
            ]
        },
    )
    recipient: Name


class DetokenizeIn(Strict):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [{"purpose": "essential.service.operations.support", "token": "tok_AbC..."}]
        },
    )
    purpose: Purpose
    token: Annotated[str, StringConstraints(min_length=5, max_length=512)]


# -- writes ------------------------------------------------------------------------------


class CustomerIn(Strict):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "purpose": "essential.service.operations.support",
                    "values": {"first_name": "Jana", "email": "jana@example.com"},
                    "language": "cs",
                }
            ]
        },
    )
    purpose: Purpose
    values: Annotated[dict[FieldName, Value | None], Field(min_length=1, max_length=64)]
    language: Literal["en", "cs", "ur"] | None = None


class CustomerUpdateIn(Strict):
    purpose: Purpose
    values: Annotated[dict[FieldName, Value | None], Field(min_length=1, max_length=64)]


# -- consent -----------------------------------------------------------------------------


class GrantIn(Strict):
    """Record a customer's consent, given through another channel (phone, paper...).
    The notice the customer was shown is ``notice_key``/``notice_version``, or else the
    current notice covering the purpose."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {"purpose": "marketing.communications.email", "channel": "phone"},
                {"purpose": "third_party_sharing", "recipient": "parcelfast", "channel": "paper"},
            ]
        },
    )
    purpose: Purpose
    recipient: Name | None = None
    notice_key: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")] | None = (
        None
    )
    notice_version: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    channel: Channel = "api"
    evidence: Annotated[str, StringConstraints(max_length=10_000)] | None = None


class WithdrawIn(Strict):
    purpose: Purpose
    recipient: Name | None = None
    channel: Channel = "api"


class ObjectIn(Strict):
    purpose: Purpose
    channel: Channel = "api"
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class RestrictIn(Strict):
    channel: Channel = "api"
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class ConsentEventOut(BaseModel):
    event_id: int
    action: str
    purpose: str
    recipient: str | None
    channel: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    evidence_hash: str
    notice_key: str | None
    notice_version: int | None


class ConsentDecisionOut(BaseModel):
    purpose: str
    recipient: str | None
    status: str
    active: bool
    decided_at: datetime
    expires_at: datetime | None


class ObjectionOut(BaseModel):
    purpose: str
    channel: str
    recorded_at: datetime
    lifted_at: datetime | None


class RestrictionOut(BaseModel):
    channel: str
    recorded_at: datetime
    lifted_at: datetime | None


class ConsentStateOut(BaseModel):
    customer: str
    at: datetime
    restricted: bool
    decisions: list[ConsentDecisionOut]
    objections: list[ObjectionOut]
    restrictions: list[RestrictionOut]


class ProofOut(BaseModel):
    customer: str
    events: list[ConsentEventOut]
    objections: list[ObjectionOut]
    restrictions: list[RestrictionOut]


class LiftedOut(BaseModel):
    lifted: int


# -- policy, audit, principals ---------------------------------------------------------------


class ExplainIn(Strict):
    """A decision without data: for the caller itself, or (compliance) for any principal."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "purpose": "marketing.communications.email",
                    "fields": ["email"],
                    "action": "export",
                    "customers": 12000,
                },
                {
                    "principal": "jana.dvorakova",
                    "purpose": "marketing.communications.email",
                    "fields": ["email"],
                    "action": "export",
                },
            ]
        },
    )
    principal: Name | None = None
    purpose: Purpose
    fields: Fields
    action: Literal["read", "export", "share", "write", "delete"] = "read"
    recipient: Name | None = None
    customers: Annotated[int, Field(ge=1, le=1_000_000_000)] = 1
    approved: bool = False


class ExplainOut(BaseModel):
    """``decision``: machine form (effect, codes, rules, per field view/condition/reasons);
    ``explanation``: the same in words, in the negotiated language."""

    decision: dict[str, Any]
    explanation: dict[str, Any]


class VerifyOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ok": True,
                    "entries": 1200,
                    "last_seq": 1200,
                    "head_hash": "9f2c...",
                    "checkpoints": 1,
                    "last_checkpoint": 1000,
                    "public_keys": ["a1b2..."],
                    "problem": None,
                    "detail": "",
                }
            ]
        }
    )
    ok: bool
    entries: int
    last_seq: int
    head_hash: str
    checkpoints: int
    last_checkpoint: int | None
    public_keys: list[str]
    problem: dict[str, Any] | None
    detail: str


class KeyOut(BaseModel):
    key_id: str
    principal: str
    created_at: datetime
    revoked_at: datetime | None


class PrincipalOut(BaseModel):
    name: str
    roles: list[str]
    internal: bool
    kind: str
    organisation: str | None
    admin: bool
    keys: list[KeyOut]


class PrincipalsPage(BaseModel):
    """One page; pass ``next_after`` as ``after`` for the next (null at the end)."""

    items: list[PrincipalOut]
    next_after: str | None


class PrincipalIn(Strict):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [{"name": "eva.novak", "roles": ["customer_service"], "kind": "person"}]
        },
    )
    name: Name
    roles: Annotated[list[Name], Field(min_length=1, max_length=32)]
    external: bool = False
    organisation: Name | None = None
    kind: Literal["person", "service"] = "person"


class IssuedKeyOut(BaseModel):
    """The new API key: shown once, only its hash is stored."""

    principal: str
    key_id: str
    api_key: str


class AuditEntryOut(BaseModel):
    seq: int
    entry: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_before: int | None


# -- egress scan (POST /api/v1/scan) -------------------------------------------------

SCAN_TEXT_MAX: int = 900_000  # below the API's body limit; larger files: multipart


class ScanIn(Strict):
    """Text to scan before it leaves, and who would receive it for what.

    Name the recipient (a principal or a registered recipient) or give an external
    address; an unknown recipient is external.  Without ``purpose`` customer data is
    blocked.  ``match: false`` skips the exact match against our customers."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "text": "name,email\n...",
                    "name": "list.csv",
                    "recipient": "tomas.kral",
                    "purpose": "essential.service.operations.support",
                }
            ]
        },
    )
    text: Annotated[str, StringConstraints(max_length=SCAN_TEXT_MAX)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)] = "text.txt"
    recipient: Name | None = None
    external: Annotated[str, StringConstraints(min_length=3, max_length=320)] | None = None
    purpose: Purpose | None = None
    match: bool = True


class ScanFieldsIn(Strict):
    """The form fields of a multipart scan (the file is the ``file`` part)."""

    recipient: Name | None = None
    external: Annotated[str, StringConstraints(min_length=3, max_length=320)] | None = None
    purpose: Purpose | None = None
    match: bool = True


class ScanMessageOut(BaseModel):
    code: str
    message: str


class ScanRecipientOut(BaseModel):
    name: str
    kind: Literal["self", "subject", "internal", "partner", "external"]
    basis: str | None
    country: str | None


class ScanFieldOut(BaseModel):
    field: str
    allowed: bool
    view: str | None
    customers_allowed: int
    customers_denied: int
    reasons: list[ScanMessageOut]


class ScanCustomerOut(BaseModel):
    customer: str
    allow: list[str]
    deny: dict[str, str]


class ScanNarrowOut(BaseModel):
    customers: int
    customer_ids: list[str]
    fields: list[str]
    customers_withheld: int


class FieldExplanationOut(BaseModel):
    field: str
    headline: str
    conditional: bool
    reasons: list[str]


class ExplanationOut(BaseModel):
    """The policy decision in the asker's language (``Accept-Language``)."""

    lang: str
    direction: Literal["ltr", "rtl"]
    request: str
    summary: str
    notes: list[str]
    fields: list[FieldExplanationOut]


class VerdictOut(BaseModel):
    """``allow``, ``redact`` (part may leave: ``narrow``) or ``block``, with the policy's
    reasons per field and per customer (public ids only), and the ways forward."""

    decision: Literal["allow", "redact", "block"]
    reasons: list[ScanMessageOut]
    asker: str | None
    purpose: str | None
    recipient: ScanRecipientOut
    policy: str
    fields: list[ScanFieldOut]
    customers: list[ScanCustomerOut]
    customers_not_listed: int
    narrow: ScanNarrowOut | None
    actions: list[ScanMessageOut]
    explanation: ExplanationOut | None
    possible_personal_data_weak: int
    audit_seq: int


class OurCustomersOut(BaseModel):
    customers: int
    by_field: dict[str, int]
    by_strength: dict[str, int]


class ScanFindingOut(BaseModel):
    entity: str
    start: int
    end: int
    score: float
    explanation: str
    recognizer: str
    where: str
    customer_match: bool


class ScanFileOut(BaseModel):
    path: str
    format: str
    counts: dict[str, int]
    columns: dict[str, str]
    problems: list[ScanMessageOut]
    findings: list[ScanFindingOut]
    findings_not_listed: int


class ScanOut(BaseModel):
    """The same report ``privault scan --json`` prints: never a scanned value."""

    verdict: VerdictOut
    counts: dict[str, int]
    our_customers: OurCustomersOut
    files: list[ScanFileOut]
