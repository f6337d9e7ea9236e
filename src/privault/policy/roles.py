"""Who is the compliance team: one rule, for the API, the CLI and the detectors.

The compliance team are the **internal** principals with a role that is granted the
purpose ``essential.legal_obligation`` (or a parent of it).  They -- and no one else --
do what states no purpose of its own and so cannot be a per-field decision: change
consents on a customer's behalf, manage principals and keys, verify the audit trail,
explain decisions for other principals, reveal an anonymous incident reporter, and
change keys or policy without raising an incident.  External principals never count,
whatever their roles say.
"""

from __future__ import annotations

from typing import Final

from privault.catalog.taxonomy import covers
from privault.errors import AdminRequired
from privault.policy.model import Policy

COMPLIANCE_PURPOSE: Final = "essential.legal_obligation"


def is_compliance(policy: Policy, principal: str) -> bool:
    """Whether ``principal`` is in the compliance team under ``policy``."""
    spec = policy.principals.get(principal)
    if spec is None or not spec.internal:
        return False
    for name in spec.roles:
        role = policy.roles.get(name)
        if role is not None and any(covers(p, COMPLIANCE_PURPOSE) for p in role.purposes):
            return True
    return False


def compliance_principals(policy: Policy) -> frozenset[str]:
    """Every principal of the compliance team under ``policy``."""
    return frozenset(name for name in policy.principals if is_compliance(policy, name))


def require_compliance(policy: Policy, principal: str) -> None:
    """``AdminRequired`` (403) unless ``principal`` is in the compliance team."""
    if not is_compliance(policy, principal):
        raise AdminRequired(COMPLIANCE_PURPOSE)
