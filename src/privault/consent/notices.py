"""Privacy notices: versioned texts in en/cs/ur that name the purposes a customer is
asked about.  A new text is a new version of its key; old versions stay, because a
decision is proved with the version the customer was shown (Art. 7(1))."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, and_, func, insert, select

from privault.audit import Kind
from privault.catalog.taxonomy import Taxonomy, covers
from privault.clock import Clock
from privault.consent.filters import NOTICES
from privault.consent.schemas import Notice, NoticeDraft
from privault.consent.trail import ConsentTrail
from privault.consent.validation import check_actor, check_purpose
from privault.errors import N_, NotFound
from privault.store.db import session_scope


def notice_of(row: Any) -> Notice:
    return Notice(
        id=row.id,
        key=row.key,
        version=row.version,
        purposes=tuple(row.purposes.split()),
        recipient=row.recipient or None,
        titles={"en": row.title_en, "cs": row.title_cs, "ur": row.title_ur},
        texts={"en": row.text_en, "cs": row.text_cs, "ur": row.text_ur},
        expiry_months=row.expiry_months,
        created_at=row.created_at,
        created_by=row.created_by,
    )


class Notices:
    """Adding a notice version, and finding the one a request or a page shows."""

    def __init__(
        self, engine: Engine, taxonomy: Taxonomy, clock: Clock, trail: ConsentTrail
    ) -> None:
        self.engine = engine
        self.taxonomy = taxonomy
        self.clock = clock
        self.trail = trail

    def add_notice(self, draft: NoticeDraft, *, created_by: str) -> Notice:
        """A new version of notice ``draft.key`` (version 1 for a new key)."""
        created_by = check_actor(created_by)
        for purpose in draft.purposes:
            check_purpose(self.taxonomy, purpose, draft.recipient)
        now = self.clock.now()
        with session_scope(self.engine) as session:
            self.trail.record(
                session,
                "notice",
                created_by,
                purpose=draft.purposes[0],
                recipient=draft.recipient,
                kind=Kind.POLICY,
            )
            latest = session.execute(
                select(func.max(NOTICES.c.version)).where(NOTICES.c.key == draft.key)
            ).scalar_one()
            version = int(latest or 0) + 1
            row = session.execute(
                insert(NOTICES)
                .values(
                    key=draft.key,
                    version=version,
                    purposes=" ".join(draft.purposes),
                    recipient=draft.recipient or "",
                    title_en=draft.title.en,
                    title_cs=draft.title.cs,
                    title_ur=draft.title.ur,
                    text_en=draft.text.en,
                    text_cs=draft.text.cs,
                    text_ur=draft.text.ur,
                    expiry_months=draft.expiry_months,
                    created_at=now,
                    created_by=created_by,
                )
                .returning(*NOTICES.c)
            ).one()
        return notice_of(row)

    def notices(self, *, current_only: bool = True) -> list[Notice]:
        """Every notice version, or only the latest version of each key."""
        query = select(NOTICES).order_by(NOTICES.c.key, NOTICES.c.version)
        if current_only:
            newest = (
                select(NOTICES.c.key, func.max(NOTICES.c.version).label("version"))
                .group_by(NOTICES.c.key)
                .subquery()
            )
            query = query.join(
                newest, and_(newest.c.key == NOTICES.c.key, newest.c.version == NOTICES.c.version)
            )
        with self.engine.connect() as connection:
            return [notice_of(r) for r in connection.execute(query)]

    def notice(self, key: str, version: int | None = None) -> Notice:
        """Notice ``key`` at ``version`` (default: the latest)."""
        query = select(NOTICES).where(NOTICES.c.key == key)
        query = (
            query.where(NOTICES.c.version == version)
            if version is not None
            else query.order_by(NOTICES.c.version.desc()).limit(1)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            raise NotFound(
                N_("No notice '%(key)s' (version %(version)s)."),
                key=key,
                version=version if version is not None else "latest",
            )
        return notice_of(row)

    def notice_by_id(self, notice_id: int) -> Notice:
        with self.engine.connect() as connection:
            row = connection.execute(select(NOTICES).where(NOTICES.c.id == notice_id)).first()
        if row is None:
            raise NotFound(N_("No notice with id %(id)s."), id=notice_id)
        return notice_of(row)

    def notice_for(self, purpose: str, recipient: str | None = None) -> Notice:
        """The latest notice covering ``purpose`` for ``recipient`` (what a request shows)."""
        wanted = recipient or None
        candidates = [n for n in self.notices() if n.covers(purpose) and n.recipient == wanted]
        if not candidates:
            raise NotFound(
                N_("No notice covers '%(purpose)s'; add one with 'privault consent notice add'."),
                purpose=purpose,
            )
        # The most specific notice: its nearest purpose to the asked one.
        return max(
            candidates,
            key=lambda n: (
                max(len(p) for p in n.purposes if covers(p, purpose)),
                n.created_at,
                n.id,
            ),
        )
