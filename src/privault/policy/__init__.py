"""The policy engine: policy as YAML in, explained decisions out (rules R3-R6).

Pure: no database, no web.  Typical use::

    engine = load_engine(settings.policy_path)           # or compile_policy(load_policy(p))
    decision = engine.decide(Request("ayesha.khan", "marketing.communications.email",
                                     ("email",), "export", customers=12_000))
    decision.field("email").condition      # -> Condition for the store's SQL filter
    engine.decide(request, CustomerFacts(consents=frozenset({"marketing"})))  # one customer
    engine.require(request)                # raises AccessDenied(decision) unless allowed
    explain(decision, "cs").text()         # the reasons in Czech
"""

from privault.policy.cases import CaseResult, PolicyCase, check_case, load_cases, run_cases
from privault.policy.decision import Decision, Effect, FieldDecision
from privault.policy.engine import PolicyEngine, compile_policy, load_engine
from privault.policy.explain import Explanation, FieldExplanation, explain
from privault.policy.loader import EXAMPLE_POLICY, EXAMPLE_TESTS, load_policy, policy_files
from privault.policy.model import (
    DenyRule,
    LawfulBasis,
    Policy,
    PrincipalSpec,
    PurposeSpec,
    RecipientSpec,
    RoleSpec,
)
from privault.policy.reasons import MESSAGES, RULE_OF, Reason, ReasonCode, Rule
from privault.policy.request import (
    ACTIONS,
    ALWAYS,
    VIEWS,
    Action,
    Condition,
    CustomerFacts,
    Request,
    View,
)

__all__ = [
    "ACTIONS",
    "ALWAYS",
    "EXAMPLE_POLICY",
    "EXAMPLE_TESTS",
    "MESSAGES",
    "RULE_OF",
    "VIEWS",
    "Action",
    "CaseResult",
    "Condition",
    "CustomerFacts",
    "Decision",
    "DenyRule",
    "Effect",
    "Explanation",
    "FieldDecision",
    "FieldExplanation",
    "LawfulBasis",
    "Policy",
    "PolicyCase",
    "PolicyEngine",
    "PrincipalSpec",
    "PurposeSpec",
    "Reason",
    "ReasonCode",
    "RecipientSpec",
    "Request",
    "RoleSpec",
    "Rule",
    "View",
    "check_case",
    "compile_policy",
    "explain",
    "load_cases",
    "load_engine",
    "load_policy",
    "policy_files",
    "run_cases",
]
