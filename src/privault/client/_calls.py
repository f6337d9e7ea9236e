"""Each API operation as a plain request description, shared by both clients."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PREFIX = "/api/v1"


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    # A multipart upload: form fields and one file (name, content).
    data: Mapping[str, str] | None = None
    files: Mapping[str, tuple[str, bytes]] | None = None


def read(customer: str, purpose: str, fields: Sequence[str]) -> Call:
    return Call(
        "GET", f"{PREFIX}/customers/{customer}", {"purpose": purpose, "fields": ",".join(fields)}
    )


def lookup(purpose: str, by: str, value: str, fields: Sequence[str]) -> Call:
    body = {"purpose": purpose, "by": by, "value": value, "fields": list(fields)}
    return Call("POST", f"{PREFIX}/customers/lookup", json=body)


def find(by: str, value: str) -> Call:
    return Call("POST", f"{PREFIX}/customers/find", json={by: value})


def export(purpose: str, fields: Sequence[str], recipient: str | None = None) -> Call:
    body: dict[str, Any] = {"purpose": purpose, "fields": list(fields), "format": "jsonl"}
    if recipient is None:
        return Call("POST", f"{PREFIX}/exports", json=body)
    return Call("POST", f"{PREFIX}/shares", json={**body, "recipient": recipient})


def detokenize(purpose: str, token: str) -> Call:
    return Call("POST", f"{PREFIX}/detokenize", json={"purpose": purpose, "token": token})


def create_customer(purpose: str, values: Mapping[str, str | None], language: str | None) -> Call:
    body: dict[str, Any] = {"purpose": purpose, "values": dict(values)}
    if language is not None:
        body["language"] = language
    return Call("POST", f"{PREFIX}/customers", json=body)


def update_customer(customer: str, purpose: str, values: Mapping[str, str | None]) -> Call:
    body = {"purpose": purpose, "values": dict(values)}
    return Call("PATCH", f"{PREFIX}/customers/{customer}", json=body)


def delete_customer(customer: str, purpose: str) -> Call:
    return Call("DELETE", f"{PREFIX}/customers/{customer}", {"purpose": purpose})


def explain(
    purpose: str,
    fields: Sequence[str],
    action: str,
    recipient: str | None,
    customers: int,
    principal: str | None,
) -> Call:
    body: dict[str, Any] = {
        "purpose": purpose,
        "fields": list(fields),
        "action": action,
        "customers": customers,
    }
    if recipient is not None:
        body["recipient"] = recipient
    if principal is not None:
        body["principal"] = principal
    return Call("POST", f"{PREFIX}/policy/explain", json=body)


def consent(customer: str, change: str, body: Mapping[str, Any] | None = None) -> Call:
    base = f"{PREFIX}/customers/{customer}/consent"
    paths = {
        "show": ("GET", base),
        "proof": ("GET", f"{base}/proof"),
        "grant": ("POST", f"{base}/grant"),
        "withdraw": ("POST", f"{base}/withdraw"),
        "object": ("POST", f"{base}/objections"),
        "restrict": ("POST", f"{base}/restriction"),
        "lift_restriction": ("DELETE", f"{base}/restriction"),
    }
    method, path = paths[change]
    return Call(method, path, json=None if body is None else dict(body))


def drop_none(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def verify_audit() -> Call:
    return Call("GET", f"{PREFIX}/audit/verify")


def scan(
    content: str | bytes,
    name: str,
    recipient: str | None,
    external: str | None,
    purpose: str | None,
    match: bool,
) -> Call:
    """Text goes as JSON; bytes (a file) as a multipart upload."""
    fields = drop_none(recipient=recipient, external=external, purpose=purpose)
    if isinstance(content, str):
        return Call(
            "POST", f"{PREFIX}/scan", json={"text": content, "name": name, "match": match, **fields}
        )
    form = {**fields, "match": "true" if match else "false"}
    return Call("POST", f"{PREFIX}/scan", data=form, files={"file": (name, content)})
