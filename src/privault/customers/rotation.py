"""Master key rotation: a new version wraps every data key; old versions can then retire.

The store stays usable throughout: rows are re-wrapped in small transactions, and a
data key wrapped by any version still known to the keyring opens.  Field ciphertexts
do not change -- only the few bytes of each wrapped data key do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, func, select, update

from privault.audit import AuditEntry, AuditLog, Kind, Outcome
from privault.clock import Clock
from privault.crypto import KeyProvider, Keyring, open_keyring
from privault.errors import N_, Conflict
from privault.store.db import long_writes, session_scope
from privault.store.tables import Customer, table_of

CUSTOMERS = table_of(Customer)
BATCH = 1000


@dataclass(frozen=True, slots=True)
class RotationReport:
    new_version: int
    rewrapped: int
    remaining_by_version: dict[int, int]


def keys_by_version(engine: Engine) -> dict[int, int]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(CUSTOMERS.c.key_version, func.count())
            .where(CUSTOMERS.c.key_version.is_not(None))
            .group_by(CUSTOMERS.c.key_version)
        ).all()
    return {int(version): int(count) for version, count in rows}


def rewrap_all(
    engine: Engine, keyring: Keyring, progress: Callable[[int], None] | None = None
) -> int:
    """Re-wrap every data key not yet under the keyring's active version."""
    with long_writes(engine):
        return _rewrap(engine, keyring, progress)


def _rewrap(engine: Engine, keyring: Keyring, progress: Callable[[int], None] | None) -> int:
    active = keyring.active_version
    done = 0
    last_id = ""
    while True:
        with session_scope(engine) as session:
            rows = session.execute(
                select(CUSTOMERS.c.id, CUSTOMERS.c.wrapped_key)
                .where(
                    CUSTOMERS.c.wrapped_key.is_not(None),
                    CUSTOMERS.c.key_version != active,
                    CUSTOMERS.c.id > last_id,
                )
                .order_by(CUSTOMERS.c.id)
                .limit(BATCH)
            ).all()
            if not rows:
                return done
            for customer_id, wrapped in rows:
                # Only rows still holding the key we read are updated: a concurrent
                # erasure (wrapped_key set to NULL) is never undone by rotation.
                session.execute(
                    update(CUSTOMERS)
                    .where(CUSTOMERS.c.id == customer_id, CUSTOMERS.c.wrapped_key == wrapped)
                    .values(wrapped_key=keyring.rewrap(customer_id, wrapped), key_version=active)
                )
            last_id = rows[-1].id
            done += len(rows)
        if progress is not None:
            progress(len(rows))


def _record(audit: AuditLog, clock: Clock, actor: str, action: str, counts: dict[str, int]) -> None:
    audit.record(
        AuditEntry(
            at=clock.now(),
            kind=Kind.KEY,
            action=action,
            principal=actor,
            outcome=Outcome.SUCCEEDED,
            counts=counts,
        )
    )


def rotate(
    engine: Engine,
    provider: KeyProvider,
    progress: Callable[[int], None] | None = None,
    *,
    audit: AuditLog,
    clock: Clock,
    actor: str,
) -> RotationReport:
    """Rotate and record it in the audit trail (a key change, DESIGN.md §6)."""
    version = provider.add_master_version()
    keyring = open_keyring(provider)
    count = rewrap_all(engine, keyring, progress)
    _record(audit, clock, actor, "key.rotate", {"version": version, "rewrapped": count})
    return RotationReport(version, count, keys_by_version(engine))


def retire(
    engine: Engine,
    provider: KeyProvider,
    version: int,
    *,
    audit: AuditLog,
    clock: Clock,
    actor: str,
) -> None:
    """Remove an old master key version, but only once no data key depends on it."""
    still = keys_by_version(engine).get(version, 0)
    if still:
        raise Conflict(
            N_(
                "%(count)s data keys are still wrapped by master key version %(version)s; "
                "run 'privault keys rotate' first."
            ),
            count=still,
            version=version,
        )
    provider.retire_master_version(version)
    _record(audit, clock, actor, "key.retire", {"version": version})
