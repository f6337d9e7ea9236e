"""A statement of an API request does not outlive the request (PostgreSQL).

When a request hits its time limit the API answers 504 and drops the thread's result,
but the thread's query would run on in the database (a 1,000,000-customer export
summary once ran for 18 minutes after its 504).  ``statement_timeout_seconds`` makes
PostgreSQL cancel it; the API sets it to its request time limit.
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from privault.access.reads import REQUEST_TIMEOUT_SECONDS
from privault.runtime import Vault
from privault.settings import Settings
from privault.store import make_engine


def test_long_statements_are_cancelled(settings: Settings) -> None:
    engine = make_engine(settings.model_copy(update={"statement_timeout_seconds": 0.3}))
    try:
        with engine.connect() as connection:
            if engine.dialect.name != "postgresql":
                # SQLite runs in-process: there is no server-side statement to cancel,
                # and the setting changes nothing.
                assert connection.exec_driver_sql("SELECT 1").scalar_one() == 1
                return
            with pytest.raises(OperationalError, match="statement timeout"):
                connection.exec_driver_sql("SELECT pg_sleep(3)")
        with engine.connect() as connection:  # the pooled connection keeps the limit
            limit = connection.exec_driver_sql("SHOW statement_timeout").scalar_one()
            assert limit == "300ms"
            assert connection.exec_driver_sql("SELECT 1").scalar_one() == 1
    finally:
        engine.dispose()


def test_the_api_limits_statements_to_its_request_time(api_vault: Vault) -> None:
    assert api_vault.settings.statement_timeout_seconds == REQUEST_TIMEOUT_SECONDS
    if api_vault.engine.dialect.name == "postgresql":
        with api_vault.engine.connect() as connection:
            limit = connection.exec_driver_sql("SHOW statement_timeout").scalar_one()
        assert limit == f"{int(REQUEST_TIMEOUT_SECONDS)}s"
