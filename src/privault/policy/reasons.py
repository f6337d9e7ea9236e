"""Reason codes, the rule each one enforces, and the English message for each.

A reason is what a decision says instead of data: a stable machine ``code``, the rule
of DESIGN.md §1 it enforces, an English gettext msgid, and parameters that are names
only (principal, purpose, field, recipient keys, counts) -- never customer values.
Messages name the rule and the lawful way forward, so a refusal is also advice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from privault.errors import N_

Rule = Literal["R2", "R3", "R4", "R5", "R6"]

ReasonCode = Literal[
    "unknown_principal",
    "unknown_role",
    "unknown_purpose",
    "unknown_action",
    "unknown_field",
    "unknown_recipient",
    "denied_by_rule",
    "not_authorised",
    "action_not_authorised",
    "no_business_need",
    "no_view",
    "recipient_not_authorised",
    "recipient_no_business_need",
    "consent_required",
    "sharing_consent_required",
    "objected",
    "restricted",
    "approval_required",
    "transfer_mechanism_missing",
]

RULE_OF: Final[Mapping[str, Rule]] = {
    "unknown_principal": "R5",
    "unknown_role": "R5",
    "unknown_purpose": "R5",
    "unknown_action": "R5",
    "unknown_field": "R5",
    "unknown_recipient": "R5",
    "denied_by_rule": "R6",
    "not_authorised": "R3",
    "action_not_authorised": "R3",
    "no_business_need": "R3",
    "no_view": "R3",
    "recipient_not_authorised": "R3",
    "recipient_no_business_need": "R3",
    "consent_required": "R6",
    "sharing_consent_required": "R4",
    "objected": "R6",
    "restricted": "R6",
    "approval_required": "R2",
    "transfer_mechanism_missing": "R6",
}

MESSAGES: Final[Mapping[str, str]] = {
    "unknown_principal": N_(
        "Rule R5: '%(principal)s' is not a principal known to the policy, so nothing is "
        "released. Ask the privacy team to add them with the roles their work needs."
    ),
    "unknown_role": N_(
        "Rule R5: the role '%(role)s' is not defined for this principal, so it grants "
        "nothing. Act in one of your own roles, or ask the privacy team for this one."
    ),
    "unknown_purpose": N_(
        "Rule R5: the purpose '%(purpose)s' is not declared in the policy, so no customer "
        "data may be used for it. State a declared purpose, or ask the privacy team to "
        "declare this one with its lawful basis."
    ),
    "unknown_action": N_(
        "Rule R5: '%(action)s' is not an action the policy knows. Use read, export, share, "
        "write or delete."
    ),
    "unknown_field": N_(
        "Rule R5: the field '%(field)s' is not in the catalog, and unknown data is treated "
        "as confidential. Check the field name, or ask the privacy team to register the field."
    ),
    "unknown_recipient": N_(
        "Rule R5: '%(recipient)s' is neither a known principal nor a registered recipient, "
        "so nothing may be handed to them. Name a recipient the policy knows."
    ),
    "denied_by_rule": N_(
        "Rule R6: the company's privacy policy forbids this explicitly (rule "
        "'%(rule_name)s'). No role can override it; talk to the privacy team if you believe "
        "the rule is wrong."
    ),
    "not_authorised": N_(
        "Rule R3: none of your roles is granted the purpose '%(purpose)s', so you may not "
        "use customer data for it, however long you have been with the company and whoever "
        "asks. If the work is needed, hand the request to a team whose role is granted this "
        "purpose, or ask the privacy team for such a role."
    ),
    "action_not_authorised": N_(
        "Rule R3: your roles are granted the purpose '%(purpose)s', but not the action "
        "'%(action)s'. Use an action your role allows, or ask for a role that grants this one."
    ),
    "no_business_need": N_(
        "Rule R3: the purpose '%(purpose)s' does not need the field '%(field)s' "
        "(%(category)s), so there is no need to know. Ask only for the data this purpose needs."
    ),
    "no_view": N_(
        "Rule R3: your roles granted the purpose '%(purpose)s' do not cover the field "
        "'%(field)s' (%(category)s). Ask for a role that includes this data, if your work "
        "really needs it."
    ),
    "recipient_not_authorised": N_(
        "Rule R3: '%(recipient)s' has no role granted the purpose '%(purpose)s', so the data "
        "may not be handed to them, not even inside the company. They should ask the team "
        "that owns this purpose, which works under the same rules."
    ),
    "recipient_no_business_need": N_(
        "Rule R3: '%(recipient)s' has no need to know the field '%(field)s' (%(category)s) "
        "for the purpose '%(purpose)s'. Hand over only what the recipient's role covers."
    ),
    "consent_required": N_(
        "Rule R6: customers gave us '%(field)s' for '%(collected)s'; using it for "
        "'%(purpose)s' needs their consent first. Ask them for consent through the "
        "preference centre. Only customers who agreed can be reached, and only by a role "
        "granted this purpose."
    ),
    "consent_basis": N_(
        "Rule R6: the purpose '%(purpose)s' rests on consent, so '%(field)s' may be used "
        "only for customers who agreed to it. Ask the others for consent through the "
        "preference centre; only a role granted this purpose may reach them."
    ),
    "sharing_consent_required": N_(
        "Rule R4: customer data leaves the company only with the customer's consent to "
        "share it with '%(recipient)s'. Only customers who agreed are included; the others "
        "can be asked through the preference centre."
    ),
    "objected": N_(
        "Rule R6: customers who objected to '%(purpose)s' (GDPR Art. 21) are left out. "
        "Respect the objection; only the customer can withdraw it."
    ),
    "restricted": N_(
        "Rule R6: customers who asked for their data to be restricted (GDPR Art. 18) are "
        "left out until the restriction is lifted."
    ),
    "approval_required": N_(
        "Rule R2: this request touches %(count)s customers, more than the %(limit)s your "
        "role may handle without approval. Ask the data owner for approval, or narrow the "
        "request."
    ),
    "transfer_mechanism_missing": N_(
        "Rule R6: '%(recipient)s' receives data in %(country)s, outside the EEA and without "
        "an adequacy decision, and the policy records no transfer tool (standard contractual "
        "clauses, binding corporate rules) for it (GDPR Chapter V). Ask the privacy team to "
        "put one in place before any customer data goes there."
    ),
}


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a field (or the whole request) was refused or made conditional."""

    code: ReasonCode
    rule: Rule
    message: str
    params: tuple[tuple[str, str], ...] = ()

    def render(self, lang: str = "en") -> str:
        """The message in ``lang`` (en, cs, ur) with its parameters filled in."""
        from privault.i18n import translator  # late: keeps the engine import-light

        template = translator(lang).gettext(self.message)
        try:
            return template % dict(self.params)
        except (KeyError, ValueError, TypeError):
            return template

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "rule": self.rule, "params": dict(self.params)}


def reason(code: ReasonCode, *, message: str | None = None, **params: str) -> Reason:
    """Build a reason with its rule and message looked up; parameters are names only."""
    return Reason(
        code,
        RULE_OF[code],
        message if message is not None else MESSAGES[code],
        tuple(sorted(params.items())),
    )
