"""``store.db.reads``: reads outside a transaction, and a connection that goes back to
the pool transactional again."""

from __future__ import annotations

from sqlalchemy import text

from privault.settings import Settings
from privault.store import make_engine
from privault.store.db import reads


def test_reads_open_no_transaction_and_leave_none_behind(settings: Settings) -> None:
    engine = make_engine(settings.model_copy(update={"database_pool_size": 1}))
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE probe (n INTEGER)"))
        with reads(engine) as connection:
            assert connection.execute(text("SELECT count(*) FROM probe")).scalar_one() == 0
            driver = connection.connection.driver_connection
            if engine.dialect.name == "postgresql":
                assert driver.info.transaction_status.name == "IDLE"  # type: ignore[union-attr]
            else:
                assert not driver.in_transaction  # type: ignore[union-attr]
        # The one pooled connection is transactional again: a rollback undoes a write.
        with engine.connect() as connection:
            connection.execute(text("INSERT INTO probe VALUES (1)"))
            connection.rollback()
            assert connection.execute(text("SELECT count(*) FROM probe")).scalar_one() == 0
    finally:
        engine.dispose()
