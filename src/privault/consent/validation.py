"""What every consent write checks before it touches the database: a known purpose with
a recipient exactly when it is external sharing, a known channel, a named actor."""

from __future__ import annotations

from privault.catalog.taxonomy import Taxonomy, covers
from privault.consent.schemas import CHANNELS, SHARING, Channel
from privault.errors import N_, InvalidInput


def check_purpose(taxonomy: Taxonomy, purpose: str, recipient: str | None) -> str | None:
    """The purpose must be a known data use; sharing needs a recipient, nothing else may."""
    taxonomy.require_use(purpose)
    wanted = (recipient or "").strip() or None
    if covers(SHARING, purpose) and wanted is None:
        raise InvalidInput(
            N_("Consent to '%(purpose)s' is given per recipient; name the recipient."),
            purpose=purpose,
        )
    if not covers(SHARING, purpose) and wanted is not None:
        raise InvalidInput(
            N_("Only consent to external sharing names a recipient, not '%(purpose)s'."),
            purpose=purpose,
        )
    if wanted is not None and len(wanted) > 200:
        raise InvalidInput(N_("A recipient name is at most 200 characters."))
    return wanted


def check_channel(channel: str) -> Channel:
    if channel not in CHANNELS:
        raise InvalidInput(
            N_("Unknown channel '%(channel)s'; use web, phone, paper, api or import."),
            channel=channel,
        )
    return channel


def check_actor(actor: str) -> str:
    actor = actor.strip()
    if not actor or len(actor) > 200:
        raise InvalidInput(N_("Say who recorded this (1 to 200 characters)."))
    return actor
