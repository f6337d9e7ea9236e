"""Who acts, and for whom: the actor and ``on_behalf_of`` stamped on audit entries.

A shell says once who acts (``acting(actor, on_behalf_of)``: the operator at the
terminal, ``cli:<user>``, maybe on behalf of a principal with ``privault --as NAME``);
every entry written by this thread or task meanwhile whose ``principal`` is not that
actor -- a decision for the ``--as`` principal, a consent recorded ``--by`` a clerk --
also records the actor (and ``on_behalf_of``) in ``details``, whichever service wrote
it.  Entries are stamped by the caller's own thread before they are queued for a group
commit, so a leader committing other callers' entries never stamps them with its own
actor.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Final

from privault.audit.entry import AuditEntry, DetailValue


@dataclass(frozen=True, slots=True)
class Acting:
    actor: str
    on_behalf_of: str | None = None


_ACTING: Final[ContextVar[Acting | None]] = ContextVar("privault_acting", default=None)


@contextmanager
def acting(actor: str, on_behalf_of: str | None = None) -> Iterator[Acting]:
    """Within the block, entries record ``actor`` (and ``on_behalf_of``, if given)."""
    current = Acting(actor, on_behalf_of)
    token = _ACTING.set(current)
    try:
        yield current
    finally:
        _ACTING.reset(token)


def stamped(entry: AuditEntry) -> AuditEntry:
    """``entry`` with the current actor in its details (unchanged outside ``acting``)."""
    current = _ACTING.get()
    if current is None or (current.on_behalf_of is None and entry.principal == current.actor):
        return entry
    details: dict[str, DetailValue] = {**entry.details, "actor": current.actor}
    if current.on_behalf_of is not None:
        details["on_behalf_of"] = current.on_behalf_of
    return replace(entry, details=details)


def actor_of(entry_json: dict[str, object]) -> tuple[str, str | None]:
    """(actor, on_behalf_of) of an entry as ``AuditEntry.as_json`` gives it."""
    details = entry_json.get("details")
    principal = str(entry_json.get("principal", ""))
    if isinstance(details, dict) and isinstance(details.get("actor"), str):
        behalf = details.get("on_behalf_of")
        return str(details["actor"]), str(behalf) if isinstance(behalf, str) else None
    return principal, None
