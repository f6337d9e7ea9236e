"""Problem responses back into ``privault.errors`` exceptions.

PrivaultError
├── InvalidInput        400, 413, 422 (``invalid_json``, ``invalid_request``...)
├── Unauthenticated     401
├── AccessDenied        403 -- ``.decision`` is a ``RemoteDecision`` with the codes
├── NotFound            404
├── Conflict            409
└── StoreError          5xx (``audit_unavailable``, ``timeout``...)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from privault.errors import (
    AccessDenied,
    Conflict,
    InvalidInput,
    NotFound,
    PrivaultError,
    StoreError,
    Unauthenticated,
)


@dataclass(frozen=True, slots=True)
class RemoteDecision:
    """What a refusal says about the decision: reason codes, rules, and the explanation
    (in the language asked for) -- never data."""

    codes: frozenset[str]
    rules: frozenset[str]
    policy: str
    explanation: dict[str, Any] = field(default_factory=dict)


def _error(status: int, code: str, detail: str) -> PrivaultError:
    if status == 401:
        return Unauthenticated(detail)
    if status == 404:
        return NotFound(detail)
    if status == 409:
        return Conflict(detail)
    if 400 <= status < 500:
        return InvalidInput(detail)
    return StoreError(detail)


def raise_for_problem(response: httpx.Response) -> None:
    """Raise the matching ``PrivaultError`` for a 4xx/5xx answer; ``problem`` and
    ``status`` are attached to it."""
    if response.status_code < 400:
        return
    try:
        problem = response.json()
        if not isinstance(problem, dict):
            raise ValueError
    except ValueError:
        problem = {"code": "http_error", "detail": f"HTTP {response.status_code}"}
    code = str(problem.get("code", "http_error"))
    detail = str(problem.get("detail", ""))
    # Escape '%' so that the detail is shown as sent, not used as a template.
    template = detail.replace("%", "%%")
    error: PrivaultError
    if response.status_code == 403:
        decision = RemoteDecision(
            codes=frozenset(problem.get("reasons", ())),
            rules=frozenset(problem.get("rules", ())),
            policy=str(problem.get("policy", "")),
            explanation=dict(problem.get("explanation") or {}),
        )
        error = AccessDenied(decision, template)
    else:
        error = _error(response.status_code, code, template)
    error.problem = problem  # type: ignore[attr-defined]
    error.status = response.status_code  # type: ignore[attr-defined]
    error.remote_code = code  # type: ignore[attr-defined]
    raise error
