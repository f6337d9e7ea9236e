"""Policy test cases in YAML: a request (and maybe one customer's facts) -> expected outcome.

Policy authors pin what their policy must do, the way code is pinned by unit tests::

    cases:
      - name: S1 marketing reaches only customers who agreed
        request: {principal: ayesha.khan, purpose: marketing.communications.email,
                  action: export, fields: [email]}
        customer: {consents: [marketing]}          # optional: decide for one customer
        expect:
          effect: conditional                      # allow | conditional | partial | deny
          codes: [consent_required, objected, restricted]   # exact set, optional
          rules: [R6]                              # exact set, optional
          views: {email: plain}                    # per field; "refused" for a denial
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from privault.documents import load_yaml_model
from privault.policy.decision import Decision, Effect
from privault.policy.engine import PolicyEngine
from privault.policy.request import Action, CustomerFacts, Request


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Request(_Strict):
    principal: str
    purpose: str
    fields: list[str] = Field(min_length=1)
    action: Action = "read"
    recipient: str | None = None
    customers: int = Field(default=1, ge=0)
    approved: bool = False
    roles: list[str] = []


class _Customer(_Strict):
    consents: list[str] = []
    sharing: list[str] = []
    objections: list[str] = []
    restricted: bool = False


class _Expect(_Strict):
    effect: Effect
    codes: list[str] | None = None
    rules: list[str] | None = None
    views: dict[str, Literal["plain", "masked", "tokenized", "refused"]] = {}


class _Case(_Strict):
    name: str
    description: str = ""
    request: _Request
    customer: _Customer | None = None
    expect: _Expect


class _CasesFile(_Strict):
    cases: list[_Case] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class PolicyCase:
    name: str
    request: Request
    facts: CustomerFacts | None
    effect: Effect
    codes: frozenset[str] | None
    rules: frozenset[str] | None
    views: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: PolicyCase
    decision: Decision
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems


def load_cases(path: Path) -> tuple[PolicyCase, ...]:
    model = load_yaml_model(path, _CasesFile)
    cases = []
    for item in model.cases:
        r = item.request
        facts = (
            CustomerFacts(
                frozenset(item.customer.consents),
                frozenset(item.customer.sharing),
                frozenset(item.customer.objections),
                item.customer.restricted,
            )
            if item.customer is not None
            else None
        )
        cases.append(
            PolicyCase(
                item.name,
                Request(
                    r.principal,
                    r.purpose,
                    tuple(r.fields),
                    r.action,
                    r.recipient,
                    r.customers,
                    r.approved,
                    tuple(r.roles),
                ),
                facts,
                item.expect.effect,
                frozenset(item.expect.codes) if item.expect.codes is not None else None,
                frozenset(item.expect.rules) if item.expect.rules is not None else None,
                tuple(item.expect.views.items()),
            )
        )
    return tuple(cases)


def check_case(engine: PolicyEngine, case: PolicyCase) -> CaseResult:
    """Decide the case's request and list every way the outcome differs from the expected."""
    decision = engine.decide(case.request, case.facts)
    problems: list[str] = []
    if decision.effect != case.effect:
        problems.append(f"effect: expected {case.effect}, got {decision.effect}")
    if case.codes is not None and decision.codes != case.codes:
        problems.append(f"codes: expected {sorted(case.codes)}, got {sorted(decision.codes)}")
    if case.rules is not None and decision.rules != case.rules:
        problems.append(f"rules: expected {sorted(case.rules)}, got {sorted(decision.rules)}")
    for name, expected in case.views:
        try:
            item = decision.field(name)
        except KeyError:
            problems.append(f"views: field {name} was not requested")
            continue
        got = item.view if item.allowed and item.view is not None else "refused"
        if got != expected:
            problems.append(f"views: {name} expected {expected}, got {got}")
    return CaseResult(case, decision, tuple(problems))


def run_cases(engine: PolicyEngine, path: Path) -> tuple[CaseResult, ...]:
    return tuple(check_case(engine, case) for case in load_cases(path))
