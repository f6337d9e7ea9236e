"""What the client returns: small frozen values, built from the API's JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Summary:
    effect: str
    policy: str
    views: Mapping[str, str]
    denied: Mapping[str, tuple[str, ...]]
    included: int = 1
    excluded: Mapping[str, int] = field(default_factory=dict)
    audit_seq: int = 0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Summary:
        return cls(
            effect=str(data["effect"]),
            policy=str(data["policy"]),
            views=dict(data["views"]),
            denied={k: tuple(v) for k, v in data["denied"].items()},
            included=int(data["included"]),
            excluded={k: int(v) for k, v in data["excluded"].items()},
            audit_seq=int(data["audit_seq"]),
        )

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> Summary:
        return cls(
            effect=headers.get("x-privault-effect", ""),
            policy=headers.get("x-privault-policy", ""),
            views=json.loads(headers.get("x-privault-views", "{}")),
            denied={
                k: tuple(v) for k, v in json.loads(headers.get("x-privault-denied", "{}")).items()
            },
            included=int(headers.get("x-privault-included", "0")),
            excluded=json.loads(headers.get("x-privault-excluded", "{}")),
            audit_seq=int(headers.get("x-privault-audit-seq", "0")),
        )


@dataclass(frozen=True, slots=True)
class Record:
    """One customer: the public id and each released field in its view."""

    customer: str
    values: Mapping[str, str | None]
    summary: Summary | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Record:
        return cls(str(data["customer"]), dict(data["values"]), Summary.from_json(data["summary"]))


@dataclass(frozen=True, slots=True)
class Explanation:
    decision: Mapping[str, Any]
    explanation: Mapping[str, Any]

    @property
    def effect(self) -> str:
        return str(self.decision["effect"])

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(self.decision["codes"])

    def text(self) -> str:
        lines = [self.explanation["request"], self.explanation["summary"]]
        for item in self.explanation["fields"]:
            lines.append(f"  {item['headline']}")
            lines.extend(f"    - {reason}" for reason in item["reasons"])
        return "\n".join(str(line) for line in lines)


@dataclass(frozen=True, slots=True)
class ScanResult:
    """A scan's verdict: ``decision`` is allow, redact (part may go: ``narrow``) or block;
    ``data`` is the whole report (``privault scan --json``), with no scanned value in it."""

    data: Mapping[str, Any]

    @property
    def decision(self) -> str:
        return str(self.data["verdict"]["decision"])

    @property
    def customers(self) -> int:
        """How many of our customers the text holds (identifying matches only)."""
        return int(self.data["our_customers"]["customers"])

    @property
    def narrow(self) -> Mapping[str, Any] | None:
        narrow: Mapping[str, Any] | None = self.data["verdict"]["narrow"]
        return narrow

    @property
    def codes(self) -> frozenset[str]:
        verdict = self.data["verdict"]
        found = {r["code"] for r in verdict["reasons"]}
        found |= {code for c in verdict["customers"] for code in c["deny"].values()}
        return frozenset(found)
