"""The one exception hierarchy of privault: every error it raises on purpose is here.

    PrivaultError                 every error privault raises on purpose
    ├── ConfigError               settings, key files, policy or catalog files are wrong
    ├── InvalidInput              a caller sent something malformed (4xx)
    │   ├── UnknownKey            a taxonomy, field, purpose, role... key that does not exist
    │   └── RecordRejected        some values of a customer record are invalid (which, why)
    ├── Unauthenticated           no API key, or one that is malformed or revoked (401)
    ├── NotFound                  the thing asked for does not exist (404)
    ├── Conflict                  it exists already, or was changed concurrently (409)
    ├── CryptoError               key material unavailable or unusable
    │   └── DecryptionError       opaque: tampered, moved, or wrong key, never says which
    ├── AccessDenied              a policy decision said no; carries the decision (403)
    │   └── AdminRequired         only the compliance team may do this (policy.roles)
    ├── BodyTooLarge              a request body over the server's limit (413)
    ├── RequestTimeout            a request ran past its time limit, nothing returned (504)
    ├── InvalidLinkError          a preference-centre link was altered or malformed (403)
    │   └── ExpiredLinkError      ... or is genuine but expired (410)
    ├── InvalidTransition         a state machine was asked for a move it does not allow
    └── StoreError                the database could not do what was needed (fail closed)
        └── AuditUnavailable      the audit entry could not be written, so nothing proceeds

Every error carries a stable machine ``code`` and an English message *template*
(a gettext msgid) with parameters, so that the delivery layer can render it in the
caller's language.  Parameters must never contain customer data: identifiers,
counts, field names and line numbers only.  No web imports here (STYLE.md #3), and
nothing heavier than the standard library at import time: the client SDK loads this
module and nothing else of the server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from privault.i18n import Language

__all__ = [
    "N_",
    "AccessDenied",
    "AdminRequired",
    "AuditUnavailable",
    "BodyTooLarge",
    "ConfigError",
    "Conflict",
    "CryptoError",
    "DecryptionError",
    "ExpiredLinkError",
    "FieldProblem",
    "InvalidInput",
    "InvalidLinkError",
    "InvalidTransition",
    "NotFound",
    "PrivaultError",
    "RecordRejected",
    "RequestTimeout",
    "StoreError",
    "Unauthenticated",
    "UnknownKey",
]


def N_(message: str) -> str:
    """Mark a message for translation without translating it (gettext convention)."""
    return message


class PrivaultError(Exception):
    """Base class.  ``template`` is an English gettext msgid with ``%(name)s`` fields."""

    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 500

    def __init__(self, template: str, /, **params: Any) -> None:
        self.template = template
        self.params: Mapping[str, Any] = params
        super().__init__(self.render(template))

    def render(self, template: str) -> str:
        try:
            return template % self.params if self.params else template
        except (KeyError, ValueError, TypeError):
            return template

    def localized(self, lang: str) -> str:
        """The message in ``lang`` (en, cs, ur), falling back to English."""
        from privault.i18n import translator  # late: errors must stay import-light

        return self.render(translator(lang).gettext(self.template))


class ConfigError(PrivaultError):
    code = "config_error"
    http_status = 500


class InvalidInput(PrivaultError):
    code = "invalid_input"
    http_status = 422


class UnknownKey(InvalidInput):
    code = "unknown_key"


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """Why one value was rejected: the field and a message that never repeats the value."""

    field: str
    message: str


class RecordRejected(InvalidInput):
    """Some values of a record are invalid; ``problems`` says which and why."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            N_("The record has %(count)s invalid value(s): %(details)s"),
            count=len(self.problems),
            details="; ".join(f"{p.field}: {p.message}" for p in self.problems),
        )

    def __reduce__(self) -> tuple[type[RecordRejected], tuple[tuple[FieldProblem, ...]]]:
        # Raised in import worker processes: it must cross back to the parent intact.
        return (type(self), (self.problems,))


class Unauthenticated(PrivaultError):
    code = "unauthenticated"
    http_status = 401


class NotFound(PrivaultError):
    code = "not_found"
    http_status = 404


class Conflict(PrivaultError):
    code = "conflict"
    http_status = 409


class CryptoError(PrivaultError):
    code = "crypto_error"
    http_status = 500


class DecryptionError(CryptoError):
    """Raised for every decryption failure, whatever the cause, with the same message."""

    code = "decryption_failed"

    def __init__(self) -> None:
        super().__init__(N_("The value could not be decrypted."))


class AccessDenied(PrivaultError):
    """A decision said no.  ``decision`` is the policy engine's Decision object."""

    code = "access_denied"
    http_status = 403

    def __init__(self, decision: object, template: str | None = None, /, **params: Any) -> None:
        self.decision = decision
        super().__init__(template or N_("Access denied by policy."), **params)


class BodyTooLarge(PrivaultError):
    """A request body over the server's limit (413)."""

    code = "payload_too_large"
    http_status = 413


class RequestTimeout(PrivaultError):
    """A request ran past its time limit; nothing was returned (504)."""

    code = "timeout"
    http_status = 504


class AdminRequired(AccessDenied):
    """Only the compliance team may do this (``privault.policy.roles``): an action that
    states no purpose, so no per-field decision can allow it."""

    code = "admin_required"

    def __init__(self, purpose: str) -> None:
        super().__init__(
            None,
            N_(
                "Only the compliance team (a role granted '%(purpose)s') may do this. "
                "Ask them to do it for you."
            ),
            purpose=purpose,
        )


class InvalidLinkError(PrivaultError):
    """An altered or malformed link.  ``lang`` is the language written in the link, if any
    could be read: the refusal page uses it, else the browser's preference."""

    code = "link_invalid"
    http_status = 403

    def __init__(self, lang: Language | None, template: str | None = None) -> None:
        self.lang = lang
        super().__init__(template or N_("This link is not valid."))


class ExpiredLinkError(InvalidLinkError):
    code = "link_expired"
    http_status = 410

    def __init__(self, lang: Language) -> None:
        super().__init__(lang, N_("This link has expired."))


class InvalidTransition(PrivaultError):
    code = "invalid_transition"
    http_status = 409


class StoreError(PrivaultError):
    code = "store_error"
    http_status = 503


class AuditUnavailable(StoreError):
    """The audit trail could not be written: the operation fails and returns no data."""

    code = "audit_unavailable"

    def __init__(self, template: str | None = None, /, **params: Any) -> None:
        default = N_("The audit trail cannot be written, so the operation was not performed.")
        super().__init__(template or default, **params)
